//! One position's meter link and tariff output lent to several points at
//! once, when points of different suites share a dwell on that position
//! (issue 20, `run::dwell`): each request takes the link in turn, as the
//! one RS485 line would anyway. The points' declarations keep them from
//! driving the same thing; the link only keeps their frames apart.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio_modbus::Request;

use crate::modbus::{FrameRecord, LineTiming, LinkError, RawReply, Transmission};
use crate::profile::{LineSettings, MeterProfile, MeterQuantity, MeterSetting, SettingValue};
use crate::rig::meter_link::{MeterLink, MeterSelf, RawOutcome, Reading};
use crate::rig::tariff_output::{Tariff, TariffOutput};
use crate::rig::{Identity, RigError};

/// The position's link, lent to every point sharing the dwell.
pub type LentLink = Arc<Mutex<Box<dyn MeterLink>>>;

#[derive(Debug, Clone)]
pub struct SharedLink {
    inner: LentLink,
    profile: MeterProfile,
    describe: String,
    address: u8,
    line: Option<LineSettings>,
}

impl SharedLink {
    /// Lends `inner` (clone the result for each point); the handle gives it
    /// back once every clone is gone.
    pub fn lend(inner: Box<dyn MeterLink>) -> (Self, LentLink) {
        let me = Self {
            profile: inner.profile().clone(),
            describe: inner.describe(),
            address: inner.address(),
            line: inner.line(),
            inner: Arc::new(Mutex::new(inner)),
        };
        let handle = me.inner.clone();
        (me, handle)
    }
}

#[async_trait]
impl MeterLink for SharedLink {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn profile(&self) -> &MeterProfile {
        &self.profile
    }

    async fn read(&mut self, quantity: MeterQuantity) -> Result<Reading, LinkError> {
        self.inner.lock().await.read(quantity).await
    }

    async fn read_setting(&mut self, setting: MeterSetting) -> Result<SettingValue, LinkError> {
        self.inner.lock().await.read_setting(setting).await
    }

    async fn write(&mut self, setting: MeterSetting, value: SettingValue) -> Result<(), LinkError> {
        self.inner.lock().await.write(setting, value).await
    }

    async fn raw(&mut self, request: Request<'static>) -> RawOutcome {
        self.inner.lock().await.raw(request).await
    }

    async fn raw_frame(
        &mut self,
        tx: &Transmission,
        listen: Duration,
    ) -> Result<RawReply, LinkError> {
        self.inner.lock().await.raw_frame(tx, listen).await
    }

    fn pace_line(&mut self, on: bool) -> LineTiming {
        match self.inner.try_lock() {
            Ok(mut l) => l.pace_line(on),
            Err(_) => LineTiming::NotSerial,
        }
    }

    /// A point that changes the address or line never shares a dwell
    /// (`modbus` declares no dwell use), so this is refused, not guessed.
    async fn reconnect(
        &mut self,
        address: u8,
        line: Option<LineSettings>,
    ) -> Result<(), LinkError> {
        let _ = (address, line);
        Err(LinkError::Unsupported {
            message: format!(
                "{}: the link is shared by points in one dwell; it cannot reconnect",
                self.describe
            ),
        })
    }

    fn address(&self) -> u8 {
        self.address
    }

    fn line(&self) -> Option<LineSettings> {
        self.line
    }

    /// The frames so far, unless another point holds the link mid-request:
    /// then they stay for the next call (none is lost).
    fn take_log(&mut self) -> Vec<FrameRecord> {
        self.inner
            .try_lock()
            .map(|mut l| l.take_log())
            .unwrap_or_default()
    }

    fn traffic(&self) -> crate::modbus::Traffic {
        self.inner
            .try_lock()
            .map(|l| l.traffic())
            .unwrap_or_default()
    }

    fn take_retries(&mut self) -> Vec<String> {
        self.inner
            .try_lock()
            .map(|mut l| l.take_retries())
            .unwrap_or_default()
    }

    async fn identify(&mut self) -> Result<MeterSelf, LinkError> {
        self.inner.lock().await.identify().await
    }
}

/// The position's tariff output, lent to every point sharing the dwell.
pub type LentTariff = Arc<Mutex<Box<dyn TariffOutput>>>;

#[derive(Debug, Clone)]
pub struct SharedTariff {
    inner: LentTariff,
    identity: Identity,
}

impl SharedTariff {
    pub fn lend(inner: Box<dyn TariffOutput>) -> (Self, LentTariff) {
        let me = Self {
            identity: inner.identity(),
            inner: Arc::new(Mutex::new(inner)),
        };
        let handle = me.inner.clone();
        (me, handle)
    }
}

#[async_trait]
impl TariffOutput for SharedTariff {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    async fn select(&mut self, tariff: Tariff) -> Result<(), RigError> {
        self.inner.lock().await.select(tariff).await
    }
}
