//! Helpers shared by the harness's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use harness::rig::Rig;
use harness::station::{RigFile, parse_rig};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

pub fn meter(name: &str) -> PathBuf {
    fixtures().join("meters").join(format!("{name}.toml"))
}

/// A simulated rig with one meter on `link` ("sim-rtu", "sim-tcp", "none")
/// and the given `[positions.sim.faults]` body.
pub fn sim_rig_text(meter_name: &str, link: &str, faults: &str, extra_position: &str) -> String {
    format!(
        r#"
[rig]
name = "test bench"
kind = "sim"
seed = 7

[source]
kind = "sim"
max_voltage_v = 300
max_current_a = 100
frequency_hz = [45, 65]

[reference]
kind = "sim"

[[positions]]
meter = "{meter}"
link = {{ kind = "{link}" }}
{extra_position}

[positions.sim]
serial_number = 42
firmware = "1.02"

[positions.sim.faults]
{faults}
"#,
        meter = meter(meter_name).display()
    )
}

pub fn sim_config(meter_name: &str, link: &str, faults: &str) -> RigFile {
    parse_rig(
        &sim_rig_text(meter_name, link, faults, ""),
        Path::new("test-rig.toml"),
    )
    .expect("test rig is valid")
}

pub async fn open_sim(meter_name: &str, link: &str, faults: &str) -> Rig {
    Rig::open(sim_config(meter_name, link, faults))
        .await
        .expect("simulated rig opens")
}
