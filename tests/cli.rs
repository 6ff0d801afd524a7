//! The `metrig` binary as a lab uses it.

mod common;
use common::metrig;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn value_of(out: &str, quantity: &str) -> String {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(quantity))
        .unwrap_or_else(|| panic!("no `{quantity}` line in:\n{out}"))
        .split_whitespace()
        .skip(1)
        .take_while(|t| !t.starts_with("fc"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn read_prints_every_quantity_over_rtu() {
    let (code, out, err) = metrig(&["read", "--rig", "fixtures/rigs/sim.toml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("link: RTU /dev/pts/"), "{out}");
    assert_eq!(value_of(&out, "voltage"), "230.000 V");
    assert_eq!(value_of(&out, "current"), "10.000 A");
    assert_eq!(value_of(&out, "frequency"), "50.000 Hz");
    assert_eq!(value_of(&out, "active_power"), "2300.0 W");
    assert_eq!(value_of(&out, "power_factor"), "1");
    assert!(out.contains("serial 2611250001, firmware 1.02"), "{out}");
}

#[test]
fn read_applies_the_load_point_over_tcp() {
    let (code, out, err) = metrig(&[
        "read",
        "--rig",
        "fixtures/rigs/sim-tcp.toml",
        "--load",
        "230V 5A 0.5L 50Hz",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("link: TCP 127.0.0.1:"), "{out}");
    assert_eq!(value_of(&out, "active_power"), "575.0 W");
    assert_eq!(value_of(&out, "reactive_power"), "996.0 var");
    assert_eq!(value_of(&out, "apparent_power"), "1150.0 VA");
    assert_eq!(value_of(&out, "power_factor"), "0.5");
}

#[test]
fn bad_input_exits_2_naming_file_and_key() {
    let (code, _, err) = metrig(&["read", "--rig", "fixtures/bad/rig-unknown-fault-key.toml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rig-unknown-fault-key.toml") && err.contains("unknown field `creep`"),
        "{err}"
    );
    let (code, _, err) = metrig(&["read", "--rig", "fixtures/rigs/sim.toml", "--position", "2"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_load_beyond_the_meters_ratings_energises_nothing() {
    let (code, out, err) = metrig(&[
        "read",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--load",
        "230V 80A",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("Imax"), "{err}");
    assert!(!out.contains("load:"), "nothing was applied: {out}");
    let (code, _, err) = metrig(&[
        "read",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--load",
        "300V 10A",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("Un + 15 %"), "{err}");
}

#[test]
fn doctor_names_every_instrument() {
    let (code, out, err) = metrig(&["doctor", "--rig", "fixtures/rigs/sim.toml"]);
    assert_eq!(code, 0, "{out}{err}");
    for what in [
        "source:",
        "reference:",
        "pulse input 1",
        "answers — model 412083",
        "all instruments answer",
    ] {
        assert!(out.contains(what), "`{what}` missing:\n{out}");
    }
}

/// `metrig sim serve` in its own process, read by a lab rig file through the
/// real TCP driver, and by mbpoll when it is installed.
#[test]
fn sim_serve_is_readable_from_another_process() {
    let (child, stdout, addr) = sim_serve(&["--tcp", "127.0.0.1:0", "--load", "230V 20A 1 50Hz"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let rig_path = lab_rig(
        dir.path(),
        "bench 2",
        &format!("{{ kind = \"tcp\", address = \"{addr}\" }}"),
    );
    let (code, out, err) = metrig(&["read", "--rig", &rig_path]);
    let (refused, _, refusal) = metrig(&["read", "--rig", &rig_path, "--load", "230V 1A"]);
    let mbpoll = Command::new("mbpoll")
        .args([
            "-m",
            "tcp",
            "-p",
            addr.rsplit(':').next().unwrap_or("0"),
            "-a",
            "5",
            "-r",
            "4099",
            "-t",
            "4:int",
            "-B",
            "-1",
            "-o",
            "2",
            "127.0.0.1",
        ])
        .output();
    let status = stop(child);
    drop(stdout);
    assert_eq!(code, 0, "{err}");
    assert_eq!(value_of(&out, "current"), "20.000 A");
    assert!(
        !out.contains("load:"),
        "a lab rig applies no load by itself"
    );
    assert_eq!(
        refused, 2,
        "--load on a rig without manual energising is refused"
    );
    assert!(refusal.contains("manual_energising"), "{refusal}");
    if let Ok(m) = mbpoll {
        let text = String::from_utf8_lossy(&m.stdout);
        assert!(
            text.contains("[4099]: \t20000"),
            "mbpoll reads 20 A as 20000 mA:\n{text}"
        );
    }
    assert_eq!(status, Some(0), "SIGTERM ends sim serve cleanly");
}

/// A lab rig's RTU-over-TCP link (a transparent RS485-to-Ethernet gateway)
/// reads `metrig sim serve --rtu-over-tcp` in another process.
#[test]
fn rtu_over_tcp_reads_a_meter_behind_a_gateway() {
    let (child, stdout, addr) =
        sim_serve(&["--rtu-over-tcp", "127.0.0.1:0", "--load", "230V 7A 1 50Hz"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let rig = lab_rig(
        dir.path(),
        "bench 3",
        &format!("{{ kind = \"rtu-over-tcp\", address = \"{addr}\" }}"),
    );
    let (code, out, err) = metrig(&["read", "--rig", &rig]);
    let status = stop(child);
    drop(stdout);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("RTU over TCP"), "{out}");
    assert_eq!(value_of(&out, "current"), "7.000 A");
    assert_eq!(status, Some(0));
}

/// `metrig sim serve` in its own process with `args` after the meter; the
/// child, its stdout kept open, and the third word of its first line (the
/// address or pty path).
fn sim_serve(
    args: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args([
            "sim",
            "serve",
            "--meter",
            "fixtures/meters/legrand-412083.toml",
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("serves");
    let mut first = String::new();
    // Keep the pipe open for the child's later lines.
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    stdout
        .read_line(&mut first)
        .expect("prints where it serves");
    let at = first
        .split_whitespace()
        .nth(2)
        .expect("modbus KIND WHERE unit N")
        .to_string();
    (child, stdout, at)
}

/// A lab rig file with no source or reference and one 4 120 83 on `link`.
fn lab_rig(dir: &std::path::Path, name: &str, link: &str) -> String {
    let rig = dir.join(format!("{name}.toml"));
    let meter = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/meters/legrand-412083.toml");
    std::fs::write(
        &rig,
        format!(
            "[rig]\nname = \"{name}\"\nkind = \"lab\"\n[source]\nkind = \"none\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"none\"\n[[positions]]\nmeter = \"{}\"\nlink = {link}\n",
            meter.display()
        ),
    )
    .expect("written");
    rig.display().to_string()
}

/// Stops a `sim serve` child with SIGTERM; its exit code.
fn stop(mut child: std::process::Child) -> Option<i32> {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    wait(&mut child)
}

fn wait(child: &mut std::process::Child) -> Option<i32> {
    for _ in 0..100 {
        if let Ok(Some(s)) = child.try_wait() {
            return s.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

/// Built with probe-rs (feature `probe`, which CI builds with
/// `--all-features`): listing probes works with none attached, with no colour
/// codes off a terminal; an unknown chip is named as such; flashing without a
/// probe is a rig failure that says so.
#[cfg(feature = "probe")]
#[test]
fn flash_lists_probes_and_refuses_without_one() {
    let (code, out, err) = metrig(&["flash", "--list-probes"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains('\x1b') && !out.contains('\x1b'), "{err}");
    let (code, _, err) = metrig(&["flash", "--chip", "STM32NOTACHIP", "--elf", "Cargo.toml"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("--chip STM32NOTACHIP: probe-rs knows no such chip"),
        "{err}"
    );
    assert!(
        out.contains("no debug probe is attached") || out.contains(':'),
        "{out}"
    );
    if out.contains("no debug probe is attached") {
        let (code, _, err) = metrig(&["flash", "--chip", "STM32G071RBTx", "--elf", "Cargo.toml"]);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("no debug probe is attached"), "{err}");
    }
    let (code, _, err) = metrig(&["flash", "--chip", "STM32G071RBTx", "--elf", "nowhere.elf"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nowhere.elf: no such file"), "{err}");
    let (code, _, err) = metrig(&["flash", "--list-probes", "--chip", "X"]);
    assert_eq!(code, 0, "{err}");
}

/// Without the `probe` feature (the default build) `flash` says how to get it.
#[cfg(not(feature = "probe"))]
#[test]
fn flash_without_the_probe_feature_says_how_to_build_it() {
    let (code, _, err) = metrig(&["flash", "--list-probes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--features probe"), "{err}");
}

/// The RTU driver (termios line settings on a real port) reads `metrig sim
/// serve --rtu` through its pty from another process. A pty refuses even
/// and odd parity, so the rig file sets 19200 8N1.
#[test]
fn the_rtu_driver_reads_sim_serve_through_its_pty() {
    let (child, stdout, path) = sim_serve(&["--rtu", "--load", "230V 3A 1 50Hz"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let rig = lab_rig(
        dir.path(),
        "bench 4",
        &format!("{{ kind = \"rtu\", device = \"{path}\", baud = 19200, framing = \"8N1\" }}"),
    );
    let (code, out, err) = metrig(&["read", "--rig", &rig]);
    let status = stop(child);
    drop(stdout);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("19200 8N1"), "{out}");
    assert_eq!(value_of(&out, "current"), "3.000 A");
    assert_eq!(status, Some(0));
}
