//! Real instruments. Each driver is one file, selected by `kind` in the rig
//! file; they share the Modbus link code with the simulated rig.

pub mod modbus_rtu;
pub mod modbus_tcp;

use std::sync::Arc;

use crate::rig::config::{LinkConfig, RigConfig};
use crate::rig::meter_link::MeterLink;
use crate::rig::{Position, Rig, RigError, WallClock};

/// Opens a lab rig: real meter links; source and reference are "none" in
/// this build (the meter is energised by hand and read only).
pub async fn open_lab_rig(config: RigConfig) -> Result<Rig, RigError> {
    let mut positions = Vec::new();
    for p in &config.positions {
        let who = format!("position {}", p.index + 1);
        let address = p
            .address
            .unwrap_or_else(|| p.profile.serial.as_ref().map_or(1, |s| s.address_default));
        let link: Option<Box<dyn MeterLink>> = match &p.link {
            LinkConfig::Rtu { device, line } => {
                let line = line.ok_or_else(|| {
                    RigError::instrument(&who, "an RTU link needs a profile with [serial]")
                })?;
                Some(Box::new(
                    modbus_rtu::open(device, line, address, p.timeout, p.profile.clone()).map_err(
                        |e| RigError::Link {
                            instrument: who.clone(),
                            source: e,
                        },
                    )?,
                ))
            }
            LinkConfig::Tcp { address: addr } => Some(Box::new(
                modbus_tcp::open(*addr, address, p.timeout, p.profile.clone()).map_err(|e| {
                    RigError::Link {
                        instrument: who.clone(),
                        source: e,
                    }
                })?,
            )),
            LinkConfig::None => None,
            other => {
                return Err(RigError::instrument(
                    &who,
                    format!("link {other:?} needs a simulated rig"),
                ));
            }
        };
        positions.push(Position {
            index: p.index,
            profile: Arc::clone(&p.profile),
            link,
            pulses: None,
            tariff: None,
        });
    }
    Ok(Rig {
        clock: Arc::new(WallClock::new()),
        source: None,
        reference: None,
        positions,
        tasks: Vec::new(),
        sim: None,
        config: Arc::new(config),
    })
}
