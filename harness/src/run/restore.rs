//! The meter's settings as the run found them, and putting them back.

use crate::profile::{LineSettings, MeterSetting, SettingValue};
use crate::rig::meter_link::MeterLink;

#[derive(Debug, Clone, PartialEq)]
pub struct SettingsSnapshot {
    pub address: u8,
    pub line: Option<LineSettings>,
    pub values: Vec<(MeterSetting, SettingValue)>,
}

/// Settings that are read back and restored (commands, the password and the
/// test-mode preset are not settings one restores).
fn restorable(s: MeterSetting) -> bool {
    !s.is_command() && !matches!(s, MeterSetting::Password | MeterSetting::EnergyPreset)
}

pub async fn snapshot(link: &mut dyn MeterLink) -> Result<SettingsSnapshot, String> {
    let mut values = Vec::new();
    let settings: Vec<_> = link
        .profile()
        .settings
        .iter()
        .filter(|d| restorable(d.setting) && d.place.access.readable())
        .map(|d| d.setting)
        .collect();
    for s in settings {
        let v = link
            .read_setting(s)
            .await
            .map_err(|e| format!("reading {s}: {e}"))?;
        values.push((s, v));
    }
    Ok(SettingsSnapshot {
        address: link.address(),
        line: link.line(),
        values,
    })
}

fn is_comm(s: MeterSetting) -> bool {
    matches!(
        s,
        MeterSetting::Address | MeterSetting::Baud | MeterSetting::Framing
    )
}

/// Whether the meter answers on the link as it stands.
async fn answers(link: &mut dyn MeterLink) -> bool {
    let probe = link
        .profile()
        .settings
        .iter()
        .find(|d| is_comm(d.setting) && d.place.access.readable())
        .map(|d| d.setting);
    match probe {
        Some(s) => link.read_setting(s).await.is_ok(),
        None => true,
    }
}

/// Finds the meter when it no longer answers where the link expects it (a
/// run stopped between changing a line setting and reconnecting): tries the
/// snapshot's and the factory address on every line the profile offers.
async fn locate(link: &mut dyn MeterLink, snap: &SettingsSnapshot) -> Result<(), String> {
    if answers(link).await {
        return Ok(());
    }
    let profile = link.profile().clone();
    let Some(serial) = profile.serial.as_ref() else {
        return Err("the meter does not answer".into());
    };
    let mut addresses = vec![link.address(), snap.address, serial.address_default];
    addresses.dedup();
    let mut lines = vec![link.line(), snap.line];
    for baud in &serial.bauds {
        for framing in &serial.framings {
            lines.push(Some(LineSettings {
                baud: *baud,
                framing: *framing,
            }));
        }
    }
    let mut tried = Vec::new();
    for line in lines.into_iter().flatten() {
        for &address in &addresses {
            if tried.contains(&(address, line)) {
                continue;
            }
            tried.push((address, line));
            link.reconnect(address, Some(line))
                .await
                .map_err(|e| format!("reconnecting: {e}"))?;
            if answers(link).await {
                return Ok(());
            }
        }
    }
    Err(format!(
        "the meter answers on none of {} address and line combinations",
        tried.len()
    ))
}

/// Writes back every setting that differs, communication settings last (each
/// followed by a reconnect, so the next write is understood), and leaves the
/// link at the snapshot's address and line.
pub async fn restore(link: &mut dyn MeterLink, snap: &SettingsSnapshot) -> Result<String, String> {
    link.pace_line(false);
    locate(link, snap).await?;
    let comm = is_comm;
    let mut changed = Vec::new();
    // A dial in the meter's test mode leaves it when it ends; a run stopped
    // mid-dial (Ctrl-C, a rig fault) leaves it here, as it switches the source off.
    let mode = link.profile().test_mode.is_some();
    if mode {
        crate::measure::leave_test_mode(link)
            .await
            .map_err(|e| format!("leaving the test mode: {e}"))?;
    }
    for (s, want) in snap.values.iter().filter(|(s, _)| !comm(*s)) {
        let now = link
            .read_setting(*s)
            .await
            .map_err(|e| format!("reading {s}: {e}"))?;
        if now != *want {
            link.write(*s, want.clone())
                .await
                .map_err(|e| format!("restoring {s}: {e}"))?;
            changed.push(s.to_string());
        }
    }
    if link.address() != snap.address || link.line() != snap.line {
        for (s, want) in snap.values.iter().filter(|(s, _)| comm(*s)) {
            if link.read_setting(*s).await.ok().as_ref() == Some(want) {
                continue;
            }
            link.write(*s, want.clone())
                .await
                .map_err(|e| format!("restoring {s}: {e}"))?;
            changed.push(s.to_string());
            let (address, line) = now_talking(link, *s, want);
            link.reconnect(address, line)
                .await
                .map_err(|e| format!("reconnecting: {e}"))?;
        }
        link.reconnect(snap.address, snap.line)
            .await
            .map_err(|e| format!("reconnecting: {e}"))?;
        if !answers(link).await {
            return Err(format!(
                "restored {}, but the meter does not answer at address {} {}",
                changed.join(", "),
                snap.address,
                snap.line.map(|l| l.to_string()).unwrap_or_default()
            ));
        }
    }
    let settings = if changed.is_empty() {
        "settings unchanged".to_string()
    } else {
        format!("restored {}", changed.join(", "))
    };
    Ok(if mode {
        format!("test mode left; {settings}")
    } else {
        settings
    })
}

/// Where the meter answers after `setting` was written as `value`.
pub fn now_talking(
    link: &dyn MeterLink,
    setting: MeterSetting,
    value: &SettingValue,
) -> (u8, Option<LineSettings>) {
    let mut address = link.address();
    let mut line = link.line();
    match (setting, value, line.as_mut()) {
        (MeterSetting::Address, SettingValue::Number(a), _) => address = *a as u8,
        (MeterSetting::Baud, SettingValue::Number(b), Some(l)) => l.baud = *b as u32,
        (MeterSetting::Framing, SettingValue::Text(t), Some(l)) => {
            if let Ok(f) = crate::profile::Framing::try_from(t.clone()) {
                l.framing = f;
            }
        }
        _ => {}
    }
    (address, line)
}
