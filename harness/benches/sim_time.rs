//! How much wall time the simulated rig spends per hour of rig time.
//! `cargo bench -p metrig-harness --bench sim_time`

use std::time::{Duration, Instant};

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::station::parse_rig;

fn rig_text() -> String {
    let meter = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/meters/legrand-412083.toml");
    format!(
        "[rig]\nname = \"bench\"\nkind = \"sim\"\n[source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"sim\"\n[[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"sim-tcp\" }}\n[positions.sim.faults]\nnoise_pct = 0.05\n",
        meter.display()
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = parse_rig(&rig_text(), std::path::Path::new("bench.toml")).expect("valid");
        let mut rig = Rig::open(config).await.expect("opens");
        let cases = [
            (
                "10 h dwell at Iref, PF 1 (23 000 LED pulses)",
                LoadPoint::new(Volts(230.0), Amps(10.0), PowerFactor::UNITY, Hertz(50.0)),
                Duration::from_secs(36_000),
            ),
            (
                "10 h dwell at Imax, PF 0.5L",
                LoadPoint::new(
                    Volts(230.0),
                    Amps(63.0),
                    PowerFactor::parse("0.5L").expect("pf"),
                    Hertz(50.0),
                ),
                Duration::from_secs(36_000),
            ),
            (
                "1 h no-load at 1.15 Un",
                LoadPoint::new(Volts(264.5), Amps(0.0), PowerFactor::UNITY, Hertz(50.0)),
                Duration::from_secs(3600),
            ),
        ];
        println!(
            "{:<48} {:>12} {:>14} {:>12}",
            "case", "rig time", "wall time", "ratio"
        );
        for (name, point, rig_time) in cases {
            rig.energise(point).await.expect("ok");
            let t = Instant::now();
            rig.dwell(rig_time).await;
            let wall = t.elapsed();
            println!(
                "{name:<48} {:>10.0} s {:>12.3} ms {:>12.0}",
                rig_time.as_secs_f64(),
                wall.as_secs_f64() * 1e3,
                rig_time.as_secs_f64() / wall.as_secs_f64()
            );
        }
        let pulses = rig.positions[0].pulses.as_mut().expect("pulses");
        pulses
            .start_capture(PulseChannel::Led)
            .await
            .expect("capture");
        rig.energise(LoadPoint::new(
            Volts(230.0),
            Amps(0.04),
            PowerFactor::UNITY,
            Hertz(50.0),
        ))
        .await
        .expect("ok");
        let t = Instant::now();
        let start = rig.now();
        let pulses = rig.positions[0].pulses.as_mut().expect("pulses");
        let train = pulses
            .wait_pulses(PulseChannel::Led, 10, Duration::from_secs(7200))
            .await
            .expect("waits");
        println!(
            "{:<48} {:>10.0} s {:>12.3} ms",
            "10 LED pulses at Ist (~391 s each)",
            train
                .rising()
                .last()
                .map_or(0.0, |t| t.since(start).as_secs_f64()),
            t.elapsed().as_secs_f64() * 1e3
        );
        rig.off().await.expect("off");
    });
}
