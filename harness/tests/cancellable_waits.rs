//! Issue 16: a simulated wait of years (a plan value that passed its range
//! check, a gate that never fills) must still let Ctrl-C and SIGTERM stop
//! the run: the wait yields, so a stop request (here a timeout) is seen.

mod common;

use std::time::{Duration, Instant};

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::pulse_input::PulseChannel;

const FIFTY_YEARS: Duration = Duration::from_secs(50 * 365 * 86_400);

fn full_load() -> LoadPoint {
    LoadPoint::new(Volts(230.0), Amps(63.0), PowerFactor::UNITY, Hertz(50.0))
}

#[tokio::test]
async fn a_dwell_of_fifty_years_stops_at_a_stop_request() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    rig.energise(full_load()).await.expect("energised");
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_millis(500), rig.dwell(FIFTY_YEARS)).await;
    assert!(r.is_err(), "the dwell ran to its end instead of stopping");
    // One slice of rig time at most (a few seconds in a debug build), not fifty years.
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    eprintln!("stopped after {:?}", t.elapsed());
    rig.off().await.expect("off");
}

#[tokio::test]
async fn a_gate_that_never_fills_stops_at_a_stop_request() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    rig.energise(full_load()).await.expect("energised");
    let pulses = rig.positions[0].pulses.as_mut().expect("pulse input");
    pulses
        .start_capture(PulseChannel::Led)
        .await
        .expect("capture");
    let t = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_millis(500),
        pulses.wait_pulses(PulseChannel::Led, usize::MAX, FIFTY_YEARS),
    )
    .await;
    assert!(r.is_err(), "the wait ran to its end instead of stopping");
    // One slice of rig time at most (a few seconds in a debug build), not fifty years.
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    eprintln!("stopped after {:?}", t.elapsed());
}

#[tokio::test]
async fn a_short_dwell_still_ends_at_its_time() {
    let mut rig = common::open_sim("legrand-412083", "sim-tcp", "").await;
    let before = rig.now();
    rig.dwell(Duration::from_secs(3 * 86_400 + 5)).await;
    assert_eq!(rig.now().since(before), Duration::from_secs(3 * 86_400 + 5));
}
