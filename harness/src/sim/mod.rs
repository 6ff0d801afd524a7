//! The simulated rig: the embedded default bench. Not a mock: it models the
//! meter's physics and serves the real register map over real Modbus RTU on a
//! pseudo-terminal and Modbus TCP on loopback, so the very driver code that
//! talks to a lab's meter talks to it.
//!
//! Owns: the meter model, its faults and identity ([`SimMeterConfig`]), the
//! simulated world and its instruments, the Modbus servers and the
//! pseudo-terminal lines they answer on; [`world::SimBench`] is the
//! `rig::SimulatedBench` lockstep and tests see.
//! May import: `rig`, `drivers` (the very Modbus link a lab uses), `modbus`,
//! `profile`, `quantity`, `load_point`. Never `station`.

pub mod accept;
pub mod climate;
pub mod clock;
pub mod faults;
pub mod line;
pub mod meter_model;
pub mod modbus_server;
pub mod pulse_input;
pub mod pulses;
pub mod reference;
pub mod registers;
pub mod rs485_bus;
pub mod rtu_server;
pub mod source;
pub mod tariff_output;
pub mod tcp_server;
pub mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::drivers::ModbusMeterLink;
use crate::modbus::{LineControl, ModbusTransport, Port, SharedLine, SharedSerial};
use crate::rig::Identity;
use crate::rig::config::{LinkConfig, RigConfig};
use crate::rig::meter_link::MeterLink;
use crate::rig::pulse_input::PulseChannel;
use crate::rig::simulated::SimulatedBench;
use crate::rig::{Position, Rig, RigError};
pub use line::{AnnouncedLine, LinePacing, SimLine};
use meter_model::MeterModel;
use modbus_server::MeterService;
use world::{SharedWorld, SimWorld};

/// One simulated meter as the rig file's `[positions.sim]` describes it.
#[derive(Debug, Clone)]
pub struct SimMeterConfig {
    pub identity: meter_model::SimIdentity,
    pub faults: faults::Faults,
}

/// How long the link waits after a timeout before flushing: past the
/// simulated meter's slowest configured reply.
fn settle_for(faults: &faults::Faults, timeout: Duration) -> Duration {
    let slowest = faults.latency_ms.map_or(0, |[_, hi]| hi);
    Duration::from_millis(slowest + 20).max(timeout / 4)
}

/// A simulated meter served on a pty, with the client end ready for a link.
#[derive(Debug)]
pub struct RtuEndpoint {
    pub client: tokio_serial::SerialStream,
    pub path: String,
    pub line: SimLine,
    pub task: tokio::task::JoinHandle<()>,
}

/// Serves `service` over RTU on a fresh pseudo-terminal pair. With
/// `announce_line`, the client's line settings and write instants travel
/// beside the bytes (metrig's own link); without, any client can use the pty.
pub fn serve_on_pty(
    meters: impl Into<rs485_bus::Rs485Bus>,
    announce_line: bool,
    pacing: LinePacing,
) -> Result<RtuEndpoint, RigError> {
    let (master, slave) = tokio_serial::SerialStream::pair().map_err(|e| {
        RigError::instrument(
            "simulated meter",
            format!("cannot open a pseudo-terminal pair: {e}"),
        )
    })?;
    let path = tokio_serial::SerialPort::name(&slave).unwrap_or_else(|| "pty".into());
    let line: SimLine = Arc::new(Mutex::new(AnnouncedLine {
        pacing,
        paced: pacing == LinePacing::Always,
        ..AnnouncedLine::default()
    }));
    let meta = announce_line.then(|| line.clone());
    let task = tokio::spawn(rtu_server::serve_rtu(master, Arc::new(meters.into()), meta));
    Ok(RtuEndpoint {
        client: slave,
        path,
        line,
        task,
    })
}

/// The meters served on a fresh pty at `profile`'s factory line settings,
/// and metrig's end of it as a port whose settings travel beside the bytes.
fn pty_port(
    meters: impl Into<rs485_bus::Rs485Bus>,
    profile: &crate::profile::MeterProfile,
    who: &str,
    pacing: LinePacing,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<Port, RigError> {
    let line = profile
        .serial
        .as_ref()
        .map(|s| s.factory_line())
        .ok_or_else(|| RigError::instrument(who, "an RTU link needs a profile with [serial]"))?;
    let ep = serve_on_pty(meters, true, pacing)?;
    tasks.push(ep.task);
    Ok(Port::Serial {
        stream: SharedSerial::stamped(ep.client, ep.line.clone()),
        name: ep.path,
        line,
        control: LineControl::Announced(ep.line),
    })
}

/// One pseudo-terminal per named bus, every meter that names it listening
/// on it, and one transport the positions take turns on.
fn open_shared_buses(
    config: &RigConfig,
    sims: &[SimMeterConfig],
    pacing: LinePacing,
    services: &[Arc<MeterService>],
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> Result<std::collections::BTreeMap<String, Arc<SharedLine>>, RigError> {
    let mut on_bus: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, p) in config.positions.iter().enumerate() {
        if let LinkConfig::SimRtu { bus: Some(b) } = &p.link {
            on_bus.entry(b.clone()).or_default().push(i);
        }
    }
    let mut lines = std::collections::BTreeMap::new();
    for (bus, members) in on_bus {
        let first = &config.positions[members[0]];
        let name = format!("RS485 bus \"{bus}\"");
        let meters: Vec<_> = members.iter().map(|&i| services[i].clone()).collect();
        let port = pty_port(meters, &first.profile, &name, pacing, tasks)?;
        // After a timeout the line rests past the slowest meter's reply.
        let settle = members
            .iter()
            .map(|&i| {
                let faults = sims.get(i).map(|s| s.faults.clone()).unwrap_or_default();
                settle_for(&faults, first.timeout)
            })
            .max()
            .unwrap_or_default();
        let transport =
            ModbusTransport::new(port, first.unit(), first.timeout, settle).map_err(|e| {
                RigError::Link {
                    instrument: name.clone(),
                    source: e,
                }
            })?;
        lines.insert(bus, SharedLine::new(transport));
    }
    Ok(lines)
}

/// Builds the simulated rig a rig file describes: `sims` holds each
/// position's simulated meter, in order; `pacing` says when the simulated
/// RTU lines pace their characters.
pub async fn open_sim_rig(
    config: RigConfig,
    sims: Vec<SimMeterConfig>,
    pacing: LinePacing,
) -> Result<Rig, RigError> {
    let mut meters = Vec::new();
    let mut identities = Vec::new();
    for p in &config.positions {
        let sim = sims.get(p.index).cloned().ok_or_else(|| {
            RigError::instrument(
                format!("position {}", p.index + 1),
                "no simulated meter configured",
            )
        })?;
        identities.push(Identity {
            role: format!("meter {}", p.index + 1),
            maker: p.profile.maker.clone(),
            model: p.profile.model.clone(),
            serial: sim.identity.serial_number.to_string(),
            firmware: Some(sim.identity.firmware.clone()),
            calibration_due: None,
            simulated: true,
        });
        let seed = config
            .seed
            .wrapping_mul(1_000_003)
            .wrapping_add(p.index as u64);
        meters.push(Arc::new(Mutex::new(MeterModel::new(
            p.profile.clone(),
            sim.identity,
            sim.faults,
            seed,
        ))));
    }
    let world: SharedWorld = Arc::new(Mutex::new(SimWorld::new(meters.clone())));
    let mut tasks = Vec::new();
    let mut positions = Vec::new();
    let mut services = Vec::new();
    for (p, meter) in config.positions.iter().zip(&meters) {
        let seed = config.seed.wrapping_add(p.index as u64);
        services.push(Arc::new(MeterService::new(meter.clone(), seed)));
        if let Some(a) = p.address {
            // The rig file places the meter at another address: set it as an installer would.
            let _ = world::lock(meter).apply_setting(
                crate::profile::MeterSetting::Address,
                &crate::profile::SettingValue::Number(f64::from(a)),
            );
        }
    }
    let shared_lines = open_shared_buses(&config, &sims, pacing, &services, &mut tasks)?;
    for (p, service) in config.positions.iter().zip(services) {
        let faults = sims
            .get(p.index)
            .map(|s| s.faults.clone())
            .unwrap_or_default();
        let address = p.unit();
        let settle = settle_for(&faults, p.timeout);
        let link: Option<Box<dyn MeterLink>> =
            match &p.link {
                LinkConfig::SimRtu { bus: Some(bus) } => {
                    let line = shared_lines.get(bus).cloned().ok_or_else(|| {
                        RigError::instrument(format!("position {}", p.index + 1), "no bus")
                    })?;
                    Some(Box::new(ModbusMeterLink::on_shared_line(
                        line,
                        address,
                        p.profile.clone(),
                    )))
                }
                LinkConfig::SimRtu { bus: None } => {
                    let port = pty_port(
                        service,
                        &p.profile,
                        &format!("position {}", p.index + 1),
                        pacing,
                        &mut tasks,
                    )?;
                    let transport = ModbusTransport::new(port, address, p.timeout, settle)
                        .map_err(|e| RigError::Link {
                            instrument: format!("position {}", p.index + 1),
                            source: e,
                        })?;
                    Some(Box::new(ModbusMeterLink::new(transport, p.profile.clone())))
                }
                LinkConfig::SimTcp => {
                    let (addr, task) =
                        tcp_server::spawn_tcp(service, SocketAddr::from(([127, 0, 0, 1], 0)))
                            .await
                            .map_err(|e| {
                                RigError::instrument(
                                    "simulated meter",
                                    format!("cannot listen on 127.0.0.1: {e}"),
                                )
                            })?;
                    tasks.push(task);
                    let transport =
                        ModbusTransport::new(Port::Tcp { addr }, address, p.timeout, settle)
                            .map_err(|e| RigError::Link {
                                instrument: format!("position {}", p.index + 1),
                                source: e,
                            })?;
                    Some(Box::new(ModbusMeterLink::new(transport, p.profile.clone())))
                }
                LinkConfig::None => None,
                other => {
                    return Err(RigError::instrument(
                        format!("position {}", p.index + 1),
                        format!("link {other:?} is not simulated"),
                    ));
                }
            };
        let mut channels = vec![PulseChannel::Led];
        if p.profile.pulse.s0.is_some() {
            channels.push(PulseChannel::S0);
        }
        let pulses: Box<dyn crate::rig::pulse_input::PulseInput> = Box::new(
            pulse_input::SimPulseInput::new(world.clone(), p.index, channels),
        );
        let tariff: Option<Box<dyn crate::rig::tariff_output::TariffOutput>> =
            p.profile.tariff.as_ref().map(|_| {
                Box::new(tariff_output::SimTariffOutput::new(world.clone(), p.index))
                    as Box<dyn crate::rig::tariff_output::TariffOutput>
            });
        positions.push(Position {
            index: p.index,
            profile: p.profile.clone(),
            link: link.map(|l| {
                Box::new(crate::rig::retry::RetryingLink::new(l, p.retry)) as Box<dyn MeterLink>
            }),
            pulses: Some(pulses),
            tariff,
        });
    }
    let c = &config;
    let source = Box::new(source::SimSource::new(world.clone(), c.source.limits));
    let reference = Box::new(reference::SimReference::new(
        world.clone(),
        c.reference.uncertainty_pf1,
        c.reference.uncertainty_low_pf,
        c.reference.constant,
        c.seed,
    ));
    let bench: Arc<dyn SimulatedBench> = Arc::new(world::SimBench(world.clone()));
    Ok(Rig::assemble(
        config,
        Arc::new(clock::SimClock::new(world)),
        Some(source),
        Some(reference),
        None,
        positions,
        tasks,
        Some((bench, identities)),
    ))
}
