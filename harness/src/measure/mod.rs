//! How errors are measured: the two methods labs use.
//!
//! - Pulse comparison: gate on N meter pulses and count the reference's
//!   pulses over the same gate (shared/standards.md: n₀ = N·k_ref/k_dut,
//!   e = (E_dut − E_ref)/E_ref × 100, ±1 count of resolution).
//! - Register method (dial test): the meter's energy register before and
//!   after a dwell, against the reference's energy over the same dwell.
//!
//! Owns: the two methods, on a `Rig`. May import: `rig`, `profile`,
//! `modbus` (link errors), `quantity`. The register method's roll-over
//! comes from the meter's profile (`ratings.energy_rollover_kwh`), never
//! from the simulator.

pub mod calibration;
mod finer_register;
mod pulse_comparison;
mod register_method;

pub use finer_register::{DialRegister, dial_place, enter_test_mode, leave_test_mode, read_place};
pub use pulse_comparison::{EnergyKind, PulseComparison, pulse_comparison, pulses_for_counts};
pub use register_method::{DialError, RegisterDial, register_dial, register_dial_on_steps};
