//! A lab rig of real drivers (issue 7): the SCPI source, reference and
//! error calculator, and the Modbus TCP meter link, against an emulated
//! instrument on 127.0.0.1 and on a pty. The same accuracy-active plan as on
//! the simulated rig runs through them, only the rig file differs.

mod common;
#[path = "../../harness/tests/support/scpi_emulator.rs"]
mod scpi_emulator;

use std::path::{Path, PathBuf};

use harness::rig::Rig;
use harness::station::parse_rig;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The bench-A rig file, pointed at the emulator.
fn lab_rig_text(emu: &scpi_emulator::Emulator) -> String {
    std::fs::read_to_string(fixture("fixtures/rigs/lab-scpi-tcp.toml"))
        .expect("fixture")
        .replace("192.168.10.20:5025", &emu.scpi.to_string())
        .replace("192.168.10.30:502", &emu.modbus.to_string())
}

fn plan() -> String {
    "[plan]\nname = \"lab accuracy\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 1\n\
     warm_up_s = 0\nsettle_s = 0\n[[suites]]\nid = \"accuracy-active\"\ngate_counts = 10000\ninfluence = false\n"
        .into()
}

/// A flat error on the simulated meter, at every current and PF the plan uses.
fn flat(error_pct: f64) -> harness::sim::faults::Faults {
    let mut points = String::new();
    for pf in ["1", "0.5L", "0.8C"] {
        for i in [0.25, 63.0] {
            points.push_str(&format!(
                "{{ current_a = {i}, pf = \"{pf}\", error_pct = {error_pct} }},"
            ));
        }
    }
    toml::from_str(&format!("error_curve = [{points}]")).expect("faults")
}

async fn emulator_with(error_pct: f64) -> scpi_emulator::Emulator {
    scpi_emulator::start(
        &fixture("fixtures/meters/legrand-412083.toml"),
        flat(error_pct),
    )
    .await
}

async fn emulator() -> scpi_emulator::Emulator {
    emulator_with(0.3).await
}

async fn run_on(rig_text: &str) -> (reports::Record, Rig) {
    let config =
        parse_rig(rig_text, &fixture("fixtures/rigs/lab-scpi-tcp.toml")).expect("valid rig");
    let suites = suites::all();
    let plan = harness::run::parse_plan(&plan(), Path::new("lab.toml"), &suites::catalogue())
        .expect("plan");
    let mut rig = Rig::open(config).await.expect("the lab rig opens");
    let record = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Keep(std::sync::Arc<std::sync::Mutex<Vec<harness::run::RunEvent>>>);
    impl harness::run::Listener for Keep {
        fn on_event(&mut self, e: &harness::run::RunEvent) {
            self.0.lock().expect("lock").push(e.clone());
        }
    }
    let mut listeners: Vec<Box<dyn harness::run::Listener>> = vec![Box::new(Keep(record.clone()))];
    let (_keep, cancel) = harness::run::cancel_pair();
    let req = harness::run::RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "lab".into(),
        resume: None,
        only: None,
        cancel,
    };
    harness::run::run(req, &mut rig, &mut listeners)
        .await
        .expect("the run runs");
    let events = record.lock().expect("lock").clone();
    (reports::Record::from_events(&events).expect("record"), rig)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accuracy_plan_runs_through_the_scpi_drivers() {
    let emu = emulator().await;
    let (r, _rig) = run_on(&lab_rig_text(&emu)).await;
    assert_eq!(
        r.status,
        reports::RecordStatus::Completed,
        "{:?}",
        r.message
    );
    assert!(r.points.len() >= 20, "{} points", r.points.len());
    // The meter's +0.3 % comes through the error calculator, to its resolution.
    for p in &r.points {
        let e = p.mean_error_pct.expect("an error");
        assert!((e - 0.3).abs() < 0.02, "{}: {e}", p.id);
    }
    assert!(common::failing(&r).is_empty(), "{:?}", common::failing(&r));
    // Each gate went through the error calculator, each load through the source.
    let cmds = emu.commands.lock().expect("lock").clone();
    let gates = cmds
        .iter()
        .filter(|c| c.eq_ignore_ascii_case("ECAL:STAR"))
        .count();
    assert!(
        gates >= r.points.len(),
        "{gates} gates for {} points",
        r.points.len()
    );
    assert!(
        cmds.iter().any(|c| c.starts_with("CURR 63")),
        "Imax applied"
    );
    assert!(
        cmds.iter().filter(|c| *c == "SYST:ERR?").count() > gates,
        "the error queue is read after every command"
    );
    let who: Vec<&str> = r.instruments.iter().map(|i| i.maker.as_str()).collect();
    assert!(who.contains(&"metrig-emulator"), "{who:?}");
    assert!(
        r.instruments
            .iter()
            .any(|i| i.role == "source" && !i.simulated),
        "the record names the real source"
    );
    assert!(emu.source().is_off(), "the source ends off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meter_out_of_class_fails_on_the_lab_rig_too() {
    let emu = emulator_with(1.8).await;
    let (r, _rig) = run_on(&lab_rig_text(&emu)).await;
    assert_eq!(
        common::failing(&r).len(),
        r.points.len(),
        "+1.8 % is outside ±1.5 % and ±1 % everywhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_works_over_a_serial_line_too() {
    let emu = emulator().await;
    let text = lab_rig_text(&emu).replacen(
        &format!("transport = {{ tcp = \"{}\" }}", emu.scpi),
        &format!("transport = {{ serial = \"{}\", baud = 9600 }}", emu.serial),
        1,
    );
    assert!(text.contains(&emu.serial), "the source goes over the pty");
    let (r, rig) = run_on(&text).await;
    assert!(common::failing(&r).is_empty(), "{:?}", common::failing(&r));
    drop(rig);
    assert!(emu.source().is_off());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_in_the_queue_stops_the_run_with_its_words_and_the_source_off() {
    let emu = emulator().await;
    *emu.fail_on.lock().expect("lock") = Some("CURR 63".into());
    let (r, _rig) = run_on(&lab_rig_text(&emu)).await;
    assert_ne!(r.status, reports::RecordStatus::Completed);
    let message = r.message.clone();
    assert!(
        message.contains("Data out of range") && message.contains("CURR 63"),
        "{message}"
    );
    assert!(emu.source().is_off(), "the source is off after the refusal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_instrument_is_one_clear_error() {
    let emu = emulator().await;
    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let text = lab_rig_text(&emu).replace(&emu.scpi.to_string(), &free.to_string());
    let config = parse_rig(&text, &fixture("fixtures/rigs/lab-scpi-tcp.toml")).expect("valid");
    let e = Rig::open(config).await.expect_err("unreachable");
    let m = e.to_string();
    assert!(m.starts_with("source: cannot connect to"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_dialect_is_one_clear_error() {
    let emu = emulator().await;
    let text = lab_rig_text(&emu).replace(
        "measure_fields = [\"u\", \"i\", \"f\", \"p\", \"q\", \"s\"]",
        "measure_fields = [\"u\", \"i\", \"f\", \"p\", \"q\", \"s\", \"pf\"]",
    );
    let config = parse_rig(&text, &fixture("fixtures/rigs/lab-scpi-tcp.toml")).expect("valid");
    let mut rig = Rig::open(config).await.expect("opens");
    let e = rig
        .reference
        .as_mut()
        .expect("reference")
        .measure()
        .await
        .expect_err("six fields, seven expected");
    let m = e.to_string();
    assert!(
        m.contains("MEAS:ALL?") && m.contains("expects 7") && m.contains("dialect"),
        "{m}"
    );
}

#[test]
fn a_range_beyond_the_instrument_is_one_clear_error() {
    let text = std::fs::read_to_string(fixture("fixtures/rigs/lab-scpi-tcp.toml"))
        .expect("fixture")
        .replace("max_current_a = 100", "max_current_a = 150");
    let e = parse_rig(&text, &fixture("fixtures/rigs/lab-scpi-tcp.toml")).expect_err("beyond");
    let m = e.to_string();
    assert!(
        m.contains("source.max_current_a") && m.contains("150") && m.contains("120"),
        "{m}"
    );
}
