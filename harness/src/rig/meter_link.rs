//! The meter over Modbus, through its profile.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_modbus::Request;

use crate::modbus::{FrameRecord, LineTiming, LinkError, RawReply, Transmission};
use crate::profile::{
    Dimension, LineSettings, MeterProfile, MeterQuantity, MeterSetting, SettingValue,
};
use crate::quantity::{Amps, Hertz, PhaseAngle, VarHours, Vars, VoltAmps, Volts, WattHours, Watts};

/// A value read from a meter, typed by its dimension.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dimension", content = "value", rename_all = "snake_case")]
pub enum Reading {
    Voltage(Volts),
    Current(Amps),
    Frequency(Hertz),
    ActivePower(Watts),
    ReactivePower(Vars),
    ApparentPower(VoltAmps),
    ActiveEnergy(WattHours),
    ReactiveEnergy(VarHours),
    Time(Duration),
    Angle(PhaseAngle),
    Number(f64),
}

impl Reading {
    /// Types a canonical value by its dimension.
    pub fn from_canonical(dim: Dimension, v: f64) -> Self {
        match dim {
            Dimension::Voltage => Reading::Voltage(Volts(v)),
            Dimension::Current => Reading::Current(Amps(v)),
            Dimension::Frequency => Reading::Frequency(Hertz(v)),
            Dimension::ActivePower => Reading::ActivePower(Watts(v)),
            Dimension::ReactivePower => Reading::ReactivePower(Vars(v)),
            Dimension::ApparentPower => Reading::ApparentPower(VoltAmps(v)),
            Dimension::ActiveEnergy => Reading::ActiveEnergy(WattHours(v)),
            Dimension::ReactiveEnergy => Reading::ReactiveEnergy(VarHours(v)),
            // A meter's +inf (an f32 register) saturates rather than panics.
            Dimension::Time => {
                Reading::Time(Duration::try_from_secs_f64(v.max(0.0)).unwrap_or(Duration::MAX))
            }
            Dimension::Angle => Reading::Angle(PhaseAngle(v)),
            Dimension::Dimensionless => Reading::Number(v),
        }
    }

    /// The value in its dimension's canonical unit.
    pub fn canonical(&self) -> f64 {
        match *self {
            Reading::Voltage(v) => v.0,
            Reading::Current(v) => v.0,
            Reading::Frequency(v) => v.0,
            Reading::ActivePower(v) => v.0,
            Reading::ReactivePower(v) => v.0,
            Reading::ApparentPower(v) => v.0,
            Reading::ActiveEnergy(v) => v.0,
            Reading::ReactiveEnergy(v) => v.0,
            Reading::Time(d) => d.as_secs_f64(),
            Reading::Angle(a) => a.0,
            Reading::Number(n) => n,
        }
    }

    pub fn active_energy(&self) -> Option<WattHours> {
        match *self {
            Reading::ActiveEnergy(e) => Some(e),
            _ => None,
        }
    }

    pub fn reactive_energy(&self) -> Option<VarHours> {
        match *self {
            Reading::ReactiveEnergy(e) => Some(e),
            _ => None,
        }
    }

    /// The value written for a person, in a unit that suits it.
    pub fn display(&self) -> String {
        match *self {
            Reading::Voltage(v) => format!("{:.3} V", v.0),
            Reading::Current(v) => format!("{:.3} A", v.0),
            Reading::Frequency(v) => format!("{:.3} Hz", v.0),
            Reading::ActivePower(v) => format!("{:.1} W", v.0),
            Reading::ReactivePower(v) => format!("{:.1} var", v.0),
            Reading::ApparentPower(v) => format!("{:.1} VA", v.0),
            Reading::ActiveEnergy(v) => format!("{:.2} kWh", v.kwh()),
            Reading::ReactiveEnergy(v) => format!("{:.2} kvarh", v.0 / 1000.0),
            Reading::Time(d) => {
                let m = d.as_secs() / 60;
                format!("{}h{:02}m", m / 60, m % 60)
            }
            Reading::Angle(a) => format!("{:.2}°", a.0),
            Reading::Number(n) => crate::quantity::trim_float(n),
        }
    }
}

/// What the meter says of itself over Modbus (kept in `model`: the record carries it).
pub use model::identity::MeterSelf;

pub use crate::modbus::RawOutcome;

#[async_trait]
pub trait MeterLink: Send + std::fmt::Debug {
    /// Where the link goes: "RTU /dev/pts/4 19200 8E1, address 5".
    fn describe(&self) -> String;
    fn profile(&self) -> &MeterProfile;
    /// Reads a named quantity through the profile. Powers read as magnitude
    /// plus a sign register come back signed.
    async fn read(&mut self, quantity: MeterQuantity) -> Result<Reading, LinkError>;
    /// Reads a setting's current value.
    async fn read_setting(&mut self, setting: MeterSetting) -> Result<SettingValue, LinkError>;
    /// Writes a setting (or command), with the password step where the
    /// profile marks it protected.
    async fn write(&mut self, setting: MeterSetting, value: SettingValue) -> Result<(), LinkError>;
    /// Sends a request as it is: the protocol suite needs what a profile-bound
    /// client would never send.
    async fn raw(&mut self, request: Request<'static>) -> RawOutcome;
    /// Puts bytes on a serial line as they are, silences included, and
    /// listens for `listen` (Modbus over Serial Line V1.02 §2.5.1: what a
    /// conforming client never sends). `Unsupported` on a TCP link.
    async fn raw_frame(
        &mut self,
        tx: &Transmission,
        listen: Duration,
    ) -> Result<RawReply, LinkError> {
        let _ = (tx, listen);
        Err(LinkError::Unsupported {
            message: format!("{} cannot send raw RTU frames", self.describe()),
        })
    }
    /// Asks for wire-true character timing (the simulated line paces only
    /// when asked and its rig allows); says what timing the line has now.
    fn pace_line(&mut self, on: bool) -> LineTiming {
        let _ = on;
        LineTiming::NotSerial
    }
    /// Talks to the meter at another address and/or line settings from now on
    /// (after changing them on the meter).
    async fn reconnect(&mut self, address: u8, line: Option<LineSettings>)
    -> Result<(), LinkError>;
    /// The address and line settings in use.
    fn address(&self) -> u8;
    fn line(&self) -> Option<LineSettings>;
    /// Every frame exchanged since the last call, for the journal.
    fn take_log(&mut self) -> Vec<FrameRecord>;
    /// The retries made since the last call, one sentence each, for the record.
    /// The requests this link has made and the characters they cost, as
    /// RTU frames: what its traffic holds an RS485 wire for.
    fn traffic(&self) -> crate::modbus::Traffic {
        crate::modbus::Traffic::default()
    }
    fn take_retries(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// Model, serial and firmware as the meter reports them (registers the
    /// profile lacks are `None`).
    async fn identify(&mut self) -> Result<MeterSelf, LinkError> {
        let mut me = MeterSelf::default();
        let p = self.profile().clone();
        if p.register(MeterQuantity::ModelId).is_some() {
            me.model_id = Some(crate::quantity::trim_float(
                self.read(MeterQuantity::ModelId).await?.canonical(),
            ));
        }
        if p.register(MeterQuantity::SerialNumber).is_some() {
            me.serial_number = Some(crate::quantity::trim_float(
                self.read(MeterQuantity::SerialNumber).await?.canonical(),
            ));
        }
        if p.register(MeterQuantity::FirmwareVersion).is_some() {
            me.firmware = Some(format!(
                "{:.2}",
                self.read(MeterQuantity::FirmwareVersion).await?.canonical()
            ));
        }
        Ok(me)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_beyond_any_duration_saturates_instead_of_panicking() {
        for v in [f64::INFINITY, 1e300, f64::NAN, -5.0] {
            let r = Reading::from_canonical(Dimension::Time, v);
            assert!(matches!(r, Reading::Time(_)), "{r:?}");
        }
        assert_eq!(
            Reading::from_canonical(Dimension::Time, f64::INFINITY),
            Reading::Time(Duration::MAX)
        );
    }
}
