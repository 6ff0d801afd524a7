//! The settings matrix: every line setting and the edge addresses, changed
//! over Modbus (password first where the profile has one), reconnected,
//! read back, and the meter's settings put back afterwards whatever happened.
//! The record keeps whether that restore succeeded.

use harness::modbus::LinkError;
use harness::profile::{LineSettings, MeterQuantity, MeterSetting, SettingValue};
use harness::rig::meter_link::MeterLink;
use harness::run::SuiteError;
use harness::run::restore::{now_talking, restore, snapshot};
use serde_json::json;

use crate::limits::modbus::{ADDRESS_CLAUSE, RTU_CHAR_BITS, RTU_CHAR_CLAUSE, UNICAST_MAX};

/// A deviation the datasheet allows: a finding, or a failure in a strict plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    pub text: String,
}

/// What one matrix point comes to: whether the meter followed and read
/// back what was set, what the record keeps, and a deviation the datasheet
/// allows (for the framework to judge as a finding or a failure).
#[derive(Debug)]
pub struct MatrixResult {
    pub ok: bool,
    pub summary: String,
    pub details: serde_json::Value,
    pub deviation: Option<Deviation>,
}

/// Writes `changes` in order, reconnecting after each so the next one is
/// understood, then reads every one back.
async fn apply(
    link: &mut dyn MeterLink,
    changes: &[(MeterSetting, SettingValue)],
) -> Result<Vec<(MeterSetting, SettingValue)>, LinkError> {
    for (setting, value) in changes {
        if link.read_setting(*setting).await? == *value {
            continue;
        }
        link.write(*setting, value.clone()).await?;
        let (address, line) = now_talking(link, *setting, value);
        link.reconnect(address, line).await?;
    }
    let mut back = Vec::new();
    for (setting, _) in changes {
        back.push((*setting, link.read_setting(*setting).await?));
    }
    if link.profile().register(MeterQuantity::Voltage).is_some() {
        link.read(MeterQuantity::Voltage).await?;
    }
    Ok(back)
}

/// Changes, reads back, restores; met when the read-back is what was set.
async fn change_and_restore(
    link: &mut dyn MeterLink,
    what: &str,
    changes: Vec<(MeterSetting, SettingValue)>,
) -> Result<MatrixResult, SuiteError> {
    let snap = snapshot(link)
        .await
        .map_err(|e| SuiteError::Measure(format!("before changing {what}: {e}")))?;
    let applied = apply(link, &changes).await;
    let restored = restore(link, &snap).await;
    let restore_json = match &restored {
        Ok(m) => json!({ "restored": true, "message": m }),
        Err(m) => json!({ "restored": false, "message": m }),
    };
    let (ok, mut summary, result) = match &applied {
        Ok(back) => {
            let ok = back
                .iter()
                .zip(&changes)
                .all(|((_, got), (_, want))| got == want);
            let read: Vec<String> = back.iter().map(|(s, v)| format!("{s} = {v}")).collect();
            (
                ok,
                format!("set {what}, reconnected, read back {}", read.join(", ")),
                json!({ "read_back": back.iter().map(|(s, v)| json!({ "setting": s.to_string(), "value": v })).collect::<Vec<_>>() }),
            )
        }
        // The meter did not follow: a failure of this point, the error kept
        // as its own kind (timeout, exception, transport).
        Err(e) => (false, format!("set {what}: {e}"), json!({ "error": e })),
    };
    if let Err(m) = &restored {
        summary.push_str(&format!("; settings NOT restored: {m}"));
    }
    Ok(MatrixResult {
        ok,
        summary,
        details: json!({ "changes": changes.iter().map(|(s, v)| json!({ "setting": s.to_string(), "value": v })).collect::<Vec<_>>(), "result": result, "restore": restore_json }),
        deviation: None,
    })
}

pub async fn line(
    link: &mut dyn MeterLink,
    want: LineSettings,
) -> Result<MatrixResult, SuiteError> {
    let mut r = change_and_restore(
        link,
        &want.to_string(),
        vec![
            (
                MeterSetting::Baud,
                SettingValue::Number(f64::from(want.baud)),
            ),
            (
                MeterSetting::Framing,
                SettingValue::Text(want.framing.to_string()),
            ),
        ],
    )
    .await?;
    let bits = want.framing.bits_per_char();
    r.deviation = (r.ok && bits != RTU_CHAR_BITS).then(|| Deviation {
        text: format!(
            "{} is a {bits}-bit character, and the meter accepts it: {RTU_CHAR_CLAUSE}",
            want.framing
        ),
    });
    Ok(r)
}

pub async fn address(link: &mut dyn MeterLink, want: u8) -> Result<MatrixResult, SuiteError> {
    let mut r = change_and_restore(
        link,
        &format!("address {want}"),
        vec![(MeterSetting::Address, SettingValue::Number(f64::from(want)))],
    )
    .await?;
    r.deviation = (r.ok && want > UNICAST_MAX).then(|| Deviation {
        text: format!("the meter accepts address {want}, reserved by {ADDRESS_CLAUSE}"),
    });
    Ok(r)
}
