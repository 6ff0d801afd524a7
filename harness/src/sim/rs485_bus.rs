//! Simulated meters on one RS485 line: every meter hears every frame, the
//! one whose address it names answers, and a broadcast reaches them all
//! (Modbus over Serial Line V1.02 §2.1: one master, up to 247 slaves).

use std::sync::Arc;
use std::time::Duration;

use tokio_modbus::Request;

use super::modbus_server::{Answer, MeterService};
use crate::profile::LineSettings;

#[derive(Debug)]
pub struct Rs485Bus {
    meters: Vec<Arc<MeterService>>,
}

impl From<Arc<MeterService>> for Rs485Bus {
    fn from(meter: Arc<MeterService>) -> Self {
        Self {
            meters: vec![meter],
        }
    }
}

impl From<Vec<Arc<MeterService>>> for Rs485Bus {
    fn from(meters: Vec<Arc<MeterService>>) -> Self {
        Self { meters }
    }
}

impl Rs485Bus {
    /// The line settings the meters listen at (the first meter's: meters on
    /// one line must agree, or they hear each other's frames as garbage).
    pub fn line(&self) -> Option<LineSettings> {
        let m = self.meters.first()?;
        super::world::lock(m.meter()).settings().line
    }

    /// Whether a meter on the line answers frames whose CRC is wrong (a fault).
    pub fn answers_bad_crc(&self) -> bool {
        self.meters
            .iter()
            .any(|m| super::world::lock(m.meter()).faults().answers_bad_crc)
    }

    /// Every meter decides on the frame; the answer on the line is the
    /// first meter's that answers (two meters at one address would collide
    /// on a real line: the rig file refuses that). Also says which meter.
    pub fn handle(
        &self,
        slave: u8,
        request: &Request<'_>,
        line: Option<LineSettings>,
    ) -> Option<(Answer, Duration, &Arc<MeterService>)> {
        let mut answer = None;
        for m in &self.meters {
            let (a, d) = m.handle(slave, request, line);
            if answer.is_none() && a != Answer::Silent {
                answer = Some((a, d, m));
            }
        }
        answer
    }
}
