//! The rig's own clock.
//!
//! A real rig's clock is the monotonic wall clock. The simulated rig's clock
//! moves only when a suite dwells or waits for pulses, jumping the meter model
//! forward analytically, so hours of no-load cost microseconds. tokio's clock
//! stays real for all I/O (rust-notes.md: a paused tokio clock fires Modbus
//! timeouts at once and hands out stale replies).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// An instant on the rig's clock: time since the rig was opened.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct RigInstant(pub Duration);

impl RigInstant {
    pub const ZERO: RigInstant = RigInstant(Duration::ZERO);

    pub fn since(self, earlier: RigInstant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    pub fn secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl std::ops::Add<Duration> for RigInstant {
    type Output = RigInstant;
    fn add(self, d: Duration) -> RigInstant {
        RigInstant(self.0 + d)
    }
}

impl std::fmt::Display for RigInstant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t+{:.3}s", self.0.as_secs_f64())
    }
}

#[async_trait]
pub trait RigClock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> RigInstant;
    /// Lets `d` of rig time pass with everything energised as it is.
    async fn dwell(&self, d: Duration);
    /// True when rig time is simulated (dwells cost no wall time).
    fn is_simulated(&self) -> bool;
}

/// The wall clock, for real rigs.
#[derive(Debug)]
pub struct WallClock {
    start: std::time::Instant,
}

impl WallClock {
    pub fn new() -> Self {
        Self {
            start: std::time::Instant::now(),
        }
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl RigClock for WallClock {
    fn now(&self) -> RigInstant {
        RigInstant(self.start.elapsed())
    }

    async fn dwell(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn is_simulated(&self) -> bool {
        false
    }
}
