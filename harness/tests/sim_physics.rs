//! The simulated meter's physics, observed the way suites will observe it:
//! through the rig's source, pulse inputs, tariff output and Modbus link.

mod common;

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::{MeterQuantity as Q, MeterSetting, SettingValue};
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::rig::tariff_output::Tariff;

fn lp(v: f64, i: f64, pf: &str) -> LoadPoint {
    LoadPoint::new(
        Volts(v),
        Amps(i),
        PowerFactor::parse(pf).expect("pf"),
        Hertz(50.0),
    )
}

async fn read(rig: &mut Rig, q: Q) -> f64 {
    rig.positions[0]
        .link
        .as_mut()
        .expect("link")
        .read(q)
        .await
        .expect("reads")
        .canonical()
}

async fn write(rig: &mut Rig, s: MeterSetting, v: f64) {
    rig.positions[0]
        .link
        .as_mut()
        .expect("link")
        .write(s, SettingValue::Number(v))
        .await
        .expect("written");
}

fn pulses(rig: &mut Rig) -> &mut Box<dyn harness::rig::pulse_input::PulseInput> {
    rig.positions[0].pulses.as_mut().expect("pulse input")
}

#[tokio::test]
async fn led_pulses_come_at_the_constant() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
    pulses(&mut rig)
        .start_capture(PulseChannel::Led)
        .await
        .expect("capture");
    let train = pulses(&mut rig)
        .wait_pulses(PulseChannel::Led, 11, Duration::from_secs(60))
        .await
        .expect("waits");
    let rising: Vec<_> = train.rising().collect();
    assert_eq!(rising.len(), 11);
    // 1 Wh per pulse at 2300 W: 3600/2300 s apart.
    for w in rising.windows(2) {
        let period = w[1].since(w[0]).as_secs_f64();
        assert!((period - 3600.0 / 2300.0).abs() < 1e-6, "period {period}");
    }
}

#[tokio::test]
async fn a_good_meter_starts_at_ist_and_a_defective_one_does_not() {
    for (faults, expect_pulse) in [("", true), ("starting_current_a = 0.06", false)] {
        let mut rig = common::open_sim("legrand-412083", "sim-tcp", faults).await;
        rig.energise(lp(230.0, 0.04, "1")).await.expect("ok");
        pulses(&mut rig)
            .start_capture(PulseChannel::Led)
            .await
            .expect("capture");
        // Theoretical period at Ist: 3.6e6 / (1000 · 230 · 0.04) = 391 s.
        let train = pulses(&mut rig)
            .wait_pulses(PulseChannel::Led, 1, Duration::from_secs(600))
            .await
            .expect("waits");
        assert_eq!(train.pulse_count() == 1, expect_pulse, "faults `{faults}`");
        if expect_pulse {
            let t = train.rising().next().expect("one").secs_f64();
            assert!((t - 391.3).abs() < 1.0, "first pulse at {t} s");
        }
    }
}

#[tokio::test]
async fn creep_shows_only_when_configured() {
    for (faults, expect) in [("", 0usize), ("creep_w = 5.0", 2)] {
        let mut rig = common::open_sim("legrand-412083", "sim-tcp", faults).await;
        rig.energise(lp(264.5, 0.0, "1")).await.expect("ok");
        pulses(&mut rig)
            .start_capture(PulseChannel::Led)
            .await
            .expect("capture");
        let train = pulses(&mut rig)
            .wait_pulses(PulseChannel::Led, 2, Duration::from_secs(3600))
            .await
            .expect("waits");
        assert_eq!(train.pulse_count(), expect, "faults `{faults}`");
    }
}

#[tokio::test]
async fn energy_goes_to_the_active_tariff_and_swapped_inputs_show_it() {
    for (faults, t2_register) in [
        ("", Q::ActiveImportT2),
        ("tariff_swapped = true", Q::ActiveImportT1),
    ] {
        let mut rig = common::open_sim("legrand-412083", "sim-tcp", faults).await;
        rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
        rig.positions[0]
            .tariff
            .as_mut()
            .expect("tariff output")
            .select(Tariff::T2)
            .await
            .expect("selects");
        rig.dwell(Duration::from_secs(3600)).await;
        let in_t2 = read(&mut rig, t2_register).await;
        assert!(
            (in_t2 - 2300.0).abs() <= 10.0 + 0.1,
            "faults `{faults}`: {in_t2} Wh"
        );
        let total = read(&mut rig, Q::ActiveImportTotal).await;
        let t1 = read(&mut rig, Q::ActiveImportT1).await;
        let t2 = read(&mut rig, Q::ActiveImportT2).await;
        assert!(
            (t1 + t2 - total).abs() <= 10.0 + 1e-6,
            "faults `{faults}`: T1 {t1} + T2 {t2} = total {total}"
        );
    }
}

#[tokio::test]
async fn a_tariff_glitch_shorter_than_debounce_is_ignored() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
    let t = rig.positions[0].tariff.as_mut().expect("tariff output");
    t.select(Tariff::T2).await.expect("selects");
    rig.dwell(Duration::from_millis(20)).await;
    rig.positions[0]
        .tariff
        .as_mut()
        .expect("tariff output")
        .select(Tariff::T1)
        .await
        .expect("selects");
    rig.dwell(Duration::from_secs(3600)).await;
    assert_eq!(read(&mut rig, Q::ActiveImportT2).await, 0.0);
    assert_eq!(read(&mut rig, Q::ActiveTariff).await, 1.0);
}

#[tokio::test]
async fn counters_survive_a_power_cycle_and_ram_does_not() {
    let mut rig = common::open_sim("legrand-412083", "sim-rtu", "").await;
    rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
    rig.dwell(Duration::from_secs(3600)).await;
    let before = read(&mut rig, Q::ActiveImportTotal).await;
    assert!(read(&mut rig, Q::AveragePower).await > 2000.0);
    rig.off().await.expect("off");
    rig.dwell(Duration::from_secs(60)).await;
    rig.energise(lp(230.0, 0.0, "1")).await.expect("ok");
    assert_eq!(read(&mut rig, Q::ActiveImportTotal).await, before);
    assert_eq!(
        read(&mut rig, Q::AveragePower).await,
        0.0,
        "the moving window restarts"
    );
    assert!(
        read(&mut rig, Q::AveragePowerMax).await > 2000.0,
        "the maximum is kept"
    );
}

#[tokio::test]
async fn registers_roll_over_past_9_999_999_99_kwh() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    rig.energise(lp(230.0, 63.0, "1")).await.expect("ok");
    write(&mut rig, MeterSetting::EnergyPreset, 9_999_999.99).await;
    assert!((read(&mut rig, Q::ActiveImportTotal).await - 9_999_999_990.0).abs() < 1.0);
    // 14.49 kW for 10 s is 40 Wh: past the top of the register.
    rig.dwell(Duration::from_secs(10)).await;
    let after = read(&mut rig, Q::ActiveImportTotal).await;
    assert!(after < 100.0, "rolled over to {after} Wh");
    write(&mut rig, MeterSetting::PartialReset, 1.0).await;
    assert_eq!(read(&mut rig, Q::ActiveImportPartial).await, 0.0);
    assert!(
        read(&mut rig, Q::ActiveImportTotal).await == after,
        "partial reset leaves the total"
    );
}

#[tokio::test]
async fn s0_pulses_queue_at_high_power_and_a_lossy_meter_loses_them() {
    for (faults, lost) in [("", false), ("s0_drop_every = 5", true)] {
        let mut rig = common::open_sim("legrand-412083", "sim-tcp", faults).await;
        rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
        write(&mut rig, MeterSetting::S0Weight, 1.0).await;
        write(&mut rig, MeterSetting::S0Duration, 500.0).await;
        // 1.15 Un × Imax: 16.7 kW, a pulse every 216 ms — 500 ms pulses cannot keep up.
        rig.energise(lp(264.5, 63.0, "1")).await.expect("ok");
        pulses(&mut rig)
            .start_capture(PulseChannel::S0)
            .await
            .expect("capture");
        rig.dwell(Duration::from_secs(60)).await;
        rig.energise(lp(230.0, 0.0, "1")).await.expect("ok");
        let train = pulses(&mut rig)
            .wait_pulses(PulseChannel::S0, usize::MAX, Duration::from_secs(600))
            .await
            .expect("waits");
        let expected = 264.5 * 63.0 * 60.0 / 3600.0;
        let n = train.pulse_count() as f64;
        for off in train.off_durations() {
            assert!(off >= Duration::from_millis(30), "tOFF {off:?}");
        }
        for on in train.on_durations() {
            assert_eq!(on, Duration::from_millis(500));
        }
        if lost {
            assert!(n < expected * 0.85, "{n} pulses for {expected} Wh");
        } else {
            assert!(
                (n - expected).abs() <= 1.0,
                "{n} pulses for {expected} Wh: queued, none lost"
            );
        }
    }
}

#[tokio::test]
async fn average_power_follows_the_window_and_the_hour_meter_its_threshold() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
    write(&mut rig, MeterSetting::AverageWindow, 5.0).await;
    write(&mut rig, MeterSetting::HourMeterThreshold, 3000.0).await;
    rig.dwell(Duration::from_secs(600)).await;
    assert!((read(&mut rig, Q::AveragePower).await - 2300.0).abs() <= 1.0);
    assert_eq!(
        read(&mut rig, Q::HourMeter).await,
        0.0,
        "2300 W is below the 3000 W threshold"
    );
    rig.energise(lp(230.0, 20.0, "1")).await.expect("ok");
    rig.dwell(Duration::from_secs(600)).await;
    assert!((read(&mut rig, Q::AveragePower).await - 4600.0).abs() <= 1.0);
    assert!((read(&mut rig, Q::AveragePowerMax).await - 4600.0).abs() <= 1.0);
    assert_eq!(read(&mut rig, Q::HourMeter).await, 600.0);
}

#[tokio::test]
async fn a_meter_that_reboots_is_silent_then_back_with_its_counters() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "reboot_at_s = 100").await;
    rig.energise(lp(230.0, 10.0, "1")).await.expect("ok");
    rig.dwell(Duration::from_secs(99)).await;
    let before = read(&mut rig, Q::ActiveImportTotal).await;
    rig.dwell(Duration::from_secs(2)).await;
    let link = rig.positions[0].link.as_mut().expect("link");
    assert!(
        link.read(Q::Voltage).await.is_err(),
        "silent while rebooting"
    );
    rig.dwell(Duration::from_secs(5)).await;
    let after = read(&mut rig, Q::ActiveImportTotal).await;
    assert!(after >= before, "counters kept across the reboot");
}

#[tokio::test]
async fn export_energy_lands_in_export_registers_by_quadrant() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    // 240° : P < 0, Q < 0 — quadrant III.
    let mut p = lp(230.0, 10.0, "1");
    p.phase = harness::quantity::PhaseAngle(240.0);
    rig.energise(p).await.expect("ok");
    rig.dwell(Duration::from_secs(3600)).await;
    assert!((read(&mut rig, Q::ActiveExportTotal).await - 1150.0).abs() <= 10.0);
    assert_eq!(read(&mut rig, Q::ActiveImportTotal).await, 0.0);
    assert!((read(&mut rig, Q::ReactiveQ3Total).await - 1991.9).abs() <= 10.0);
    assert_eq!(read(&mut rig, Q::ActivePowerSign).await, 1.0);
    assert!(
        read(&mut rig, Q::ActivePower).await < 0.0,
        "the link signs the magnitude"
    );
}
