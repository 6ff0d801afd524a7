//! A position's pulse input on a bench in lockstep. On the simulated rig a
//! wait for pulses is a wait on the bench, which moves time for everyone;
//! on a real rig the input is used as it is.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::Lockstep;
use crate::rig::pulse_input::{PulseChannel, PulseInput, PulseTrain};
use crate::rig::{Identity, RigError};

/// The position's own input, lent to the view and taken back after the point.
pub type LentPulses = Arc<Mutex<Box<dyn PulseInput>>>;

#[derive(Debug)]
pub struct LockstepPulses {
    inner: LentPulses,
    bench: Arc<Lockstep>,
    me: usize,
    position: usize,
    identity: Identity,
    channels: Vec<PulseChannel>,
}

impl LockstepPulses {
    /// Lends `inner` to the view of participant `me`; the handle returned
    /// gives it back once the view is gone.
    pub fn lend(
        inner: Box<dyn PulseInput>,
        bench: Arc<Lockstep>,
        me: usize,
        position: usize,
    ) -> (Self, LentPulses) {
        let identity = inner.identity();
        let channels = inner.channels();
        let inner = Arc::new(Mutex::new(inner));
        let me = Self {
            inner: inner.clone(),
            bench,
            me,
            position,
            identity,
            channels,
        };
        (me, inner)
    }

    /// Another view of an input already lent (`lend`'s handle): points of
    /// different suites sharing one dwell on the position (issue 20).
    pub fn share(inner: LentPulses, bench: Arc<Lockstep>, me: usize, position: usize) -> Self {
        let (identity, channels) = match inner.try_lock() {
            Ok(i) => (i.identity(), i.channels()),
            Err(_) => (
                Identity::device("pulse input", "", "shared", ""),
                Vec::new(),
            ),
        };
        Self {
            inner,
            bench,
            me,
            position,
            identity,
            channels,
        }
    }
}

#[async_trait]
impl PulseInput for LockstepPulses {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn channels(&self) -> Vec<PulseChannel> {
        self.channels.clone()
    }

    async fn start_capture(&mut self, channel: PulseChannel) -> Result<(), RigError> {
        self.inner.lock().await.start_capture(channel).await
    }

    async fn wait_pulses(
        &mut self,
        channel: PulseChannel,
        rising: usize,
        timeout: Duration,
    ) -> Result<PulseTrain, RigError> {
        if !self.bench.is_simulated() {
            return self
                .inner
                .lock()
                .await
                .wait_pulses(channel, rising, timeout)
                .await;
        }
        if !self.channels.contains(&channel) {
            // The input names the missing output.
            return self
                .inner
                .lock()
                .await
                .wait_pulses(channel, rising, Duration::ZERO)
                .await;
        }
        let deadline = self.bench.now() + timeout;
        self.bench
            .wait_pulses(self.me, self.position, channel, rising, deadline)
            .await;
        self.inner
            .lock()
            .await
            .wait_pulses(channel, rising, Duration::ZERO)
            .await
    }

    async fn take(&mut self, channel: PulseChannel) -> Result<PulseTrain, RigError> {
        self.inner.lock().await.take(channel).await
    }
}
