//! Reading a counter's finer register (issue 20): its `high_resolution`
//! register, or the one its factory test mode shows, and entering and
//! leaving that mode.
//!
//! These registers are not named quantities of their own (the link reads a
//! quantity's normal register), so they are read and written as the profile
//! places them, through the link's plain Modbus requests.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use tokio_modbus::{Request, Response};

use crate::modbus::LinkError;
use crate::profile::{
    MeterProfile, MeterQuantity, MeterSetting, ModeWrite, Placement, SettingValue,
};
use crate::rig::meter_link::MeterLink;

/// Which register of a counter a dial reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DialRegister {
    /// The counter's own register (`[[registers]]`).
    #[default]
    Normal,
    /// Its `high_resolution` register.
    HighResolution,
    /// The register the profile's `[test_mode]` shows, read with the mode on.
    TestMode,
}

impl DialRegister {
    pub fn is_normal(&self) -> bool {
        *self == DialRegister::Normal
    }

    /// The lab's words, for the dry-run and the record.
    pub fn describe(self) -> &'static str {
        match self {
            DialRegister::Normal => "its register",
            DialRegister::HighResolution => "its high-resolution register",
            DialRegister::TestMode => "the test mode's register",
        }
    }
}

/// Where `profile` puts `quantity` as `via` reads it; `None`: not declared.
pub fn dial_place(
    profile: &MeterProfile,
    quantity: MeterQuantity,
    via: DialRegister,
) -> Option<&Placement> {
    match via {
        DialRegister::Normal => profile.register(quantity).map(|r| &r.place),
        DialRegister::HighResolution => profile
            .register(quantity)
            .and_then(|r| r.high_resolution.as_ref()),
        DialRegister::TestMode => profile
            .test_mode
            .as_ref()
            .and_then(|t| t.register(quantity))
            .map(|r| &r.place),
    }
}

/// The read function for `table`, as the link's own reads choose it (a
/// meter whose 03 and 04 read one table may offer only one of them).
/// Reads the value at `place` (a counter: canonical units).
pub async fn read_place(
    link: &mut dyn MeterLink,
    what: &str,
    place: &Placement,
) -> Result<f64, LinkError> {
    let f = link.profile().read_function(place.table);
    let (req, desc) = crate::modbus::read_request(what, f, place);
    match link.raw(req).await? {
        Ok(Response::ReadHoldingRegisters(w) | Response::ReadInputRegisters(w))
            if w.len() == place.words() as usize =>
        {
            place.decode(&w).map_err(|e| LinkError::Decode {
                message: format!("{what}: {e}"),
            })
        }
        Ok(other) => Err(LinkError::Protocol {
            message: format!("{desc}: unexpected answer {other:?}"),
        }),
        Err(code) => Err(LinkError::exception(code, desc)),
    }
}

/// Writes the mode switch's code, after the password when the profile
/// marks the mode protected.
async fn switch(link: &mut dyn MeterLink, what: &str, w: &ModeWrite) -> Result<(), LinkError> {
    let profile = link.profile();
    let protected = profile.test_mode.as_ref().is_some_and(|t| t.protected);
    let password = profile.setting(MeterSetting::Password).and_then(|d| d.code);
    let multiple = profile
        .modbus
        .as_ref()
        .is_some_and(|m| m.write_functions.contains(&16));
    if protected && let Some(code) = password {
        link.write(MeterSetting::Password, SettingValue::Number(code))
            .await?;
    }
    let words = w
        .place
        .coding
        .encode(w.code)
        .map_err(|e| LinkError::profile(format!("{what}: {e}")))?;
    let req = if multiple || words.len() != 1 {
        Request::WriteMultipleRegisters(w.place.address, Cow::Owned(words))
    } else {
        Request::WriteSingleRegister(w.place.address, words[0])
    };
    let desc = format!("{what} (write {} at 0x{:04X})", w.code, w.place.address);
    match link.raw(req).await? {
        Ok(_) => Ok(()),
        Err(code) => Err(LinkError::exception(code, desc)),
    }
}

/// Puts the meter in its test mode (`[test_mode] enter`).
pub async fn enter_test_mode(link: &mut dyn MeterLink) -> Result<(), LinkError> {
    let Some(t) = link.profile().test_mode.clone() else {
        return Err(LinkError::profile(format!(
            "profile {} declares no [test_mode]",
            link.profile().id
        )));
    };
    switch(link, "enter the test mode", &t.enter).await
}

/// Takes the meter out of its test mode (`[test_mode] leave`); nothing to
/// do for a profile without one. Written whether or not the mode is on: a
/// run ends with it, on every exit path, as the source is switched off.
pub async fn leave_test_mode(link: &mut dyn MeterLink) -> Result<(), LinkError> {
    let Some(t) = link.profile().test_mode.clone() else {
        return Ok(());
    };
    switch(link, "leave the test mode", &t.leave).await
}
