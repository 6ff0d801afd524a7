//! metrig's engine: instruments behind narrow async traits, their real
//! drivers and the simulated rig, meter profiles, and the Modbus link.

pub mod drivers;
pub mod files;
pub mod fuzzing;
pub mod load_point;
pub mod measure;
pub mod modbus;
pub mod profile;
pub mod quantity;
pub mod rig;
pub mod run;
pub mod sim;
pub mod station;
pub mod stats;
