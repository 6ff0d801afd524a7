//! `metrig doctor` and `metrig run` on a lab rig file whose instruments are
//! the SCPI emulator on 127.0.0.1 (issue 7): the binary a lab uses, in a
//! second process, against the emulated bench.

#[path = "../harness/tests/support/scpi_emulator.rs"]
mod scpi_emulator;

use std::path::Path;
use std::process::Command;

fn rig_file(dir: &Path, emu: &scpi_emulator::Emulator, due: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("fixtures/rigs/lab-scpi-tcp.toml"))
        .expect("fixture")
        .replace("192.168.10.20:5025", &emu.scpi.to_string())
        .replace("192.168.10.30:502", &emu.modbus.to_string())
        .replace(
            "calibration_due = \"2027-06-30\"",
            &format!("calibration_due = \"{due}\""),
        )
        .replace(
            "../meters/legrand-412083.toml",
            &root
                .join("fixtures/meters/legrand-412083.toml")
                .display()
                .to_string(),
        );
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).expect("write");
    path
}

async fn metrig(args: Vec<String>) -> (i32, String) {
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_metrig"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_every_instrument_of_a_lab_rig() {
    let emu = scpi_emulator::start(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/meters/legrand-412083.toml"),
        Default::default(),
    )
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let rig = rig_file(dir.path(), &emu, "2020-01-31");
    let (code, out) = metrig(vec![
        "doctor".into(),
        "--rig".into(),
        rig.display().to_string(),
        "--plan".into(),
        "fixtures/plans/firmware-gate.toml".into(),
    ])
    .await;
    assert!(
        out.contains("source: metrig-emulator LAB-3000 s/n EMU0001"),
        "{out}"
    );
    assert!(
        out.contains("calibration overdue"),
        "a past due date warns: {out}"
    );
    assert!(out.contains("error calculator: metrig-emulator"), "{out}");
    assert!(out.contains("answers — model 412083"), "{out}");
    assert!(out.contains("every load within"), "{out}");
    assert_eq!(code, 0, "{out}");
    assert!(emu.source().is_off(), "the doctor leaves the source off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_an_unreachable_instrument() {
    let emu = scpi_emulator::start(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/meters/legrand-412083.toml"),
        Default::default(),
    )
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let rig = rig_file(dir.path(), &emu, "2030-01-31");
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let text = std::fs::read_to_string(&rig)
        .expect("read")
        .replace(&emu.scpi.to_string(), &free.to_string());
    std::fs::write(&rig, text).expect("write");
    let (code, out) = metrig(vec![
        "doctor".into(),
        "--rig".into(),
        rig.display().to_string(),
    ])
    .await;
    assert_ne!(code, 0);
    assert!(out.contains("source: cannot connect to"), "{out}");
}
