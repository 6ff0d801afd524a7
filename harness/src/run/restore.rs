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

/// Writes back every setting that differs, communication settings last, and
/// reconnects at the snapshot's address and line.
pub async fn restore(link: &mut dyn MeterLink, snap: &SettingsSnapshot) -> Result<String, String> {
    let comm = |s: MeterSetting| {
        matches!(
            s,
            MeterSetting::Address | MeterSetting::Baud | MeterSetting::Framing
        )
    };
    let mut changed = Vec::new();
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
    let comm_changed = link.address() != snap.address || link.line() != snap.line;
    if comm_changed {
        for (s, want) in snap.values.iter().filter(|(s, _)| comm(*s)) {
            link.write(*s, want.clone())
                .await
                .map_err(|e| format!("restoring {s}: {e}"))?;
            changed.push(s.to_string());
        }
        link.reconnect(snap.address, snap.line)
            .await
            .map_err(|e| format!("reconnecting: {e}"))?;
    }
    Ok(if changed.is_empty() {
        "settings unchanged".into()
    } else {
        format!("restored {}", changed.join(", "))
    })
}
