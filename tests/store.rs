//! The results store under a fleet (issue 17): real `metrig run` processes
//! on the simulated rig write into one PostgreSQL (8 at once) and one SQLite
//! file (2 at once); every point of every run must be there and
//! `metrig store check` must agree with every journal. Then a sample is
//! taken away behind the store's back and `check` must say so; and a run
//! whose store is unreachable goes on and `store sync` catches up.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use store::testing::fresh_postgres;
use store::{HistoryFilter, Location, Store};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn metrig(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args(args)
        .current_dir(root())
        .env_remove("METRIG_STORE")
        .output()
        .expect("metrig runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
    let (code, _, err) = metrig(&[
        "run",
        "fixtures/plans/firmware-gate.toml",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--quiet",
        "--out",
        &dir.display().to_string(),
        "--store",
        &down,
    ]);
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
