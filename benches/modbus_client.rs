//! metrig's Modbus client (`MeterLink`, the code a lab uses): transactions per
//! second reading 4 registers of the 4 120 83's measurement block (0x1000),
//! N sequential requests (`METRIG_BENCH_N`, 10 000 unless set), and the CPU
//! time the process spent per transaction over them (getrusage RUSAGE_SELF,
//! user + system): on a shared machine throughput swings 3× from one run to
//! the next, CPU per transaction much less (issue 20).
//!
//! `cargo bench --bench modbus_client` serves the simulated meter in-process
//! (TCP on 127.0.0.1, RTU on a pty) and measures, then reads it over a line
//! paced at 19200 baud 8E1 against the wire limit. To read a server in
//! another process, as `benches/peers/run.sh` does for the side-by-side with
//! libmodbus and pymodbus:
//!   METRIG_BENCH_TCP=127.0.0.1:5502 cargo bench --bench modbus_client
//!   METRIG_BENCH_RTU=/dev/pts/7 cargo bench --bench modbus_client
//!   METRIG_BENCH_N=50000 METRIG_BENCH_TCP=127.0.0.1:5502 cargo bench --bench modbus_client
//! Over RTU it measures twice, without and with the default t3.5 before each
//! request; `METRIG_BENCH_RTU_GAP=0` keeps only the first, so that a count over
//! the whole process (`perf stat`, as the peer script takes) is N requests.
//! Each line ends `user_us=… sys_us=… cpu_us=… tps=…` (µs a transaction).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike as _;

use harness::modbus::timing::{t3_5, wire_time};
use harness::rig::Rig;
use harness::rig::meter_link::MeterLink;
use harness::station::parse_rig;
use tokio_modbus::Request;

/// Requests per measurement unless `METRIG_BENCH_N` says otherwise.
const DEFAULT_N: usize = 10_000;
/// Requests on the paced line (each takes ≈ 16 ms of wire).
const N_PACED: usize = 300;

fn profile() -> Arc<harness::profile::MeterProfile> {
    Arc::new(
        harness::profile::load_profile(Path::new("fixtures/meters/legrand-412083.toml"))
            .expect("profile"),
    )
}

/// `METRIG_BENCH_N`, or 10 000.
fn n_from_env() -> usize {
    match std::env::var("METRIG_BENCH_N") {
        Err(_) => DEFAULT_N,
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("METRIG_BENCH_N={s}: expected a whole number of requests above 0");
                std::process::exit(2);
            }
        },
    }
}

/// User and system CPU time of this process so far, in microseconds.
fn cpu_us() -> (i64, i64) {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => (
            u.user_time().num_microseconds(),
            u.system_time().num_microseconds(),
        ),
        Err(e) => {
            eprintln!("getrusage: {e}");
            std::process::exit(3);
        }
    }
}

/// One measurement: throughput, failures, and CPU per transaction.
struct Measured {
    n: usize,
    tps: f64,
    failures: usize,
    user_us: f64,
    sys_us: f64,
}

impl std::fmt::Display for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={} failures={} user_us={:.2} sys_us={:.2} cpu_us={:.2} tps={:.0}",
            self.n,
            self.failures,
            self.user_us,
            self.sys_us,
            self.user_us + self.sys_us,
            self.tps
        )
    }
}

async fn measure(link: &mut dyn MeterLink, n: usize) -> Measured {
    let mut failures = 0;
    let (u0, s0) = cpu_us();
    let t0 = Instant::now();
    for _ in 0..n {
        match link.raw(Request::ReadHoldingRegisters(0x1000, 4)).await {
            Ok(Ok(_)) => {}
            _ => failures += 1,
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let (u1, s1) = cpu_us();
    Measured {
        n,
        tps: n as f64 / elapsed,
        failures,
        user_us: (u1 - u0) as f64 / n as f64,
        sys_us: (s1 - s0) as f64 / n as f64,
    }
}

fn rig_text(link: &str, pacing: &str) -> String {
    format!(
        "[rig]\nname = \"bench\"\nkind = \"sim\"\nline_pacing = \"{pacing}\"\n[source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"sim\"\n[[positions]]\nmeter = \"fixtures/meters/legrand-412083.toml\"\nlink = {{ kind = \"{link}\" }}\n"
    )
}

async fn sim_link(link: &str, pacing: &str) -> Rig {
    let mut rig =
        Rig::open(parse_rig(&rig_text(link, pacing), Path::new("bench.toml")).expect("rig"))
            .await
            .expect("rig");
    rig.energise(harness::load_point::LoadPoint::new(
        harness::quantity::Volts(230.0),
        harness::quantity::Amps(10.0),
        harness::quantity::PowerFactor::UNITY,
        harness::quantity::Hertz(50.0),
    ))
    .await
    .expect("energise");
    rig
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let timeout = Duration::from_secs(1);
    let n = n_from_env();
    if let Ok(addr) = std::env::var("METRIG_BENCH_TCP") {
        let mut link = harness::drivers::modbus_tcp::open(
            addr.parse().expect("METRIG_BENCH_TCP=host:port"),
            5,
            timeout,
            profile(),
        )
        .expect("link");
        let m = measure(&mut link, n).await;
        println!("metrig tcp {m}");
        return;
    }
    if let Ok(path) = std::env::var("METRIG_BENCH_RTU") {
        let line = harness::profile::LineSettings {
            baud: 19200,
            framing: harness::profile::Framing::try_from("8N1".to_string()).expect("framing"),
        };
        // A pty has no wire: without the rig file's default t3.5 before
        // each request, as libmodbus and pymodbus send; then with it.
        let gaps = [
            (Some(Duration::ZERO), "inter_frame_delay_ms = 0"),
            (None, "default t3.5"),
        ];
        let only_zero = std::env::var("METRIG_BENCH_RTU_GAP").is_ok_and(|g| g.trim() == "0");
        for (gap, what) in gaps.into_iter().take(if only_zero { 1 } else { 2 }) {
            let mut link = harness::drivers::modbus_rtu::open(
                Path::new(&path),
                line,
                5,
                timeout,
                gap,
                profile(),
            )
            .expect("link");
            let m = measure(&mut link, n).await;
            println!("metrig rtu ({what}) {m}");
        }
        return;
    }
    for (kind, name) in [("sim-tcp", "tcp loopback"), ("sim-rtu", "rtu pty")] {
        let mut rig = sim_link(kind, "off").await;
        let link = rig.positions[0].link.as_mut().expect("link");
        // Client and server share the process: CPU is both sides' together.
        let m = measure(link.as_mut(), n).await;
        println!("metrig {name} (in-process simulated meter, client + server) {m}");
    }
    // The paced line: 19200 8E1, 11-bit characters.
    let mut rig = sim_link("sim-rtu", "always").await;
    let link = rig.positions[0].link.as_mut().expect("link");
    let line = link.line().expect("serial");
    let m = measure(link.as_mut(), N_PACED).await;
    let (tps, failures) = (m.tps, m.failures);
    // Request 8 characters, reply 5 + 2 × 4; t3.5 after each frame; the
    // simulated meter's turnaround is zero.
    let per = wire_time(line, 8 + 13) + t3_5(line) * 2;
    let limit = 1.0 / per.as_secs_f64();
    println!(
        "metrig rtu paced {line} n={N_PACED} failures={failures} tps={tps:.2}; wire limit {limit:.2} tps ({:.3} ms a transaction); {:.1} % of the limit",
        per.as_secs_f64() * 1000.0,
        tps / limit * 100.0
    );
}
