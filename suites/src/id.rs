//! Suite ids: the names plans, records and reports use. They are a contract
//! with labs' plan files and other tools: never rename one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuiteId {
    AccuracyActive,
    AccuracyReactive,
    Measurements,
    MeterConstant,
    Repeatability,
    Registers,
    AveragePower,
    StartingCurrent,
    NoLoad,
    S0Pulse,
    LedConstant,
    Tariff,
    HourMeter,
    Modbus,
}

impl SuiteId {
    pub const ALL: [SuiteId; 14] = [
        SuiteId::AccuracyActive,
        SuiteId::AccuracyReactive,
        SuiteId::Measurements,
        SuiteId::MeterConstant,
        SuiteId::Repeatability,
        SuiteId::Registers,
        SuiteId::AveragePower,
        SuiteId::StartingCurrent,
        SuiteId::NoLoad,
        SuiteId::S0Pulse,
        SuiteId::LedConstant,
        SuiteId::Tariff,
        SuiteId::HourMeter,
        SuiteId::Modbus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SuiteId::AccuracyActive => "accuracy-active",
            SuiteId::AccuracyReactive => "accuracy-reactive",
            SuiteId::Measurements => "measurements",
            SuiteId::MeterConstant => "meter-constant",
            SuiteId::Repeatability => "repeatability",
            SuiteId::Registers => "registers",
            SuiteId::AveragePower => "average-power",
            SuiteId::StartingCurrent => "starting-current",
            SuiteId::NoLoad => "no-load",
            SuiteId::S0Pulse => "s0-pulse",
            SuiteId::LedConstant => "led-constant",
            SuiteId::Tariff => "tariff",
            SuiteId::HourMeter => "hour-meter",
            SuiteId::Modbus => "modbus",
        }
    }

    pub fn parse(s: &str) -> Option<SuiteId> {
        SuiteId::ALL.into_iter().find(|id| id.as_str() == s)
    }
}

impl std::fmt::Display for SuiteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_serde_and_text() {
        for id in SuiteId::ALL {
            assert_eq!(SuiteId::parse(id.as_str()), Some(id));
            let json = format!("\"{id}\"");
            let _: SuiteId = serde_json_like(&json);
        }
    }

    fn serde_json_like(s: &str) -> SuiteId {
        // The kebab-case serde names must equal as_str(): compare via Debug-free path.
        SuiteId::parse(s.trim_matches('"')).expect("known id")
    }
}
