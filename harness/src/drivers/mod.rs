//! Real instruments. Each driver is one file, selected by `kind` in the rig
//! file; they share the Modbus link code with the simulated rig.
//!
//! Owns: the drivers, their configuration types (SCPI dialects in
//! `scpi::config`, [`gpio_pulse_input::GpioPulseConfig`], [`TariffConfig`],
//! [`modbus_climate::ModbusClimateConfig`])
//! and [`ModbusMeterLink`], the one `MeterLink` over Modbus that the
//! simulator's meters are read through too.
//! May import: `rig`, `modbus`, `profile`, `quantity`, `load_point`,
//! `files`. Never `sim` or `station`.

pub mod gpio_pulse_input;
pub mod gpio_tariff_output;
pub mod modbus_climate;
pub mod modbus_coil_tariff_output;
mod modbus_link;
pub mod modbus_rtu;
pub mod modbus_tcp;
#[cfg(feature = "probe")]
pub mod probe_flasher;
pub mod scpi;
pub mod scpi_error_calculator;
pub mod scpi_reference;
pub mod scpi_source;

use std::sync::Arc;

pub use modbus_link::ModbusMeterLink;

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::rig::config::{LinkConfig, RigConfig};
use crate::rig::meter_link::MeterLink;
use crate::rig::{Position, Rig, RigError, WallClock};

/// Where a lab position's tariff input is driven from.
#[derive(Debug, Clone, PartialEq)]
pub enum TariffConfig {
    Gpio {
        chip: PathBuf,
        line: u32,
        active_low: bool,
    },
    ModbusCoil {
        address: SocketAddr,
        unit: u8,
        coil: u16,
    },
}

/// What a lab rig's file says beyond the bench's description: the SCPI
/// instruments and each position's pulse capture and tariff output.
#[derive(Debug, Clone, Default)]
pub struct LabInstruments {
    pub source: Option<scpi::config::ScpiSourceConfig>,
    pub reference: Option<scpi::config::ScpiReferenceConfig>,
    /// One entry per position, in order.
    pub positions: Vec<LabPosition>,
}

/// One lab position's capture and output hardware.
#[derive(Debug, Clone, Default)]
pub struct LabPosition {
    pub pulses: Option<gpio_pulse_input::GpioPulseConfig>,
    pub tariff: Option<TariffConfig>,
}

/// Opens a lab rig: the SCPI source and reference (or none: a meter
/// energised by hand, only read), the error calculator where the reference
/// has one, and the meters' links.
pub async fn open_lab_rig(config: RigConfig, lab: LabInstruments) -> Result<Rig, RigError> {
    let clock: Arc<dyn crate::rig::RigClock> = Arc::new(WallClock::new());
    let source: Option<Box<dyn crate::rig::source::Source>> = match &lab.source {
        Some(c) => Some(Box::new(scpi_source::ScpiSource::open(c.clone()).await?)),
        None => None,
    };
    let (reference, error_calculator) = match &lab.reference {
        Some(c) => {
            let r = &config.reference;
            let reference: Box<dyn crate::rig::reference::ReferenceStandard> = Box::new(
                scpi_reference::ScpiReference::open(
                    c.clone(),
                    r.uncertainty_pf1,
                    r.uncertainty_low_pf,
                    r.constant,
                    clock.clone(),
                )
                .await?,
            );
            let ecal: Option<Box<dyn crate::rig::error_calculator::ErrorCalculator>> =
                match &c.error_calculator {
                    Some(e) => Some(Box::new(
                        scpi_error_calculator::ScpiErrorCalculator::open(
                            &c.common,
                            e.clone(),
                            r.constant.0,
                        )
                        .await?,
                    )),
                    None => None,
                };
            (Some(reference), ecal)
        }
        None => (None, None),
    };
    let mut positions = Vec::new();
    let mut shared_lines = std::collections::BTreeMap::new();
    for p in &config.positions {
        let who = format!("position {}", p.index + 1);
        let hw = lab.positions.get(p.index).cloned().unwrap_or_default();
        let address = p
            .address
            .unwrap_or_else(|| p.profile.serial.as_ref().map_or(1, |s| s.address_default));
        let link: Option<Box<dyn MeterLink>> = match &p.link {
            LinkConfig::Rtu {
                device,
                line,
                inter_frame,
            } => {
                let line = line.ok_or_else(|| {
                    RigError::instrument(&who, "an RTU link needs a profile with [serial]")
                })?;
                let sharing = config
                    .positions
                    .iter()
                    .filter(|q| q.shared_line() == p.shared_line())
                    .count();
                if sharing > 1 {
                    // Several meters on one RS485 adapter: one port, turns on it.
                    let key = device.display().to_string();
                    let shared = match shared_lines.get(&key) {
                        Some(l) => Arc::clone(l),
                        None => {
                            let t = modbus_rtu::open_transport(
                                device,
                                line,
                                address,
                                p.timeout,
                                *inter_frame,
                                &p.profile,
                            )
                            .map_err(|e| RigError::Link {
                                instrument: who.clone(),
                                source: e,
                            })?;
                            let l = crate::modbus::SharedLine::new(t);
                            shared_lines.insert(key, l.clone());
                            l
                        }
                    };
                    Some(Box::new(ModbusMeterLink::on_shared_line(
                        shared,
                        address,
                        p.profile.clone(),
                    )))
                } else {
                    Some(Box::new(
                        modbus_rtu::open(
                            device,
                            line,
                            address,
                            p.timeout,
                            *inter_frame,
                            p.profile.clone(),
                        )
                        .map_err(|e| RigError::Link {
                            instrument: who.clone(),
                            source: e,
                        })?,
                    ))
                }
            }
            LinkConfig::Tcp { address: addr } => Some(Box::new(
                modbus_tcp::open(*addr, address, p.timeout, p.profile.clone()).map_err(|e| {
                    RigError::Link {
                        instrument: who.clone(),
                        source: e,
                    }
                })?,
            )),
            LinkConfig::RtuOverTcp { address: addr } => Some(Box::new(
                modbus_tcp::open_rtu_over_tcp(*addr, address, p.timeout, p.profile.clone())
                    .map_err(|e| RigError::Link {
                        instrument: who.clone(),
                        source: e,
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
        let pulses: Option<Box<dyn crate::rig::pulse_input::PulseInput>> = match &hw.pulses {
            Some(c) => Some(Box::new(gpio_pulse_input::GpioPulseInput::open(
                p.index,
                c.clone(),
                clock.clone(),
            )?)),
            None => None,
        };
        let tariff: Option<Box<dyn crate::rig::tariff_output::TariffOutput>> = match &hw.tariff {
            Some(TariffConfig::Gpio {
                chip,
                line,
                active_low,
            }) => Some(Box::new(gpio_tariff_output::GpioTariffOutput::open(
                p.index,
                chip.clone(),
                *line,
                *active_low,
            )?)),
            Some(TariffConfig::ModbusCoil {
                address: a,
                unit,
                coil,
            }) => Some(Box::new(
                modbus_coil_tariff_output::ModbusCoilTariffOutput::new(
                    p.index, *a, *unit, *coil, p.timeout,
                ),
            )),
            None => None,
        };
        positions.push(Position {
            index: p.index,
            profile: Arc::clone(&p.profile),
            link: link.map(|l| {
                Box::new(crate::rig::retry::RetryingLink::new(l, p.retry)) as Box<dyn MeterLink>
            }),
            pulses,
            tariff,
        });
    }
    Ok(Rig::assemble(
        config,
        clock,
        source,
        reference,
        error_calculator,
        positions,
        Vec::new(),
        None,
    ))
}
