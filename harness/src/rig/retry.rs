//! The retry policy of a position's meter link (rig file `[positions.retry]`):
//! how many times a request is tried when the meter does not answer (or
//! answers garbage), how long to back off, and whether a meter lost for good
//! fails the point or stops the run. Every retry is noted for the record.
//!
//! Only the named requests retry (read, read a setting, write). Raw requests
//! pass through untouched: the `modbus` suite measures timeouts and must see
//! every one of them.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_modbus::Request;

use super::meter_link::{MeterLink, MeterSelf, RawOutcome, Reading};
use crate::modbus::{FrameRecord, LineTiming, LinkError, RawReply, Transmission};
use crate::profile::{LineSettings, MeterProfile, MeterQuantity, MeterSetting, SettingValue};

/// What a meter lost after every attempt stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnLost {
    /// The point records an error (after the runner waited for the meter to
    /// come back and repeated it once); the run goes on.
    #[default]
    Point,
    /// The run stops, resumable (exit 3).
    Run,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Tries per request, the first included (1 = no retry).
    pub attempts: u32,
    /// Wait before the second try; doubled before each further one.
    pub backoff: Duration,
    pub on_lost: OnLost,
    /// How long the runner waits for a lost meter to answer again (a reboot)
    /// before it gives up on the point.
    pub wait_for_meter: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            backoff: Duration::from_millis(100),
            on_lost: OnLost::Point,
            wait_for_meter: Duration::from_secs(30),
        }
    }
}

/// Errors worth another try: the meter said nothing, or nothing valid. An
/// exception is the meter's answer and is never retried.
pub fn is_loss(e: &LinkError) -> bool {
    matches!(
        e,
        LinkError::Timeout { .. } | LinkError::Transport { .. } | LinkError::Protocol { .. }
    )
}

#[derive(Debug)]
pub struct RetryingLink {
    inner: Box<dyn MeterLink>,
    policy: RetryPolicy,
    notes: Vec<String>,
}

impl RetryingLink {
    pub fn new(inner: Box<dyn MeterLink>, policy: RetryPolicy) -> Self {
        Self {
            inner,
            policy,
            notes: Vec::new(),
        }
    }
}

/// Runs `$call` on the inner link up to `attempts` times while it fails with
/// a loss, noting each retry.
macro_rules! with_retries {
    ($self:ident, $what:expr, |$l:ident| $call:expr) => {{
        let mut wait = $self.policy.backoff;
        let mut attempt = 1;
        loop {
            let r = {
                let $l = &mut $self.inner;
                $call
            }
            .await;
            match r {
                Err(e) if is_loss(&e) && attempt < $self.policy.attempts => {
                    $self.notes.push(format!(
                        "{}: {e}; attempt {} of {} after {} ms",
                        $what,
                        attempt + 1,
                        $self.policy.attempts,
                        wait.as_millis()
                    ));
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                Err(e) if is_loss(&e) && $self.policy.attempts > 1 => {
                    $self.notes.push(format!(
                        "{}: {e}; lost after {} attempts",
                        $what, $self.policy.attempts
                    ));
                    break Err(e);
                }
                other => {
                    if attempt > 1 && other.is_ok() {
                        $self
                            .notes
                            .push(format!("{}: answered on attempt {attempt}", $what));
                    }
                    break other;
                }
            }
        }
    }};
}

#[async_trait]
impl MeterLink for RetryingLink {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn profile(&self) -> &MeterProfile {
        self.inner.profile()
    }

    async fn read(&mut self, quantity: MeterQuantity) -> Result<Reading, LinkError> {
        with_retries!(self, format!("read {quantity}"), |l| l.read(quantity))
    }

    async fn read_setting(&mut self, setting: MeterSetting) -> Result<SettingValue, LinkError> {
        with_retries!(self, format!("read setting {setting}"), |l| l
            .read_setting(setting))
    }

    async fn write(&mut self, setting: MeterSetting, value: SettingValue) -> Result<(), LinkError> {
        with_retries!(self, format!("write {setting}"), |l| l
            .write(setting, value.clone()))
    }

    async fn raw(&mut self, request: Request<'static>) -> RawOutcome {
        self.inner.raw(request).await
    }

    async fn raw_frame(
        &mut self,
        tx: &Transmission,
        listen: Duration,
    ) -> Result<RawReply, LinkError> {
        self.inner.raw_frame(tx, listen).await
    }

    fn traffic(&self) -> crate::modbus::Traffic {
        self.inner.traffic()
    }

    fn pace_line(&mut self, on: bool) -> LineTiming {
        self.inner.pace_line(on)
    }

    async fn reconnect(
        &mut self,
        address: u8,
        line: Option<LineSettings>,
    ) -> Result<(), LinkError> {
        self.inner.reconnect(address, line).await
    }

    fn address(&self) -> u8 {
        self.inner.address()
    }

    fn line(&self) -> Option<LineSettings> {
        self.inner.line()
    }

    fn take_log(&mut self) -> Vec<FrameRecord> {
        self.inner.take_log()
    }

    fn take_retries(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    async fn identify(&mut self) -> Result<MeterSelf, LinkError> {
        with_retries!(self, "identify".to_string(), |l| l.identify())
    }
}
