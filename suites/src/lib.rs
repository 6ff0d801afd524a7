//! The conformance suites, one module per suite, and the standards' tables as
//! typed data with their clause cited.
//!
//! Owns: what each suite plans and how it measures one point (`framework`
//! says what a suite writes and what the framework does for it), the limit
//! tables, the registry of suites by `SuiteId`.
//! May import: `harness` (run, rig, profile, measure) and `model`; never
//! `reports` (except in tests) or a driver or the simulator by name.

pub mod accuracy_active;
pub mod accuracy_reactive;
pub mod average_power;
mod common;
pub mod error_point;
pub mod framework;
pub mod hour_meter;
pub mod led_constant;
pub mod limits;
pub mod measurements;
pub mod meter_constant;
pub mod modbus;
pub mod no_load;
pub mod registers;
pub mod repeatability;
pub mod s0_pulse;
pub mod starting_current;
pub mod study;
pub mod tariff;
pub mod tolerance;

use std::sync::Arc;

use harness::run::Suite;

pub use framework::Framed;
pub use model::SuiteId;

/// The suite an id names: the registry, one arm per id.
pub fn suite(id: SuiteId) -> Arc<dyn Suite> {
    match id {
        SuiteId::AccuracyActive => Arc::new(Framed::new(id, accuracy_active::AccuracyActive)),
        SuiteId::AccuracyReactive => Arc::new(Framed::new(id, accuracy_reactive::AccuracyReactive)),
        SuiteId::Measurements => Arc::new(Framed::new(id, measurements::Measurements)),
        SuiteId::MeterConstant => {
            Arc::new(Framed::new(id, meter_constant::MeterConstant::default()))
        }
        SuiteId::Repeatability => Arc::new(Framed::new(id, repeatability::Repeatability)),
        SuiteId::Registers => Arc::new(Framed::new(id, registers::Registers)),
        SuiteId::AveragePower => Arc::new(Framed::new(id, average_power::AveragePower)),
        SuiteId::StartingCurrent => Arc::new(Framed::new(id, starting_current::StartingCurrent)),
        SuiteId::NoLoad => Arc::new(Framed::new(id, no_load::NoLoad)),
        SuiteId::S0Pulse => Arc::new(Framed::new(id, s0_pulse::S0Pulse)),
        SuiteId::LedConstant => Arc::new(Framed::new(id, led_constant::LedConstant)),
        SuiteId::Tariff => Arc::new(Framed::new(id, tariff::TariffSuite)),
        SuiteId::HourMeter => Arc::new(Framed::new(id, hour_meter::HourMeter)),
        SuiteId::Modbus => Arc::new(Framed::new(id, modbus::ModbusSuite)),
    }
}

/// Every suite built into this metrig, in the ids' order.
pub fn all() -> Vec<Arc<dyn Suite>> {
    SuiteId::ALL.iter().map(|&id| suite(id)).collect()
}

/// What plan validation checks a plan against: every built-in suite's id
/// and the parameters it declares (`framework::Declares::PARAMS`).
pub fn catalogue() -> Vec<harness::run::Declaration> {
    all().iter().map(|s| s.declaration()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_names_the_suite_that_answers_to_it() {
        for &id in SuiteId::ALL {
            assert_eq!(suite(id).id(), id.as_str());
        }
    }
}
