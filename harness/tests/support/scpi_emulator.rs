//! An SCPI lab instrument, emulated for tests: a source, a reference
//! standard and its error calculator in one box (as integrated test systems
//! are), on 127.0.0.1 and on a pty, over the simulated world, with the
//! simulated meter on Modbus TCP beside it. Its dialect is the one in
//! `fixtures/rigs/lab-scpi-tcp.toml`. `fail_on` makes it put an error in its
//! queue for any command starting with that text.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, Hertz, PhaseAngle, Volts};
use harness::rig::pulse_input::{PulseChannel, PulseInput};
use harness::rig::source::SourceState;
use harness::sim::meter_model::{MeterModel, SimIdentity};
use harness::sim::modbus_server::MeterService;
use harness::sim::pulse_input::SimPulseInput;
use harness::sim::world::{SharedWorld, SimWorld, lock};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// The emulated instrument's own ranges.
pub const MAX_V: f64 = 300.0;
pub const MAX_A: f64 = 120.0;
/// The emulated reference's pulse constant, imp/kWh.
pub const REFERENCE_CONSTANT: f64 = 1_000_000.0;

#[derive(Debug, Default)]
struct State {
    setpoint: (f64, f64, f64, f64),
    errors: VecDeque<String>,
    ecal: (usize, f64, usize, bool),
    result: Option<String>,
}

#[derive(Clone)]
pub struct Emulator {
    pub scpi: SocketAddr,
    pub modbus: SocketAddr,
    /// The pty path of the SCPI serial port.
    pub serial: String,
    pub world: SharedWorld,
    pub fail_on: Arc<Mutex<Option<String>>>,
    pub commands: Arc<Mutex<Vec<String>>>,
    state: Arc<Mutex<State>>,
}

impl Emulator {
    pub fn source(&self) -> SourceState {
        lock(&self.world).source()
    }
}

pub async fn start(profile: &Path, faults: harness::sim::faults::Faults) -> Emulator {
    let profile = Arc::new(harness::profile::load_profile(profile).expect("profile"));
    let meter = Arc::new(Mutex::new(MeterModel::new(
        profile,
        SimIdentity {
            model_id: 412083,
            serial_number: 77,
            firmware: "1.02".into(),
        },
        faults,
        11,
    )));
    let world: SharedWorld = Arc::new(Mutex::new(SimWorld::new(vec![meter.clone()])));
    let service = Arc::new(MeterService::new(meter, 11));
    let (modbus, _task) =
        harness::sim::tcp_server::spawn_tcp(service, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("modbus tcp");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let scpi = listener.local_addr().expect("addr");
    let (master, slave) = tokio_serial::SerialStream::pair().expect("pty");
    let serial = tokio_serial::SerialPort::name(&slave).expect("pty name");
    // Keep the slave end open so the pty stays up for the driver to open.
    std::mem::forget(slave);
    let emu = Emulator {
        scpi,
        modbus,
        serial,
        world,
        fail_on: Arc::new(Mutex::new(None)),
        commands: Arc::new(Mutex::new(Vec::new())),
        state: Arc::new(Mutex::new(State::default())),
    };
    let e = emu.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let e = e.clone();
            tokio::spawn(async move {
                let (r, w) = stream.into_split();
                serve(e, r, w).await;
            });
        }
    });
    let e = emu.clone();
    tokio::spawn(async move {
        let (r, w) = tokio::io::split(master);
        serve(e, r, w).await;
    });
    emu
}

async fn serve(e: Emulator, r: impl AsyncRead + Unpin, mut w: impl AsyncWrite + Unpin) {
    let mut lines = BufReader::new(r).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        for cmd in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            if let Some(answer) = handle(&e, cmd).await
                && w.write_all(format!("{answer}\n").as_bytes()).await.is_err()
            {
                return;
            }
        }
    }
}

fn number(arg: Option<&str>) -> Option<f64> {
    arg.and_then(|a| a.trim().parse().ok())
}

async fn handle(e: &Emulator, cmd: &str) -> Option<String> {
    e.commands.lock().expect("lock").push(cmd.to_string());
    let upper = cmd.to_ascii_uppercase();
    if let Some(prefix) = e.fail_on.lock().expect("lock").as_deref()
        && upper.starts_with(&prefix.to_ascii_uppercase())
    {
        let mut s = e.state.lock().expect("lock");
        s.errors.push_back("-222,\"Data out of range\"".into());
        return None;
    }
    let (head, arg) = match upper.split_once(' ') {
        Some((h, a)) => (h.to_string(), Some(a.to_string())),
        None => (upper.clone(), None),
    };
    if head == "ECAL:STAR" {
        let (input, k, n, reactive) = e.state.lock().expect("lock").ecal;
        let result = gate(e, input, k, n, reactive).await;
        let mut s = e.state.lock().expect("lock");
        match result {
            Some(r) => s.result = Some(r),
            None => s
                .errors
                .push_back("-200,\"Execution error: no pulses\"".into()),
        }
        return None;
    }
    let mut s = e.state.lock().expect("lock");
    let range_error = |ok: bool, s: &mut State| {
        if !ok {
            s.errors.push_back("-222,\"Data out of range\"".into());
        }
    };
    match head.as_str() {
        "*IDN?" => return Some("metrig-emulator,LAB-3000,EMU0001,1.0".into()),
        "*RST" | "*CLS" => {}
        "SYST:ERR?" => {
            return Some(
                s.errors
                    .pop_front()
                    .unwrap_or_else(|| "0,\"No error\"".into()),
            );
        }
        "VOLT" => match number(arg.as_deref()) {
            Some(v) if (0.0..=MAX_V).contains(&v) => s.setpoint.0 = v,
            _ => range_error(false, &mut s),
        },
        "CURR" => match number(arg.as_deref()) {
            Some(v) if (0.0..=MAX_A).contains(&v) => s.setpoint.1 = v,
            _ => range_error(false, &mut s),
        },
        "PHAS" => match number(arg.as_deref()) {
            Some(v) => s.setpoint.2 = v,
            None => range_error(false, &mut s),
        },
        "FREQ" => match number(arg.as_deref()) {
            Some(v) if (40.0..=70.0).contains(&v) => s.setpoint.3 = v,
            _ => range_error(false, &mut s),
        },
        "OUTP" => {
            let on = arg.as_deref().map(str::trim) == Some("ON");
            let (u, i, phi, f) = s.setpoint;
            lock(&e.world).set_source(if on {
                SourceState::On(LoadPoint {
                    voltage: Volts(u),
                    current: Amps(i),
                    phase: PhaseAngle(phi),
                    frequency: Hertz(f),
                })
            } else {
                SourceState::Off
            });
        }
        "OUTP?" => {
            return Some(
                if lock(&e.world).source().is_off() {
                    "0"
                } else {
                    "1"
                }
                .into(),
            );
        }
        "MEAS:ALL?" => {
            let w = lock(&e.world);
            return Some(match w.source() {
                SourceState::Off => "0,0,0,0,0,0".into(),
                SourceState::On(lp) => format!(
                    "{},{},{},{},{},{}",
                    lp.voltage.0,
                    lp.current.0,
                    lp.frequency.0,
                    lp.active_power().0,
                    lp.reactive_power().0,
                    lp.apparent_power().0
                ),
            });
        }
        "MEAS:ENER?" => {
            let t = lock(&e.world).truth();
            return Some(format!("{},{}", t.active_wh, t.reactive_varh));
        }
        "ECAL:INP" => s.ecal.0 = number(arg.as_deref()).unwrap_or(1.0) as usize,
        "ECAL:CONS" => s.ecal.1 = number(arg.as_deref()).unwrap_or(0.0),
        "ECAL:PULS" => s.ecal.2 = number(arg.as_deref()).unwrap_or(0.0) as usize,
        "ECAL:ENER" => s.ecal.3 = arg.as_deref().map(str::trim) == Some("REAC"),
        "ECAL:STOP" => s.result = None,
        "ECAL:STAT?" => {
            return Some(if s.result.is_some() { "DONE" } else { "IDLE" }.into());
        }
        "ECAL:RES?" => return Some(s.result.take().unwrap_or_else(|| "0,0,0".into())),
        _ => s.errors.push_back("-113,\"Undefined header\"".into()),
    }
    None
}

/// The gate as the hardware does it: from a meter pulse to the n-th after
/// it, the reference's energy counted in its pulses.
async fn gate(e: &Emulator, input: usize, k: f64, n: usize, reactive: bool) -> Option<String> {
    if input != 1 || k <= 0.0 || n == 0 {
        return None;
    }
    let mut head = SimPulseInput::new(e.world.clone(), 0, vec![PulseChannel::Led]);
    let day = Duration::from_secs(86_400);
    head.start_capture(PulseChannel::Led).await.ok()?;
    head.wait_pulses(PulseChannel::Led, 1, day).await.ok()?;
    let energy = |w: &SimWorld| {
        let t = w.truth();
        if reactive {
            t.reactive_varh
        } else {
            t.active_wh
        }
    };
    let e0 = energy(&lock(&e.world));
    let train = head.wait_pulses(PulseChannel::Led, n, day).await.ok()?;
    if train.pulse_count() < n {
        return None;
    }
    let e1 = energy(&lock(&e.world));
    let counts = ((e1 - e0).abs() * REFERENCE_CONSTANT / 1000.0)
        .round()
        .max(1.0);
    let reference_wh = counts * 1000.0 / REFERENCE_CONSTANT;
    let meter_wh = n as f64 * 1000.0 / k;
    let error = (meter_wh - reference_wh) / reference_wh * 100.0;
    Some(format!("{error},{counts},{n}"))
}
