//! A third-party Modbus client (mbpoll, on libmodbus) reads the simulated
//! meter over TCP and over RTU on its pty, and gets the values the model
//! holds. `.ci/run` installs mbpoll; set METRIG_SKIP_MBPOLL=1 to skip locally.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::{MeterQuantity, load_profile};
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::source::SourceState;
use harness::sim::meter_model::{MeterModel, SimIdentity};
use harness::sim::modbus_server::MeterService;
use harness::sim::world::{SimWorld, lock};
use harness::sim::{serve_on_pty, tcp_server};

fn mbpoll_available() -> bool {
    if std::process::Command::new("mbpoll")
        .arg("-h")
        .output()
        .is_ok()
    {
        return true;
    }
    assert!(
        std::env::var_os("METRIG_SKIP_MBPOLL").is_some(),
        "mbpoll is not installed (apt-get install mbpoll), or set METRIG_SKIP_MBPOLL=1"
    );
    eprintln!("SKIPPED: mbpoll is not installed and METRIG_SKIP_MBPOLL is set");
    false
}

/// Reads one 32-bit big-endian register pair at a 1-based reference number.
async fn mbpoll(args: &[&str], reference: u32) -> i64 {
    let out = tokio::process::Command::new("mbpoll")
        .args(args)
        .args([
            "-a",
            "5",
            "-r",
            &reference.to_string(),
            "-t",
            "4:int",
            "-B",
            "-1",
            "-o",
            "2",
        ])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("mbpoll finishes")
        .expect("mbpoll runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let tag = format!("[{reference}]:");
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(&tag)
                .map(|v| v.trim().parse::<i64>().expect("a number"))
        })
        .unwrap_or_else(|| {
            panic!(
                "mbpoll {args:?} printed no value:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_reads_the_models_values_over_tcp_and_rtu() {
    if !mbpoll_available() {
        return;
    }
    let profile = Arc::new(load_profile(&common::meter("legrand-412083")).expect("profile"));
    let identity = SimIdentity {
        model_id: 412083,
        serial_number: 9,
        firmware: "1.02".into(),
    };
    let model = Arc::new(Mutex::new(MeterModel::new(
        profile.clone(),
        identity,
        Default::default(),
        3,
    )));
    let world = Arc::new(Mutex::new(SimWorld::new(vec![model.clone()])));
    let point = LoadPoint::new(Volts(231.5), Amps(12.5), PowerFactor::UNITY, Hertz(50.0));
    {
        let mut w = lock(&world);
        w.set_source(SourceState::On(point));
        w.advance(Duration::from_secs(10 * 3600));
    }
    let service = Arc::new(MeterService::new(model.clone(), 3));
    let (addr, _tcp) = tcp_server::spawn_tcp(service.clone(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listens");
    let rtu = serve_on_pty(service, false, harness::sim::LinePacing::Off).expect("pty");

    let (voltage_mv, energy_steps) = {
        let m = lock(&model);
        (
            (m.quantity(MeterQuantity::Voltage) * 1000.0).round() as i64,
            (m.quantity(MeterQuantity::ActiveImportTotal) / 10.0).floor() as i64,
        )
    };
    assert_eq!(voltage_mv, 231_500);
    assert_eq!(energy_steps, 2893, "231.5 V × 12.5 A × 10 h = 28.9375 kWh");

    let port = addr.port().to_string();
    let tcp = ["-m", "tcp", "-p", port.as_str(), "127.0.0.1"];
    assert_eq!(
        mbpoll(&tcp, 0x1000 + 1).await,
        voltage_mv,
        "voltage over TCP"
    );
    assert_eq!(
        mbpoll(&tcp, 0x1100 + 1).await,
        energy_steps,
        "energy over TCP"
    );
    let rtu_args = ["-m", "rtu", "-b", "19200", "-P", "even", rtu.path.as_str()];
    assert_eq!(
        mbpoll(&rtu_args, 0x1000 + 1).await,
        voltage_mv,
        "voltage over RTU"
    );
    assert_eq!(
        mbpoll(&rtu_args, 0x1100 + 1).await,
        energy_steps,
        "energy over RTU"
    );
}
