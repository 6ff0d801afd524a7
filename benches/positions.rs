//! Many meters on one rig: `nightly.toml` on a simulated bench of 1, 8 and
//! 48 positions — one source, one reference, every meter on one RS485 bus at
//! its own address, each with its own pulse input. For each bench: wall
//! time, peak memory (VmHWM of a child process per bench), the rig time the
//! run represents, and the bus-bound rig time: what the Modbus transactions
//! it made would hold a real 19200-baud 8E1 line for (every character's 11
//! bits and t3.5 after each frame; the simulated meter answers at once, so
//! no turnaround is added — a real meter's adds to it).
//!   cargo bench --bench positions
//!   METRIG_POSITIONS=1,8 cargo bench --bench positions
//!   METRIG_SUITES=accuracy-active,measurements cargo bench --bench positions
//! (`METRIG_SUITES`: only these suites of the plan, to see the part measured
//! on every position at once apart from the `modbus` suite, which runs one
//! position at a time.)

use std::path::Path;
use std::time::{Duration, Instant};

use harness::modbus::Traffic;
use harness::profile::{Framing, LineSettings};
use harness::rig::Rig;
use harness::run::{RunRequest, cancel_pair, load_plan};
use harness::station::parse_rig;

const ONE: &str = "METRIG_POSITIONS_ONE";

fn bench_rig(n: usize) -> String {
    let mut t = format!(
        "[rig]\nname = \"{n}-position simulated bench\"\nkind = \"sim\"\nseed = 20261125\n\
         [source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n\
         [reference]\nkind = \"sim\"\nuncertainty_pct = 0.02\nuncertainty_low_pf_pct = 0.04\n"
    );
    for i in 0..n {
        t.push_str(&format!(
            "[[positions]]\nmeter = \"../meters/legrand-412083.toml\"\nlink = {{ kind = \"sim-rtu\", bus = \"A\" }}\naddress = {}\n\
             [positions.sim]\nserial_number = {}\nfirmware = \"1.02\"\n",
            i + 1,
            2_611_250_001u64 + i as u64
        ));
    }
    t
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn one(n: usize) {
    let suites = suites::all();
    let mut plan = load_plan(
        Path::new("fixtures/plans/nightly.toml"),
        &suites::catalogue(),
    )
    .expect("plan");
    if let Ok(only) = std::env::var("METRIG_SUITES") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        plan.suites.retain(|s| only.contains(&s.id.as_str()));
    }
    let suites_run: Vec<String> = plan.suites.iter().map(|s| s.id.clone()).collect();
    let config = parse_rig(
        &bench_rig(n),
        Path::new("fixtures/rigs/bench-positions.toml"),
    )
    .expect("rig");
    let mut rig = Rig::open(config).await.expect("rig opens");
    let (_keep, cancel) = cancel_pair();
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: format!("bench-{n}"),
        resume: None,
        only: None,
        cancel,
    };
    let t0 = Instant::now();
    let summary = harness::run::run(req, &mut rig, &mut [])
        .await
        .expect("runs");
    let wall = t0.elapsed().as_secs_f64();
    let rig_time = rig.now().secs_f64();
    let traffic = rig
        .positions
        .iter()
        .filter_map(|p| p.link.as_ref())
        .fold(Traffic::default(), |t, l| t + l.traffic());
    let line = LineSettings {
        baud: 19200,
        framing: Framing::try_from("8E1".to_string()).expect("8E1"),
    };
    let bus = traffic.wire_time(line, Duration::ZERO).as_secs_f64();
    println!(
        "{n:>3} positions [{}]: {} points, {} failures, status {:?}; wall {wall:.1} s; peak RSS {:.1} MB; \
         rig time {:.2} h; {} Modbus requests, {} + {} characters; bus-bound time at 19200 8E1 {:.2} h ({:.0} % of the rig time)",
        suites_run.join(", "),
        summary.points,
        summary.failures,
        summary.status,
        peak_rss_mb(),
        rig_time / 3600.0,
        traffic.requests,
        traffic.request_chars,
        traffic.reply_chars,
        bus / 3600.0,
        bus / rig_time * 100.0
    );
}

fn main() {
    if let Some(n) = std::env::var(ONE).ok().and_then(|v| v.parse().ok()) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(one(n));
        return;
    }
    let list = std::env::var("METRIG_POSITIONS").unwrap_or_else(|_| "1,8,48".into());
    let me = std::env::current_exe().expect("own path");
    for n in list
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        // A process per bench: its peak memory is its own.
        let status = std::process::Command::new(&me)
            .env(ONE, n.to_string())
            .status()
            .expect("runs");
        assert!(status.success(), "the {n}-position bench failed");
    }
}
