//! The results store under a fleet (issue 17): real `metrig run` processes
//! on the simulated rig write into one PostgreSQL (8 at once) and one SQLite
//! file (2 at once); every point of every run must be there and
//! `metrig store check` must agree with every journal. Then a sample is
//! taken away behind the store's back and `check` must say so; and a run
//! whose store is unreachable goes on and `store sync` catches up.

mod common;
use common::{gate_run, metrig, root};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use store::testing::fresh_postgres;
use store::{HistoryFilter, Location, Store};

fn store_arg(loc: &Location) -> String {
    match loc {
        Location::Sqlite(p) => p.display().to_string(),
        Location::Postgres(u) => u.clone(),
    }
}

/// `n` nightly runs at once, each in its own folder, all into `loc`.
fn fleet(loc: &Location, n: usize, tmp: &Path) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = (0..n).map(|i| tmp.join(format!("rig-{i}"))).collect();
    let children: Vec<_> = dirs
        .iter()
        .map(|d| {
            Command::new(env!("CARGO_BIN_EXE_metrig"))
                .args([
                    "run",
                    "fixtures/plans/firmware-gate.toml",
                    "--rig",
                    "fixtures/rigs/sim.toml",
                    "--quiet",
                    "--out",
                    &d.display().to_string(),
                    "--store",
                    &store_arg(loc),
                ])
                .current_dir(root())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("metrig run starts")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("metrig run ends");
        let err = String::from_utf8_lossy(&out.stderr);
        // 1 is a failed verdict (a response-time point on a loaded machine):
        // still a completed run, which is what the store is checked on.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "a rig's run failed: {err}"
        );
        assert!(
            !err.contains("store"),
            "the store failed during a run: {err}"
        );
    }
    dirs
}

fn every_point_is_there(loc: &Location, dirs: &[PathBuf]) {
    let mut s = Store::open(loc).expect("open");
    let runs = s.history(&HistoryFilter::default()).expect("history");
    assert_eq!(runs.len(), dirs.len(), "one stored run per rig");
    for d in dirs {
        let record = reports::Record::read(d).expect("record.json");
        let stored = s.record(&record.run_id).expect("stored run");
        assert_eq!(
            stored.points.len(),
            record.points.len(),
            "{}",
            record.run_id
        );
        for p in &record.points {
            let q = stored
                .points
                .iter()
                .find(|q| q.key == p.key)
                .unwrap_or_else(|| panic!("{} {} missing", record.run_id, p.key));
            assert_eq!(q.verdict, p.verdict, "{}", p.key);
            assert_eq!(q.samples.len(), p.samples.len(), "{}", p.key);
        }
        let row = runs
            .iter()
            .find(|r| r.run_id == record.run_id)
            .expect("row");
        assert_eq!(row.status, "completed");
        assert_eq!(row.points, row.points_planned);
    }
    let mut args = vec![
        "store".to_string(),
        "check".into(),
        "--store".into(),
        store_arg(loc),
    ];
    args.extend(dirs.iter().map(|d| d.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = metrig(&args);
    assert_eq!(code, 0, "store check disagrees: {out}{err}");
    assert!(
        out.contains(&format!("{} run folders checked", dirs.len())),
        "{out}"
    );
    assert!(out.contains("0 disagree"), "{out}");

    // A sample taken away behind the store's back: check must say which point.
    let victim = reports::Record::read(&dirs[0]).expect("record");
    let key = &victim.points[0].key;
    s.sql()
        .exec(
            "DELETE FROM samples WHERE run_id = $1 AND point_key = $2 AND idx = 0",
            &[victim.run_id.as_str().into(), key.as_str().into()],
        )
        .expect("delete");
    let (code, out, _) = metrig(&[
        "store",
        "check",
        "--store",
        &store_arg(loc),
        &dirs[0].display().to_string(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIFF") && out.contains(key.as_str()), "{out}");
    // `store sync` puts it back from the journal.
    let (code, out, err) = metrig(&[
        "store",
        "sync",
        "--store",
        &store_arg(loc),
        &dirs[0].display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = metrig(&[
        "store",
        "check",
        "--store",
        &store_arg(loc),
        &dirs[0].display().to_string(),
    ]);
    assert_eq!(code, 0, "sync must restore the lost sample: {out}");
}

#[test]
fn eight_rigs_write_one_postgresql_at_once() {
    let loc = fresh_postgres("fleet").unwrap_or_else(|e| panic!("PostgreSQL test database: {e}"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dirs = fleet(&loc, 8, tmp.path());
    every_point_is_there(&loc, &dirs);
}

#[test]
fn two_rigs_write_one_sqlite_file_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let loc = Location::Sqlite(tmp.path().join("metrig.sqlite"));
    let dirs = fleet(&loc, 2, tmp.path());
    every_point_is_there(&loc, &dirs);

    // The commands that read the store.
    let st = store_arg(&loc);
    let (code, out, err) = metrig(&["history", "--store", &st, "--json"]);
    assert_eq!(code, 0, "{err}");
    let runs: serde_json::Value = serde_json::from_str(&out).expect("history --json");
    assert_eq!(runs.as_array().map(Vec::len), Some(2), "{out}");
    let serial = runs[0]["meters"][0]
        .as_str()
        .expect("a meter serial")
        .to_string();
    let (code, out, _) = metrig(&["history", "--store", &st, "--meter", "no-such-meter"]);
    assert_eq!(code, 0);
    assert!(out.contains("0 runs"), "{out}");
    let (code, _, err) = metrig(&["history", "--store", &st, "--since", "last tuesday"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--since"), "{err}");

    let plot = tmp.path().join("trend.svg");
    let (code, out, err) = metrig(&[
        "trend",
        "--store",
        &st,
        "--meter",
        &serial,
        "--point",
        "accuracy-active/pf1-iref-up",
        "--plot",
        &plot.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fewer than 3 measured runs"), "{out}");
    assert!(
        std::fs::read_to_string(&plot)
            .expect("plot")
            .starts_with("<svg")
    );

    // The firmware gate against a store reference.
    let baseline = reports::Record::read(&dirs[0]).expect("record");
    let (code, out, err) = metrig(&[
        "compare",
        "--store",
        &st,
        &format!("store:{}", baseline.run_id),
        &dirs[1].display().to_string(),
    ]);
    assert!(matches!(code, 0 | 1), "{out}{err}");
    assert!(
        out.contains(&format!("baseline  {}", baseline.run_id)),
        "{out}"
    );
    let (code, _, err) = metrig(&[
        "compare",
        "--store",
        &st,
        "store:latest?firmware=0.0-never",
        &dirs[1].display().to_string(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no completed run matches"), "{err}");

    // A folder whose journal is unreadable is named; the others still count.
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    std::fs::write(broken.join("journal.jsonl"), "not json\n{}\n").expect("write");
    let (b, d0) = (broken.display().to_string(), dirs[0].display().to_string());
    let (code, out, _) = metrig(&["store", "check", "--store", &st, &b, &d0]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIFF") && out.contains("line 1"), "{out}");
    assert!(out.contains("ok    "), "{out}");
    let (code, out, err) = metrig(&["store", "sync", "--store", &st, &b, &d0]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("skipped") && out.contains("1 folders unreadable"),
        "{out}{err}"
    );
}

#[test]
fn an_unreachable_store_loses_nothing_and_sync_catches_up() {
    let up = fresh_postgres("later").unwrap_or_else(|e| panic!("PostgreSQL test database: {e}"));
    let Location::Postgres(url) = &up else {
        unreachable!("fresh_postgres gives a PostgreSQL location")
    };
    // The same server, a database that does not exist yet: the store is down.
    let down = format!("{url}_not_yet");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    let (code, _, err) = gate_run(&dir, &down);
    assert!(matches!(code, 0 | 1), "the run must go on: {err}");
    assert!(
        err.contains("store sync"),
        "the run must say the store missed it: {err}"
    );
    assert!(dir.join("record.json").is_file());
    // The store comes up; sync catches up from the journal.
    let (code, out, err) = metrig(&["store", "sync", "--store", url, &dir.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = metrig(&["store", "check", "--store", url, &dir.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    // Importing again adds nothing.
    let (code, out, _) = metrig(&[
        "store",
        "import",
        "--store",
        url,
        &dir.display().to_string(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("0 points written"), "{out}");
}

#[test]
fn kill_9_mid_run_leaves_every_stored_point_whole() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let loc = Location::Sqlite(tmp.path().join("metrig.sqlite"));
    let dir = tmp.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args([
            "run",
            "fixtures/plans/firmware-gate.toml",
            "--rig",
            "fixtures/rigs/sim.toml",
            "--quiet",
            "--out",
            &dir.display().to_string(),
            "--store",
            &store_arg(&loc),
        ])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("metrig run starts");
    // Kill once some points are stored, well before the run ends.
    let t0 = std::time::Instant::now();
    loop {
        let stored = Store::open(&loc)
            .and_then(|mut s| s.sql().rows("SELECT COUNT(*) FROM points", &[]))
            .map(|r| r[0][0].int())
            .unwrap_or(0);
        if stored >= 5 || t0.elapsed() > std::time::Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let mut s = Store::open(&loc).expect("open after the kill");
    // Every stored point holds exactly the samples it says it has.
    let rows = s
        .sql()
        .rows(
            "SELECT p.point_key, p.sample_count, (SELECT COUNT(*) FROM samples x
                WHERE x.run_id = p.run_id AND x.point_key = p.point_key)
             FROM points p",
            &[],
        )
        .expect("points");
    assert!(!rows.is_empty(), "points were stored before the kill");
    for r in &rows {
        assert_eq!(
            r[1].int(),
            r[2].int(),
            "point {} is half-written",
            r[0].text()
        );
    }
    // Sync brings the store to the journal; check agrees.
    let d = dir.display().to_string();
    let (code, out, err) = metrig(&["store", "sync", "--store", &store_arg(&loc), &d]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = metrig(&["store", "check", "--store", &store_arg(&loc), &d]);
    assert_eq!(code, 0, "{out}{err}");
}

/// Nights of the drifting meter, and the simulated drift (% per day).
const NIGHTS: usize = 365;
const DRIFT_PCT_PER_DAY: f64 = 0.0005;

/// `trend` over 365 simulated nightly runs of one slowly drifting simulated
/// meter (issue 17): each night is a real `metrig run` on the simulated rig,
/// written to the store as it runs; the meter's error moves by
/// `drift_pct_per_day` of its age (`age_days` = the night's number), with
/// night-to-night noise (`noise_pct`, a seed a night). The cheapest honest
/// night: a plan of one point (`led-constant` at Iref, PF 1, whose mean error
/// is the meter's error), about 0.1 s of wall time. The runs go back to back, so their start times are set
/// to one night apart in the store (`runs.started_at`), as a lab's nightly
/// would have them; everything else is as the runs wrote it. `trend` must
/// find the slope within its expanded uncertainty (k = 2) and call it
/// significant.
#[test]
fn trend_finds_the_drift_of_a_simulated_meter_over_365_nightly_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let loc = Location::Sqlite(tmp.path().join("metrig.sqlite"));
    let plan = tmp.path().join("night.toml");
    std::fs::write(
        &plan,
        "[plan]\nname = \"drift-night\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 1\nstopping = \"fixed\"\nwarm_up_s = 0\nsettle_s = 1\n\n[[suites]]\nid = \"led-constant\"\n",
    )
    .expect("plan");
    let rig_text = std::fs::read_to_string(root().join("fixtures/rigs/sim.toml"))
        .expect("sim rig")
        .replace(
            "\"../meters/",
            &format!("\"{}/fixtures/meters/", root().display()),
        );
    let night_rig = |i: usize| {
        let path = tmp.path().join(format!("rig-{i:03}.toml"));
        let text = rig_text.replace("seed = 20261125", &format!("seed = {}", 20261125 + i));
        std::fs::write(
            &path,
            format!(
                "{text}\n[positions.sim.faults]\nnoise_pct = 0.01\ndrift_pct_per_day = {DRIFT_PCT_PER_DAY}\nage_days = {i}\n"
            ),
        )
        .expect("rig");
        path
    };
    let t0 = std::time::Instant::now();
    let mut nights = Vec::new();
    // Four rigs' nights at a time: the runs wait on the simulated rig more
    // than they compute.
    for batch in (0..NIGHTS).collect::<Vec<_>>().chunks(4) {
        let children: Vec<_> = batch
            .iter()
            .map(|&i| {
                let out = tmp.path().join(format!("night-{i:03}"));
                let child = Command::new(env!("CARGO_BIN_EXE_metrig"))
                    .args([
                        "run",
                        &plan.display().to_string(),
                        "--rig",
                        &night_rig(i).display().to_string(),
                        "--quiet",
                        "--out",
                        &out.display().to_string(),
                        "--store",
                        &store_arg(&loc),
                    ])
                    .current_dir(root())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("metrig run starts");
                (i, out, child)
            })
            .collect();
        for (i, out, child) in children {
            let done = child.wait_with_output().expect("metrig run ends");
            assert!(
                matches!(done.status.code(), Some(0 | 1)),
                "night {i}: {}",
                String::from_utf8_lossy(&done.stderr)
            );
            nights.push((i, out, String::from_utf8_lossy(&done.stderr).into_owned()));
        }
    }
    let wall = t0.elapsed();
    let mut s = Store::open(&loc).expect("store");
    for (i, out, stderr) in &nights {
        let record: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("record.json")).expect("record.json"),
        )
        .expect("record");
        let run_id = record["run_id"].as_str().expect("run_id");
        let n = s
            .sql()
            .exec(
                "UPDATE runs SET started_at = $1 WHERE run_id = $2",
                &[day(*i).into(), run_id.into()],
            )
            .expect("re-dated");
        assert_eq!(
            n, 1,
            "night {i}: run {run_id} is in the store; its stderr: {stderr}"
        );
    }
    drop(s);
    let (code, out, err) = metrig(&[
        "trend",
        "--meter",
        "2611250001",
        "--point",
        "led-constant/iref-pf1",
        "--json",
        "--store",
        &store_arg(&loc),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("trend --json");
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(NIGHTS), "{out}");
    let slope = v["drift"]["slope_pct_per_day"].as_f64().expect("slope");
    let u = 2.0 * v["drift"]["slope_u_pct_per_day"].as_f64().expect("u");
    eprintln!(
        "{NIGHTS} simulated nights in {:.0} s of wall time: drift {slope:.6} ± {u:.6} %/day (k = 2), simulated {DRIFT_PCT_PER_DAY}",
        wall.as_secs_f64()
    );
    assert!(
        (slope - DRIFT_PCT_PER_DAY).abs() <= u,
        "slope {slope} ± {u} does not cover the simulated {DRIFT_PCT_PER_DAY}"
    );
    assert!(
        slope.abs() > u,
        "the drift must be significant: {slope} ± {u}"
    );
    assert!(u < DRIFT_PCT_PER_DAY / 2.0, "too uncertain to tell: ± {u}");
}

/// Night `i`'s start: 02:00 UTC, `i` days after 2026-01-01.
fn day(i: usize) -> String {
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T02:00:00Z").expect("t0");
    (t0 + chrono::Duration::days(i as i64))
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A store that is down while the run goes and up when it ends holds the
/// whole run without `store sync`: the writer tries once more at the end,
/// from the journal. Fed by the events of a real run's journal, with the
/// store's folder blocked by a plain file until the run's last event.
#[test]
fn a_store_back_by_the_runs_end_catches_up_from_the_journal() {
    use harness::run::Listener;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    let (code, _, err) = gate_run(&dir, "none");
    assert!(matches!(code, 0 | 1), "{err}");
    let events = harness::run::journal::read_journal(&dir).expect("journal");
    let blocker = tmp.path().join("stores");
    std::fs::write(&blocker, "a file where the store's folder should be").expect("blocker");
    let loc = Location::Sqlite(blocker.join("metrig.sqlite"));

    let mut listener = store::StoreListener::start(loc.clone(), dir.clone(), &[]);
    for e in &events {
        listener.on_event(e);
    }
    // Every point has been sent and missed; the store comes back.
    std::fs::remove_file(&blocker).expect("unblock");
    drop(listener);

    let (code, out, err) = metrig(&[
        "store",
        "check",
        "--store",
        &store_arg(&loc),
        &dir.display().to_string(),
    ]);
    assert_eq!(code, 0, "the store must hold the whole run: {out}{err}");
}
