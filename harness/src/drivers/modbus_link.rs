//! `MeterLink` over Modbus: named quantities through the profile's codec.
//! The same code talks to the simulated meter and to a meter on a lab bench;
//! only the `Port` differs.

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_modbus::{Request, Response};

use crate::modbus::{
    FrameRecord, LineTiming, LinkError, ModbusTransport, RawOutcome, RawReply, SharedLine, Traffic,
    Transmission, Wire,
};
use crate::profile::{
    LineSettings, MeterProfile, MeterQuantity, MeterSetting, Placement, SettingValue,
};
use crate::rig::meter_link::{MeterLink, Reading};

#[derive(Debug)]
pub struct ModbusMeterLink {
    wire: Wire,
    profile: Arc<MeterProfile>,
}

impl ModbusMeterLink {
    pub fn new(transport: ModbusTransport, profile: Arc<MeterProfile>) -> Self {
        Self {
            wire: Wire::Own(transport),
            profile,
        }
    }

    /// The meter at `address` on an RS485 line other meters share.
    pub fn on_shared_line(line: Arc<SharedLine>, address: u8, profile: Arc<MeterProfile>) -> Self {
        Self {
            wire: Wire::Shared {
                line,
                unit: address,
                log: Vec::new(),
                traffic: Traffic::default(),
            },
            profile,
        }
    }

    async fn read_words(&mut self, what: &str, place: &Placement) -> Result<Vec<u16>, LinkError> {
        let f = self.profile.read_function(place.table);
        let (req, desc) = crate::modbus::read_request(what, f, place);
        match self.wire.hold().await?.call(req).await? {
            Ok(Response::ReadHoldingRegisters(w) | Response::ReadInputRegisters(w)) => {
                if w.len() != place.words() as usize {
                    return Err(LinkError::Protocol {
                        message: format!("{desc}: {} words back", w.len()),
                    });
                }
                Ok(w)
            }
            Ok(other) => Err(LinkError::Protocol {
                message: format!("{desc}: unexpected answer {other:?}"),
            }),
            Err(code) => Err(LinkError::exception(code, desc)),
        }
    }

    async fn write_words(
        &mut self,
        what: &str,
        place: &Placement,
        words: Vec<u16>,
    ) -> Result<(), LinkError> {
        let functions = self
            .profile
            .modbus
            .as_ref()
            .map(|m| m.write_functions.clone())
            .unwrap_or_default();
        let req = if functions.contains(&16) || words.len() != 1 {
            Request::WriteMultipleRegisters(place.address, Cow::Owned(words))
        } else {
            Request::WriteSingleRegister(place.address, words[0])
        };
        let desc = format!("write {what} at 0x{:04X}", place.address);
        match self.wire.hold().await?.call(req).await? {
            Ok(_) => Ok(()),
            Err(code) => Err(LinkError::exception(code, desc)),
        }
    }

    async fn unlock(&mut self) -> Result<(), LinkError> {
        let Some(pw) = self.profile.setting(MeterSetting::Password).cloned() else {
            return Ok(());
        };
        let code = pw.code.unwrap_or(0.0);
        let words = pw
            .place
            .coding
            .encode(code)
            .map_err(|e| LinkError::profile(format!("password code: {e}")))?;
        self.write_words("password", &pw.place, words).await
    }

    async fn signed(&mut self, value: f64, sign: MeterQuantity) -> Result<f64, LinkError> {
        if let Some(reg) = self.profile.register(sign).cloned() {
            let w = self.read_words(sign.name(), &reg.place).await?;
            let s = reg.place.decode(&w).map_err(|e| LinkError::Decode {
                message: e.to_string(),
            })?;
            if s >= 0.5 {
                return Ok(-value.abs());
            }
        }
        Ok(value)
    }
}

#[async_trait]
impl MeterLink for ModbusMeterLink {
    fn describe(&self) -> String {
        format!("{} ({})", self.wire.describe(), self.profile.id)
    }

    fn profile(&self) -> &MeterProfile {
        &self.profile
    }

    async fn read(&mut self, quantity: MeterQuantity) -> Result<Reading, LinkError> {
        let reg = self.profile.register(quantity).cloned().ok_or_else(|| {
            LinkError::profile(format!(
                "profile {} has no register for `{quantity}`",
                self.profile.id
            ))
        })?;
        if !reg.place.access.readable() {
            return Err(LinkError::profile(format!(
                "`{quantity}` is not readable in profile {}",
                self.profile.id
            )));
        }
        let words = self.read_words(quantity.name(), &reg.place).await?;
        let mut value = reg.place.decode(&words).map_err(|e| LinkError::Decode {
            message: format!("{quantity}: {e}"),
        })?;
        value = match quantity {
            MeterQuantity::ActivePower => {
                self.signed(value, MeterQuantity::ActivePowerSign).await?
            }
            MeterQuantity::ReactivePower => {
                self.signed(value, MeterQuantity::ReactivePowerSign).await?
            }
            _ => value,
        };
        Ok(Reading::from_canonical(quantity.dimension(), value))
    }

    async fn read_setting(&mut self, setting: MeterSetting) -> Result<SettingValue, LinkError> {
        let def = self.profile.setting(setting).cloned().ok_or_else(|| {
            LinkError::profile(format!(
                "profile {} has no setting `{setting}`",
                self.profile.id
            ))
        })?;
        if !def.place.access.readable() {
            return Err(LinkError::profile(format!(
                "setting `{setting}` cannot be read back"
            )));
        }
        let words = self.read_words(setting.name(), &def.place).await?;
        let code = def
            .place
            .coding
            .decode(&words)
            .map_err(|e| LinkError::Decode {
                message: format!("{setting}: {e}"),
            })?;
        def.value_for(code).ok_or_else(|| LinkError::Decode {
            message: format!("{setting}: code {code} is none of the profile's choices"),
        })
    }

    async fn write(&mut self, setting: MeterSetting, value: SettingValue) -> Result<(), LinkError> {
        let def = self.profile.setting(setting).cloned().ok_or_else(|| {
            LinkError::profile(format!(
                "profile {} has no setting `{setting}`",
                self.profile.id
            ))
        })?;
        let code = match def.code {
            Some(code) => code,
            None => def.code_for(&value).map_err(LinkError::profile)?,
        };
        let words = def
            .place
            .coding
            .encode(code)
            .map_err(|e| LinkError::profile(format!("{setting}: {e}")))?;
        if def.protected {
            self.unlock().await?;
        }
        self.write_words(setting.name(), &def.place, words).await
    }

    async fn raw(&mut self, request: Request<'static>) -> RawOutcome {
        self.wire.hold().await?.call(request).await
    }

    async fn raw_frame(
        &mut self,
        tx: &Transmission,
        listen: std::time::Duration,
    ) -> Result<RawReply, LinkError> {
        self.wire.hold().await?.raw_exchange(tx, listen).await
    }

    fn pace_line(&mut self, on: bool) -> LineTiming {
        self.wire.pace_line(on)
    }

    async fn reconnect(
        &mut self,
        address: u8,
        line: Option<LineSettings>,
    ) -> Result<(), LinkError> {
        self.wire.retarget(address, line).await
    }

    fn address(&self) -> u8 {
        self.wire.unit()
    }

    fn line(&self) -> Option<LineSettings> {
        self.wire.line()
    }

    fn take_log(&mut self) -> Vec<FrameRecord> {
        self.wire.take_log()
    }

    fn traffic(&self) -> Traffic {
        self.wire.traffic()
    }
}
