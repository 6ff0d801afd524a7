//! Pulse capture: timestamped edges from the meter's test outputs.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Identity, RigError, RigInstant};

/// Which output of the meter a channel watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PulseChannel {
    /// The metrological LED, through a scanning head.
    Led,
    /// The S0 output (IEC 62053-31).
    S0,
}

/// The output's name on the meter's front: "LED", "S0".
impl std::fmt::Display for PulseChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PulseChannel::Led => "LED",
            PulseChannel::S0 => "S0",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub at: RigInstant,
    /// Rising = the output switches ON (S0 conducting, LED lit).
    pub rising: bool,
}

/// A captured train of edges on one channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PulseTrain {
    pub edges: Vec<Edge>,
}

impl PulseTrain {
    pub fn rising(&self) -> impl Iterator<Item = RigInstant> + '_ {
        self.edges.iter().filter(|e| e.rising).map(|e| e.at)
    }

    pub fn pulse_count(&self) -> usize {
        self.rising().count()
    }

    /// ON durations: each rising edge to the falling edge after it.
    pub fn on_durations(&self) -> Vec<Duration> {
        self.edges
            .windows(2)
            .filter(|w| w[0].rising && !w[1].rising)
            .map(|w| w[1].at.since(w[0].at))
            .collect()
    }

    /// OFF durations: each falling edge to the next rising edge.
    pub fn off_durations(&self) -> Vec<Duration> {
        self.edges
            .windows(2)
            .filter(|w| !w[0].rising && w[1].rising)
            .map(|w| w[1].at.since(w[0].at))
            .collect()
    }
}

#[async_trait]
pub trait PulseInput: Send + Sync + std::fmt::Debug {
    fn identity(&self) -> Identity;
    fn channels(&self) -> Vec<PulseChannel>;
    /// Clears the channel and starts recording its edges.
    async fn start_capture(&mut self, channel: PulseChannel) -> Result<(), RigError>;
    /// Waits until `rising` more rising edges have been captured on the
    /// channel, or `timeout` of rig time has passed; returns every edge
    /// captured since the last call. On the simulated rig the wait advances
    /// simulated time; on a real rig it waits in real time.
    async fn wait_pulses(
        &mut self,
        channel: PulseChannel,
        rising: usize,
        timeout: Duration,
    ) -> Result<PulseTrain, RigError>;
    /// Edges captured since the last call, without waiting.
    async fn take(&mut self, channel: PulseChannel) -> Result<PulseTrain, RigError>;
}
