//! The store's cost (issue 17): samples written per second through the
//! store's own path (a point a transaction, samples in multi-row INSERTs)
//! against a bare prepared-INSERT loop of the same driver in one
//! transaction, on SQLite and on PostgreSQL; and the time of `history` and
//! `trend` over 365 nightly runs.
//!
//! `cargo bench -p metrig-store --bench store` (PostgreSQL: METRIG_TEST_PG_URL,
//! as `.ci/run` exports it; without it the PostgreSQL half fails with the reason).

use std::time::{Duration, Instant};

use store::testing::{fresh_postgres, synthetic_record};
use store::{HistoryFilter, Location, Points, Store};

const POINTS: usize = 20;
const SAMPLES: usize = 1000;

fn day(i: usize) -> String {
    format!(
        "{}",
        (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new(i as u64))
            .format("%Y-%m-%dT02:00:00Z")
    )
}

fn best_of(n: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..n).map(|_| f()).min().unwrap_or_default()
}

/// Rounds of each measurement. The rounds of the store and of the bare
/// loops alternate, so that load from other work on the machine falls on
/// all of them alike; each keeps its best round.
const ROUNDS: usize = 7;

/// Samples/s through `Store::save`, fresh run each time.
fn store_rate(s: &mut Store, tag: &str, round: usize) -> f64 {
    let means = vec![0.1; POINTS];
    let mut k = round * 1000;
    let t = best_of(1, || {
        k += 1;
        let r = synthetic_record(
            &format!("{tag}-{k}"),
            &day(k),
            "SN-B",
            "1",
            &means,
            SAMPLES,
            0.01,
        );
        let t0 = Instant::now();
        s.save(&r, None, Points::All).expect("save");
        t0.elapsed()
    });
    (POINTS * SAMPLES) as f64 / t.as_secs_f64()
}

fn sqlite_bare_rate(path: &std::path::Path, per_point: bool, round: usize) -> f64 {
    let mut c = rusqlite::Connection::open(path).expect("open");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS bare (run_id TEXT, point_key TEXT, idx BIGINT, at_s DOUBLE PRECISION,
            value DOUBLE PRECISION, unit TEXT, raw_json TEXT, PRIMARY KEY (run_id, point_key, idx))",
    )
    .expect("table");
    let mut k = round * 1000;
    let t = best_of(1, || {
        k += 1;
        let t0 = Instant::now();
        let groups = if per_point { POINTS } else { 1 };
        for g in 0..groups {
            let tx = c.transaction().expect("tx");
            {
                let mut st = tx
                    .prepare_cached("INSERT INTO bare VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                    .expect("prepare");
                for p in 0..POINTS / groups {
                    for i in 0..SAMPLES {
                        st.execute(rusqlite::params![
                            format!("bare-{per_point}-{k}"),
                            format!("accuracy-active/p1/pt{}", g * POINTS / groups + p),
                            i as i64,
                            i as f64,
                            0.1,
                            "%",
                            "{\"pulses\":1000}"
                        ])
                        .expect("insert");
                    }
                }
            }
            tx.commit().expect("commit");
        }
        t0.elapsed()
    });
    (POINTS * SAMPLES) as f64 / t.as_secs_f64()
}

fn postgres_bare_rate(url: &str, per_point: bool, round: usize) -> f64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.batch_execute(
        "CREATE TABLE IF NOT EXISTS bare (run_id TEXT, point_key TEXT, idx BIGINT, at_s DOUBLE PRECISION,
            value DOUBLE PRECISION, unit TEXT, raw_json TEXT, PRIMARY KEY (run_id, point_key, idx))",
    )
    .expect("table");
    let st = c
        .prepare("INSERT INTO bare VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .expect("prepare");
    let mut k = round * 1000;
    let t = best_of(1, || {
        k += 1;
        let t0 = Instant::now();
        let groups = if per_point { POINTS } else { 1 };
        for g in 0..groups {
            let mut tx = c.transaction().expect("tx");
            for p in 0..POINTS / groups {
                for i in 0..SAMPLES {
                    tx.execute(
                        &st,
                        &[
                            &format!("bare-{per_point}-{k}"),
                            &format!("accuracy-active/p1/pt{}", g * POINTS / groups + p),
                            &(i as i64),
                            &(i as f64),
                            &0.1f64,
                            &"%",
                            &"{\"pulses\":1000}",
                        ],
                    )
                    .expect("insert");
                }
            }
            tx.commit().expect("commit");
        }
        t0.elapsed()
    });
    (POINTS * SAMPLES) as f64 / t.as_secs_f64()
}

/// 365 nightly runs of 20 points × 10 samples, then `history` and `trend`.
fn queries(s: &mut Store) -> (Duration, Duration) {
    for i in 0..365 {
        let means: Vec<f64> = (0..POINTS)
            .map(|p| 0.01 * p as f64 + 1e-4 * i as f64)
            .collect();
        let r = synthetic_record(
            &format!("night-{i:03}"),
            &day(i),
            "SN-Q",
            "2",
            &means,
            10,
            0.01,
        );
        s.save(&r, None, Points::All).expect("save");
    }
    let h = best_of(5, || {
        let t0 = Instant::now();
        let rows = s.history(&HistoryFilter::default()).expect("history");
        assert!(rows.len() >= 365);
        t0.elapsed()
    });
    let t = best_of(5, || {
        let t0 = Instant::now();
        let rows = s.trend("SN-Q", "accuracy-active", "pt3").expect("trend");
        assert_eq!(rows.len(), 365);
        let _ = store::trend::drift(&rows);
        t0.elapsed()
    });
    (h, t)
}

/// `bare` commits once a point, as the store must (a point a transaction);
/// `bare_one` is the same loop in one transaction for the whole run.
fn report(name: &str, store: f64, bare: f64, bare_one: f64, h: Duration, t: Duration) {
    println!(
        "{name:<10} store {store:>8.0} samples/s | bare insert loop, a transaction a point {bare:>8.0} samples/s, ratio {:.2} | one transaction {bare_one:>8.0} samples/s, ratio {:.2} | history(365 runs) {:.1} ms | trend(365 runs) {:.1} ms",
        store / bare,
        store / bare_one,
        h.as_secs_f64() * 1e3,
        t.as_secs_f64() * 1e3
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = Location::Sqlite(dir.path().join("bench.sqlite"));
    let mut s = Store::open(&loc).expect("open sqlite");
    let bare_path = dir.path().join("bare.sqlite");
    let (mut rate, mut bare, mut bare_one) = (0.0f64, 0.0f64, 0.0f64);
    for round in 0..ROUNDS {
        rate = rate.max(store_rate(&mut s, "w", round));
        bare = bare.max(sqlite_bare_rate(&bare_path, true, round));
        bare_one = bare_one.max(sqlite_bare_rate(&bare_path, false, round));
    }
    let (h, t) = queries(&mut s);
    report("SQLite", rate, bare, bare_one, h, t);

    let pg = match fresh_postgres("bench") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("PostgreSQL not measured: {e}");
            std::process::exit(1);
        }
    };
    let Location::Postgres(url) = &pg else {
        unreachable!("fresh_postgres gives a PostgreSQL location")
    };
    let mut s = Store::open(&pg).expect("open postgres");
    let (mut rate, mut bare, mut bare_one) = (0.0f64, 0.0f64, 0.0f64);
    for round in 0..ROUNDS {
        rate = rate.max(store_rate(&mut s, "w", round));
        bare = bare.max(postgres_bare_rate(url, true, round));
        bare_one = bare_one.max(postgres_bare_rate(url, false, round));
    }
    let (h, t) = queries(&mut s);
    report("PostgreSQL", rate, bare, bare_one, h, t);
}
