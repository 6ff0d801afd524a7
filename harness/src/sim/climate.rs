//! The simulated room's climate: a start temperature and humidity that
//! drift linearly with simulated rig time (`[climate]` of a sim rig file),
//! so a test can drive a run out of its reference conditions (issue 19).

use std::sync::Arc;

use async_trait::async_trait;

use crate::rig::climate::{Climate, ClimateSensor};
use crate::rig::{Identity, RigClock, RigError};

#[derive(Debug)]
pub struct SimClimate {
    clock: Arc<dyn RigClock>,
    start: Climate,
    /// K per hour of rig time.
    temperature_drift: f64,
    /// % RH per hour of rig time.
    humidity_drift: f64,
}

impl SimClimate {
    pub fn new(
        clock: Arc<dyn RigClock>,
        start: Climate,
        temperature_drift_k_per_h: f64,
        humidity_drift_pct_per_h: f64,
    ) -> Self {
        Self {
            clock,
            start,
            temperature_drift: temperature_drift_k_per_h,
            humidity_drift: humidity_drift_pct_per_h,
        }
    }

    /// The climate at `hours` of rig time: what a test predicts readings with.
    pub fn at_hours(&self, hours: f64) -> Climate {
        Climate {
            temperature_c: self.start.temperature_c + self.temperature_drift * hours,
            humidity_pct: (self.start.humidity_pct + self.humidity_drift * hours).clamp(0.0, 100.0),
        }
    }
}

#[async_trait]
impl ClimateSensor for SimClimate {
    fn identity(&self) -> Identity {
        Identity {
            role: "climate sensor".into(),
            maker: "metrig".into(),
            model: "simulated room".into(),
            serial: "SIM-CLIMATE".into(),
            firmware: None,
            calibration_due: None,
            simulated: true,
        }
    }

    async fn read(&mut self) -> Result<Climate, RigError> {
        let hours = self.clock.now().secs_f64() / 3600.0;
        self.at_hours(hours).checked("climate sensor")
    }
}
