//! Pulse capture on the simulated rig: waiting for pulses advances rig time
//! to the exact instants the meter model emits them.

use std::time::Duration;

use async_trait::async_trait;

use super::world::{SharedWorld, lock};
use crate::rig::pulse_input::{PulseChannel, PulseInput, PulseTrain};
use crate::rig::{Identity, RigError, RigInstant};

#[derive(Debug)]
pub struct SimPulseInput {
    world: SharedWorld,
    position: usize,
    channels: Vec<PulseChannel>,
}

impl SimPulseInput {
    pub fn new(world: SharedWorld, position: usize, channels: Vec<PulseChannel>) -> Self {
        Self {
            world,
            position,
            channels,
        }
    }

    fn check(&self, ch: PulseChannel) -> Result<(), RigError> {
        if self.channels.contains(&ch) {
            Ok(())
        } else {
            Err(RigError::instrument(
                format!("pulse input {}", self.position + 1),
                format!("the meter has no {ch:?} output"),
            ))
        }
    }
}

#[async_trait]
impl PulseInput for SimPulseInput {
    fn identity(&self) -> Identity {
        Identity {
            role: format!("pulse input {}", self.position + 1),
            maker: "metrig".into(),
            model: "simulated pulse capture".into(),
            serial: format!("SIM-PULSE-{}", self.position + 1),
            firmware: None,
            calibration_due: None,
            simulated: true,
        }
    }

    fn channels(&self) -> Vec<PulseChannel> {
        self.channels.clone()
    }

    async fn start_capture(&mut self, channel: PulseChannel) -> Result<(), RigError> {
        self.check(channel)?;
        let w = lock(&self.world);
        if let Some(m) = w.meter(self.position) {
            lock(m).start_capture(channel);
        }
        Ok(())
    }

    async fn wait_pulses(
        &mut self,
        channel: PulseChannel,
        rising: usize,
        timeout: Duration,
    ) -> Result<PulseTrain, RigError> {
        self.check(channel)?;
        let deadline = {
            let w = lock(&self.world);
            RigInstant(w.now().0.saturating_add(timeout))
        };
        // In slices of rig time, yielding between them, so that a long
        // simulated gate observes a stop request (see `SimClock::dwell`).
        loop {
            let done = {
                let mut w = lock(&self.world);
                let slice_end =
                    RigInstant(w.now().0.saturating_add(super::clock::PULSE_SLICE)).min(deadline);
                w.advance_until_pulses(self.position, channel, rising, slice_end)
                    || w.now() >= deadline
            };
            if done {
                break;
            }
            tokio::task::yield_now().await;
        }
        let w = lock(&self.world);
        let edges = w
            .meter(self.position)
            .map(|m| lock(m).take_captured(channel))
            .unwrap_or_default();
        Ok(PulseTrain { edges })
    }

    async fn take(&mut self, channel: PulseChannel) -> Result<PulseTrain, RigError> {
        self.check(channel)?;
        let w = lock(&self.world);
        let edges = w
            .meter(self.position)
            .map(|m| lock(m).take_captured(channel))
            .unwrap_or_default();
        Ok(PulseTrain { edges })
    }
}
