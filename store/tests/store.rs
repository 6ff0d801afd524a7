//! The store on both databases, with the same calls: a run goes in and comes
//! back whole, importing twice adds nothing, history filters, references
//! resolve, and `trend` recovers a simulated drift within its uncertainty.
//! PostgreSQL is the real server `.ci/run` starts; without it these tests
//! fail with the reason.

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use store::testing::{fresh_postgres, synthetic_record};
use store::{HistoryFilter, Location, Points, Store};

fn sqlite() -> (tempfile::TempDir, Location) {
    let dir = tempfile::tempdir().expect("tempdir");
    let loc = Location::Sqlite(dir.path().join("metrig.sqlite"));
    (dir, loc)
}

fn postgres(tag: &str) -> Location {
    fresh_postgres(tag).unwrap_or_else(|e| panic!("PostgreSQL test database: {e}"))
}

fn day(i: usize) -> String {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T02:00:00Z").expect("t0");
    (t0 + chrono::Duration::days(i as i64))
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn round_trip(loc: &Location) {
    let mut s = Store::open(loc).expect("open");
    assert_eq!(
        s.schema_version().expect("version"),
        store::schema::current_version()
    );
    let a = synthetic_record(
        "run-a",
        &day(0),
        "SN-1",
        "1.0.0",
        &[0.1, -0.2, 0.3],
        50,
        0.02,
    );
    let b = synthetic_record(
        "run-b",
        &day(1),
        "SN-1",
        "1.1.0",
        &[0.1, -0.2, 1.5],
        50,
        0.02,
    );
    let c = synthetic_record("run-c", &day(2), "SN-2", "1.1.0", &[0.0, 0.0, 0.0], 5, 0.02);
    for r in [&a, &b, &c] {
        let o = s.save(r, None, Points::All).expect("save");
        assert_eq!(o.points_written, 3);
    }
    // Importing twice adds nothing.
    let again = s.save(&a, None, Points::All).expect("save again");
    assert_eq!((again.points_written, again.points_unchanged), (0, 3));
    assert!(!again.header_written);
    let n = s
        .sql()
        .rows("SELECT COUNT(*) FROM samples", &[])
        .expect("count");
    assert_eq!(n[0][0].int(), 50 * 3 * 2 + 5 * 3);

    // A run comes back as the record it was.
    let mut back = s.record("run-a").expect("record");
    back.points.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(back, a);

    // History: filters narrow, newest first, counts per verdict.
    let all = s.history(&HistoryFilter::default()).expect("history");
    let ids: Vec<&str> = all.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["run-c", "run-b", "run-a"]);
    assert_eq!(all[1].verdicts.get("fail"), Some(&1));
    assert_eq!(all[1].verdicts.get("pass"), Some(&2));
    let by = |f: HistoryFilter, s: &mut Store| -> Vec<String> {
        s.history(&f)
            .expect("history")
            .into_iter()
            .map(|r| r.run_id)
            .collect()
    };
    let f = |meter: Option<&str>, firmware: Option<&str>, since: Option<&str>| HistoryFilter {
        meter: meter.map(Into::into),
        firmware: firmware.map(Into::into),
        since: since.map(Into::into),
        ..HistoryFilter::default()
    };
    assert_eq!(by(f(Some("SN-1"), None, None), &mut s), ["run-b", "run-a"]);
    assert_eq!(by(f(None, Some("1.1.0"), None), &mut s), ["run-c", "run-b"]);
    assert_eq!(by(f(Some("SN-1"), Some("1.1.0"), None), &mut s), ["run-b"]);
    assert_eq!(by(f(None, None, Some(&day(1))), &mut s), ["run-c", "run-b"]);
    assert!(by(f(Some("SN-404"), None, None), &mut s).is_empty());

    // References the firmware gate uses.
    assert_eq!(
        s.resolve("store:latest?meter=SN-1&firmware=1.0.0")
            .expect("resolve"),
        "run-a"
    );
    assert_eq!(s.resolve("store:run-b").expect("resolve"), "run-b");
    let e = s.resolve("store:latest?firmware=9").expect_err("none");
    assert!(e.to_string().contains("no completed run"), "{e}");
    let e = s.resolve("store:latest?colour=red").expect_err("bad key");
    assert!(e.to_string().contains("colour"), "{e}");

    // A second open finds the schema and migrates nothing.
    drop(s);
    let mut s = Store::open(loc).expect("reopen");
    assert_eq!(s.history(&HistoryFilter::default()).expect("h").len(), 3);
}

#[test]
fn sqlite_round_trip_history_and_references() {
    let (_d, loc) = sqlite();
    round_trip(&loc);
}

#[test]
fn postgres_round_trip_history_and_references() {
    round_trip(&postgres("round_trip"));
}

/// 365 nightly runs of a meter whose error at one point drifts by a known
/// slope, with night-to-night noise; `trend` must find the slope within its
/// expanded uncertainty (k = 2), and call it significant.
fn drift_recovered(loc: &Location) {
    let mut s = Store::open(loc).expect("open");
    let slope = 0.0004; // % per day: 0.146 % over a year
    let noise = Normal::new(0.0, 0.01).expect("normal");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    for i in 0..365 {
        let m = 0.05 + slope * i as f64 + noise.sample(&mut rng);
        let r = synthetic_record(
            &format!("night-{i:03}"),
            &day(i),
            "SN-DRIFT",
            "2.0.0",
            &[m, 0.0],
            10,
            0.01,
        );
        s.save(&r, None, Points::All).expect("save");
    }
    let rows = s
        .trend("SN-DRIFT", "accuracy-active", "pt0")
        .expect("trend");
    assert_eq!(rows.len(), 365);
    let d = store::trend::drift(&rows).expect("drift");
    let u = 2.0 * d.slope_u_pct_per_day;
    assert!(
        (d.slope_pct_per_day - slope).abs() <= u,
        "slope {} ± {u} does not cover the simulated {slope}",
        d.slope_pct_per_day
    );
    assert!(
        d.slope_pct_per_day.abs() > u,
        "the drift must be significant: {}",
        d.show()
    );
    // The flat point shows no significant drift.
    let flat = s
        .trend("SN-DRIFT", "accuracy-active", "pt1")
        .expect("trend");
    let f = store::trend::drift(&flat).expect("drift");
    assert!(f.slope_pct_per_day.abs() < 1e-12, "{}", f.show());
    let svg = store::trend::svg("t", &rows, Some(&d));
    assert!(svg.starts_with("<svg") && svg.contains("stroke=\"red\""));
}

#[test]
fn sqlite_trend_recovers_a_simulated_drift() {
    let (_d, loc) = sqlite();
    drift_recovered(&loc);
}

#[test]
fn postgres_trend_recovers_a_simulated_drift() {
    drift_recovered(&postgres("drift"));
}

#[test]
fn an_unreachable_postgres_is_a_clear_error() {
    let loc = Location::Postgres("postgres://nobody@127.0.0.1:1/none".into());
    let e = Store::open(&loc).expect_err("nothing listens on port 1");
    assert!(
        e.to_string().contains("cannot open the store postgres://"),
        "{e}"
    );
}

/// Rigs of a fleet that start together open one new SQLite file at once.
/// Switching the new file to WAL makes SQLite answer "database is locked"
/// without waiting; every opener must still get the store (the CI run of
/// 2026-12-01 lost a night this way).
#[test]
fn sixteen_openers_of_one_new_sqlite_file_all_get_it() {
    for round in 0..50 {
        let (_dir, loc) = sqlite();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
        let openers: Vec<_> = (0..16)
            .map(|_| {
                let (loc, barrier) = (loc.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&loc).map(|mut s| s.schema_version())
                })
            })
            .collect();
        for (i, o) in openers.into_iter().enumerate() {
            let version = o
                .join()
                .expect("opener thread")
                .unwrap_or_else(|e| panic!("round {round}, opener {i}: {e}"))
                .expect("schema version");
            assert_eq!(version, store::schema::current_version());
        }
    }
}
