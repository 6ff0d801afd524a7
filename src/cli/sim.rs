//! `metrig sim serve`: a standalone simulated meter that third-party Modbus
//! tools can read. Its rig time follows the wall clock, so its counters move.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Subcommand;
use harness::load_point::LoadPoint;
use harness::profile::{MeterSetting, SettingValue, load_profile};
use harness::rig::RigInstant;
use harness::rig::source::SourceState;
use harness::sim::meter_model::{MeterModel, SimIdentity};
use harness::sim::modbus_server::MeterService;
use harness::sim::world::{SimWorld, lock};
use harness::sim::{serve_on_pty, tcp_server};
use harness::station::load_rig;

use super::{EXIT_OK, read::reference_point, usage};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve one simulated meter over Modbus TCP or RTU until Ctrl-C.
    Serve {
        /// The meter profile.
        #[arg(long)]
        meter: PathBuf,
        /// Listen for Modbus TCP on this address, e.g. 127.0.0.1:5020.
        #[arg(long, conflicts_with = "rtu")]
        tcp: Option<SocketAddr>,
        /// Serve Modbus RTU on a new pseudo-terminal and print its path.
        #[arg(long)]
        rtu: bool,
        /// Serve RTU frames over TCP on this address, as a transparent
        /// RS485-to-Ethernet gateway passes them.
        #[arg(long, conflicts_with_all = ["rtu", "tcp"])]
        rtu_over_tcp: Option<SocketAddr>,
        /// Take the meter's identity, address and faults from this rig file's
        /// first position using the same profile.
        #[arg(long)]
        rig: Option<PathBuf>,
        /// Load point (default Un, Iref, PF 1, fn).
        #[arg(long)]
        load: Option<String>,
    },
}

pub async fn run(cmd: SimCommand) -> anyhow::Result<ExitCode> {
    let SimCommand::Serve {
        meter,
        tcp,
        rtu,
        rtu_over_tcp,
        rig,
        load,
    } = cmd;
    if tcp.is_none() && !rtu && rtu_over_tcp.is_none() {
        return Err(usage(
            "say where to serve: --tcp ADDR, --rtu or --rtu-over-tcp ADDR",
        ));
    }
    let profile = Arc::new(load_profile(&meter)?);
    if !profile.has_modbus() {
        return Err(usage(format!(
            "{} is a pulse-only meter: there is nothing to serve over Modbus",
            meter.display()
        )));
    }
    let mut identity = SimIdentity {
        model_id: profile
            .model
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>()
            .parse()
            .unwrap_or(0),
        serial_number: 1,
        firmware: "1.00".into(),
    };
    let mut faults = Default::default();
    let mut address = None;
    let mut seed = 1;
    if let Some(rig_file) = &rig {
        let config = load_rig(rig_file)?;
        seed = config.config.seed;
        let pos = config
            .config
            .positions
            .iter()
            .find(|p| p.profile.id == profile.id && config.sim(p.index).is_some())
            .ok_or_else(|| {
                usage(format!(
                    "{} has no simulated position with profile {}",
                    rig_file.display(),
                    profile.id
                ))
            })?;
        if let Some(sim) = config.sim(pos.index) {
            identity = sim.identity.clone();
            faults = sim.faults.clone();
        }
        address = pos.address;
    }
    let point = match load {
        Some(text) => LoadPoint::parse(&text, reference_point(&profile))
            .map_err(|e| usage(format!("--load: {e}")))?,
        None => reference_point(&profile),
    };
    let limits = harness::rig::safety::SourceLimits {
        max_voltage: profile.ratings.u_max(),
        max_current: profile.ratings.imax,
        frequency: (
            harness::quantity::Hertz(0.0),
            harness::quantity::Hertz(1000.0),
        ),
    };
    harness::rig::safety::check_load_point(&point, &profile.ratings, &profile.id, &limits)
        .map_err(|e| usage(format!("--load: {e}")))?;
    let model = Arc::new(Mutex::new(MeterModel::new(
        profile.clone(),
        identity,
        faults,
        seed,
    )));
    if let Some(a) = address {
        let _ =
            lock(&model).apply_setting(MeterSetting::Address, &SettingValue::Number(f64::from(a)));
    }
    let world = Arc::new(Mutex::new(SimWorld::new(vec![model.clone()])));
    lock(&world).set_source(SourceState::On(point));
    let service = Arc::new(MeterService::new(model.clone(), seed));
    let unit = lock(&model).settings().address;
    let _keep_client_end;
    if let Some(addr) = tcp {
        let (local, _task) = tcp_server::spawn_tcp(service, addr).await?;
        say!("modbus tcp {local} unit {unit}")?;
        _keep_client_end = None;
    } else if let Some(addr) = rtu_over_tcp {
        let (local, _task) = harness::sim::rtu_server::spawn_rtu_over_tcp(service, addr).await?;
        say!("modbus rtu-over-tcp {local} unit {unit}")?;
        _keep_client_end = None;
    } else {
        let ep = serve_on_pty(service, false, harness::sim::LinePacing::Off)?;
        say!("modbus rtu {} unit {unit}", ep.path)?;
        // Notices after the address line are best effort: a reader that took
        // only the address must not stop the meter.
        // A pty ignores baud and parity, but termios on Linux refuses to
        // set parity on one: pyserial/pymodbus with parity E fail with
        // `termios.error: (22, 'Invalid argument')` before any frame.
        let _ = say!(
            "(a pseudo-terminal ignores baud rate; open it with parity N (no parity), as pyserial \
             and pymodbus cannot set parity on a pty; a client that needs even parity reaches the \
             meter with --rtu-over-tcp ADDR instead)"
        );
        _keep_client_end = Some(ep.client);
    }
    let _ = say!(
        "meter {} at {point}; rig time follows the wall clock; Ctrl-C stops",
        profile.id
    );
    let started = Instant::now();
    let ticker = {
        let world = world.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(100));
            loop {
                every.tick().await;
                lock(&world).advance_to(RigInstant(started.elapsed()));
            }
        })
    };
    super::wait_for_stop().await;
    ticker.abort();
    lock(&world).set_source(SourceState::Off);
    Ok(ExitCode::from(EXIT_OK))
}
