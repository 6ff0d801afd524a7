//! metrig's engine: instruments behind narrow async traits, their real
//! drivers and the simulated rig, meter profiles, and the Modbus link.
//!
//! Owns: the rig and its instruments, the run engine (`run`), the journal.
//! May import: `model` (and re-exports its types at their old paths), never
//! `suites` or `reports`. Inside, layers go one way (README, "How it is
//! built"): run → measure → rig; station → sim → drivers → rig; rig →
//! modbus, profile, stats (`harness/tests/layers.rs` prints the graph).

pub mod drivers;
pub mod files;
pub mod fuzzing;
pub mod measure;
pub mod modbus;
pub mod profile;
pub mod rig;
pub mod run;
pub mod sim;
pub mod station;
pub mod stats;

/// Quantities and load points live in `model`; re-exported at their old paths.
pub use model::{load_point, quantity};
