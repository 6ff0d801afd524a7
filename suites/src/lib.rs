//! The conformance suites, one module per suite, and the standards' tables as
//! typed data with their clause cited.

pub mod accuracy_active;
pub mod accuracy_reactive;
pub mod average_power;
mod common;
pub mod error_point;
pub mod hour_meter;
mod id;
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
pub mod tariff;
pub mod tolerance;

use std::sync::Arc;

use harness::run::Suite;

pub use id::SuiteId;

/// Every suite built into this metrig.
pub fn all() -> Vec<Arc<dyn Suite>> {
    vec![
        Arc::new(accuracy_active::AccuracyActive),
        Arc::new(accuracy_reactive::AccuracyReactive),
        Arc::new(measurements::Measurements),
        Arc::new(meter_constant::MeterConstant),
        Arc::new(repeatability::Repeatability),
        Arc::new(registers::Registers),
        Arc::new(average_power::AveragePower),
        Arc::new(starting_current::StartingCurrent),
        Arc::new(no_load::NoLoad),
        Arc::new(s0_pulse::S0Pulse),
        Arc::new(led_constant::LedConstant),
        Arc::new(tariff::TariffSuite),
        Arc::new(hour_meter::HourMeter),
        Arc::new(modbus::ModbusSuite),
    ]
}

/// The ids of the suites built in, for plan validation.
pub fn ids() -> Vec<&'static str> {
    all().iter().map(|s| s.id()).collect()
}
