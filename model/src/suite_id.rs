//! Suite ids: the names plans, records and reports use. They are a contract
//! with labs' plan files and other tools: never rename one. Each id is
//! written once, here; the suites' registry (`suites::all`), plan validation
//! (`suites::catalogue`, each suite's declaration under its id) and the plan
//! fuzz target all read this enum.

use serde::{Deserialize, Serialize};

/// Declares the enum, its `ALL` list and its text from one table.
macro_rules! suite_ids {
    ($($variant:ident => $text:literal,)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum SuiteId {
            $(#[serde(rename = $text)] $variant,)+
        }

        impl SuiteId {
            /// Every suite id, in the order `metrig list` shows them.
            pub const ALL: &[SuiteId] = &[$(SuiteId::$variant,)+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(SuiteId::$variant => $text,)+
                }
            }
        }
    };
}

suite_ids! {
    AccuracyActive => "accuracy-active",
    AccuracyReactive => "accuracy-reactive",
    Measurements => "measurements",
    MeterConstant => "meter-constant",
    Repeatability => "repeatability",
    Registers => "registers",
    AveragePower => "average-power",
    StartingCurrent => "starting-current",
    NoLoad => "no-load",
    S0Pulse => "s0-pulse",
    LedConstant => "led-constant",
    Tariff => "tariff",
    HourMeter => "hour-meter",
    Modbus => "modbus",
}

impl SuiteId {
    pub fn parse(s: &str) -> Option<SuiteId> {
        SuiteId::ALL.iter().copied().find(|id| id.as_str() == s)
    }

    /// Every id's text, for plan validation.
    pub fn names() -> Vec<&'static str> {
        SuiteId::ALL.iter().map(|id| id.as_str()).collect()
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
        for &id in SuiteId::ALL {
            assert_eq!(SuiteId::parse(id.as_str()), Some(id));
            let json = serde_json::to_string(&id).expect("serialises");
            assert_eq!(json, format!("\"{id}\""));
            let back: SuiteId = serde_json::from_str(&json).expect("parses");
            assert_eq!(back, id);
        }
        assert_eq!(SuiteId::ALL.len(), 14);
        assert_eq!(SuiteId::parse("accuracy"), None);
    }
}
