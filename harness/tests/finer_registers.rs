//! Issue 20: a counter's real resolution (an f32's last place grows with the
//! count), a profile's finer registers (`high_resolution`) and factory test
//! mode (`[test_mode]`): validated like the rest of the profile, served by
//! the simulated meter over real Modbus, read by the register method, and
//! the test mode left after a dial and at a run's end.

mod common;

use std::path::Path;
use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::measure::{
    DialRegister, EnergyKind, dial_place, enter_test_mode, leave_test_mode, read_place,
    register_dial,
};
use harness::modbus::LinkError;
use harness::profile::{MeterQuantity as Q, f32_ulp, load_profile, parse_profile};
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};

fn example(name: &str) -> std::path::PathBuf {
    common::fixtures()
        .join("meters/examples")
        .join(format!("{name}.toml"))
}

fn example_text(name: &str) -> String {
    std::fs::read_to_string(example(name)).expect("example profile")
}

#[test]
fn a_float_counter_resolves_to_its_last_place_which_grows_with_the_count() {
    assert_eq!(f32_ulp(1.0), 2f64.powi(-23));
    assert_eq!(f32_ulp(1000.0), 2f64.powi(9 - 23));
    let sdm = load_profile(&common::meter("eastron-sdm120")).expect("sdm120");
    let import = &sdm
        .register(Q::ActiveImportTotal)
        .expect("import kWh")
        .place;
    // 1 000 kWh: 2⁻¹⁴ kWh ≈ 0.061 Wh; 100 000 kWh: 2⁻⁷ kWh ≈ 7.8 Wh.
    assert!((import.step_at(1.0e6) - 1000.0 * 2f64.powi(-14)).abs() < 1e-12);
    assert!((import.step_at(1.0e8) - 1000.0 * 2f64.powi(-7)).abs() < 1e-9);
    assert!(import.step_at(2.0e8) > import.step_at(1.0e8));
    // Planned at 10⁶ kWh when the profile declares no roll-over: 2⁻⁴ kWh.
    assert_eq!(sdm.ratings.energy_rollover_wh, None);
    assert!((import.step() - 62.5).abs() < 1e-9, "{}", import.step());
    // An integer register: one count of its scale, whatever the count.
    let lg = load_profile(&common::meter("legrand-412083")).expect("412083");
    let q1 = &lg.register(Q::ReactiveQ1Total).expect("q1").place;
    assert_eq!(q1.step_at(0.0), 10.0);
    assert_eq!(q1.step_at(1.0e9), 10.0);
    assert_eq!(lg.register_step(Q::ReactiveQ1Total), Some(10.0));
    // A float instantaneous value keeps its 0.01 of the unit.
    let p = &sdm.register(Q::ActivePower).expect("power").place;
    assert!((p.step() - 0.01).abs() < 1e-12);
}

#[test]
fn the_example_profiles_declare_a_finer_register_and_a_test_mode() {
    let wh = load_profile(&example("legrand-412083-wh")).expect("Wh example");
    let q1 = wh.register(Q::ReactiveQ1Total).expect("q1");
    assert_eq!(q1.place.step(), 10.0);
    let fine = q1.high_resolution.as_ref().expect("high_resolution");
    assert_eq!(fine.step(), 1.0);
    assert_eq!(fine.address, 0x1208);
    assert!(wh.test_mode.is_none());
    let tm = load_profile(&example("example-test-mode")).expect("test-mode example");
    let mode = tm.test_mode.as_ref().expect("[test_mode]");
    assert_eq!(mode.lasts, Duration::from_secs(3600));
    assert!(mode.protected);
    assert_eq!((mode.enter.code, mode.leave.code), (1.0, 0.0));
    let place = dial_place(&tm, Q::ReactiveQ4Total, DialRegister::TestMode).expect("q4");
    assert!((place.step() - 0.1).abs() < 1e-12);
    assert!(dial_place(&tm, Q::ReactiveQ4Total, DialRegister::HighResolution).is_none());
}

/// Each wrong key is refused naming the file, the key and what is allowed.
#[test]
fn a_wrong_finer_register_or_test_mode_is_refused_with_file_key_and_range() {
    let wh = example_text("legrand-412083-wh");
    let tm = example_text("example-test-mode");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            wh.replacen(
                "high_resolution = { address = 0x1208, table = \"holding\", kind = \"u32\", unit = \"varh\"",
                "high_resolution = { address = 0x1208, table = \"holding\", kind = \"u32\", scale = 10, unit = \"varh\"",
                1,
            ),
            "registers[21] (reactive_q1_total).high_resolution.scale",
            "must be finer",
        ),
        (
            wh.replacen(
                "unit = \"mA\"\naccess = \"r\"",
                "unit = \"mA\"\naccess = \"r\"\nhigh_resolution = { address = 0x1F00, table = \"holding\", kind = \"u32\", unit = \"mA\", access = \"r\" }",
                1,
            ),
            "registers[4] (current).high_resolution",
            "energy counter only",
        ),
        (
            wh.replacen(
                "high_resolution = { address = 0x1208,",
                "high_resolution = { address = 0x1100,",
                1,
            ),
            "address",
            "overlaps",
        ),
        (
            tm.replacen("lasts_min = 60", "lasts_min = 0", 1),
            "test_mode.lasts_min",
            "1..=10080",
        ),
        (
            tm.replacen(
                "leave = { address = 0x2020, code = 0 }",
                "leave = { address = 0x2020, code = 1 }",
                1,
            ),
            "test_mode.leave.code",
            "must differ",
        ),
        (
            tm.replacen(
                "enter = { address = 0x2020, code = 1 }",
                "enter = { address = 0x2020, code = 70000 }",
                1,
            ),
            "test_mode.enter.code",
            "fits a u16",
        ),
        (
            tm.replacen(
                "quantity = \"reactive_q4_total\"\naddress = 0x300E",
                "quantity = \"reactive_sum_total\"\naddress = 0x300E",
                1,
            ),
            "test_mode.registers[6] (reactive_sum_total).quantity",
            "[[registers]] also list",
        ),
        (
            tm.replacen(
                "[[settings]]\nsetting = \"password\"\naddress = 0x2000\ntable = \"holding\"\nkind = \"u16\"\naccess = \"w\"\ncode = 1000\n",
                "",
                1,
            )
            .replace("protected = true\nrange", "range")
            .replace("protected = true\nchoices", "choices")
            .replace("protected = true\ncode", "code"),
            "test_mode.protected",
            "password",
        ),
    ];
    for (text, key, allowed) in cases {
        let e = parse_profile(&text, Path::new("fixtures/meters/examples/x.toml"))
            .expect_err(key)
            .to_string();
        assert!(
            e.contains("x.toml") && e.contains(key) && e.contains(allowed),
            "{key}: {e}"
        );
    }
}

fn load(text: &str) -> LoadPoint {
    let base = LoadPoint::new(Volts(230.0), Amps(10.0), PowerFactor::UNITY, Hertz(50.0));
    LoadPoint::parse(text, base).expect("valid load point")
}

async fn open_example(name: &str, faults: &str) -> harness::rig::Rig {
    let text = common::sim_rig_text("legrand-412083", "sim-rtu", faults, "").replace(
        &common::meter("legrand-412083").display().to_string(),
        &example(name).display().to_string(),
    );
    let config = harness::station::parse_rig(&text, Path::new("test-rig.toml")).expect("rig");
    harness::rig::Rig::open(config).await.expect("rig opens")
}

fn is_illegal_address(e: &LinkError) -> bool {
    matches!(e, LinkError::Exception { code: 2, .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_meter_serves_its_finer_register_over_modbus() {
    let mut rig = open_example("legrand-412083-wh", "").await;
    rig.energise(load("230V 10A 90deg 50Hz"))
        .await
        .expect("energised");
    let d = register_dial(
        &mut rig,
        0,
        Q::ReactiveQ1Total,
        EnergyKind::Reactive,
        Duration::from_secs(60),
        DialRegister::HighResolution,
    )
    .await
    .expect("a dial on the Wh register");
    // 2 300 var for 60 s: 38.3 varh, in whole varh on the fine register
    // (the 0.01 kvarh one would show 30 or 40).
    assert_eq!(d.via, DialRegister::HighResolution);
    assert_eq!(d.step, Some(1.0));
    assert!(d.meter_energy.fract() == 0.0 && (37.0..=39.0).contains(&d.meter_energy));
    assert!(d.error_pct.abs() < 3.0, "{d:?}");
    assert!(
        d.step_basis.contains("one count of 1 varh"),
        "{}",
        d.step_basis
    );
    rig.off().await.expect("off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_mode_shows_its_registers_only_while_on_and_is_left_after_a_dial() {
    let mut rig = open_example("example-test-mode", "").await;
    rig.energise(load("230V 10A 90deg 50Hz"))
        .await
        .expect("energised");
    let profile = rig.positions[0].profile.clone();
    let fine = dial_place(&profile, Q::ReactiveQ1Total, DialRegister::TestMode)
        .expect("q1 in test mode")
        .clone();
    let link = rig.positions[0].link.as_mut().expect("link");
    // Not in the mode: the register is not there (exception 02).
    let e = read_place(link.as_mut(), "q1 (test mode)", &fine)
        .await
        .expect_err("outside the test mode");
    assert!(is_illegal_address(&e), "{e}");
    // Entered (the password first, the mode is protected): shown in 0.1 varh.
    enter_test_mode(link.as_mut()).await.expect("entered");
    read_place(link.as_mut(), "q1 (test mode)", &fine)
        .await
        .expect("in the test mode");
    leave_test_mode(link.as_mut()).await.expect("left");
    assert!(
        read_place(link.as_mut(), "q1", &fine).await.is_err(),
        "left"
    );
    // A dial in the mode enters it, reads 0.1 varh steps, and leaves it.
    let d = register_dial(
        &mut rig,
        0,
        Q::ReactiveQ1Total,
        EnergyKind::Reactive,
        Duration::from_secs(30),
        DialRegister::TestMode,
    )
    .await
    .expect("a dial in the test mode");
    assert_eq!(d.via, DialRegister::TestMode);
    assert!((d.step.expect("step") - 0.1).abs() < 1e-12);
    assert!(d.error_pct.abs() < 1.0, "{d:?}");
    let link = rig.positions[0].link.as_mut().expect("link");
    assert!(
        read_place(link.as_mut(), "q1", &fine).await.is_err(),
        "the dial left the test mode"
    );
    // The mode ends by itself after its 60 min: a dial that long is refused
    // before anything is written.
    let e = register_dial(
        &mut rig,
        0,
        Q::ReactiveQ1Total,
        EnergyKind::Reactive,
        Duration::from_secs(3600),
        DialRegister::TestMode,
    )
    .await
    .expect_err("longer than the mode");
    assert!(e.to_string().contains("does not fit the test mode"), "{e}");
    // Entered and left alone, the meter leaves the mode by itself after 60 min.
    let link = rig.positions[0].link.as_mut().expect("link");
    enter_test_mode(link.as_mut()).await.expect("entered");
    rig.dwell(Duration::from_secs(3601)).await;
    let link = rig.positions[0].link.as_mut().expect("link");
    assert!(
        read_place(link.as_mut(), "q1", &fine).await.is_err(),
        "the mode ended by itself"
    );
    rig.off().await.expect("off");
}

/// A run stopped mid-dial (Ctrl-C drops the suite's future) ends through
/// the settings restore, which leaves the test mode as it switches the
/// source off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runs_end_leaves_a_test_mode_a_dropped_dial_left_on() {
    let mut rig = open_example("example-test-mode", "").await;
    rig.energise(load("230V 10A 1 50Hz"))
        .await
        .expect("energised");
    let profile = rig.positions[0].profile.clone();
    let fine = dial_place(&profile, Q::ActiveImportTotal, DialRegister::TestMode)
        .expect("active in test mode")
        .clone();
    let link = rig.positions[0].link.as_mut().expect("link");
    let snap = harness::run::restore::snapshot(link.as_mut())
        .await
        .expect("snapshot");
    enter_test_mode(link.as_mut()).await.expect("entered");
    read_place(link.as_mut(), "active (test mode)", &fine)
        .await
        .expect("on");
    let said = harness::run::restore::restore(link.as_mut(), &snap)
        .await
        .expect("restored");
    assert!(said.starts_with("test mode left"), "{said}");
    let e = read_place(link.as_mut(), "active", &fine)
        .await
        .expect_err("left by the restore");
    assert!(is_illegal_address(&e), "{e}");
    rig.off().await.expect("off");
}
