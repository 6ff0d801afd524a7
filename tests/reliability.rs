//! Issue 16: a run that keeps its record, results that cannot be changed
//! unnoticed, a gate that passes only what it compared, outputs confined
//! to the run folder, simulated servers that survive fd exhaustion. Each
//! test tries a hostile or unlucky lab's move and asserts it is held.

mod common;
use common::{copy_dir, metrig, metrig_in, record, root, s};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A quick plan: the accuracy points, `reps` samples each, named `name`.
fn plan(dir: &Path, name: &str, reps: u32) -> PathBuf {
    let path = dir.join(format!("plan-{reps}-{}.toml", name.len()));
    std::fs::write(
        &path,
        format!(
            "[plan]\nname = \"{}\"\ndecision_rule = \"guarded-binary\"\nrepetitions = {reps}\nstopping = \"fixed\"\nwarm_up_s = 0\nsettle_s = 1\n\n[compare]\nalpha = 0.01\npractical_fraction_of_mpe = 0.2\n\n[[suites]]\nid = \"accuracy-active\"\ngate_counts = 1000\ninfluence = false\n",
            toml_text(name)
        ),
    )
    .expect("plan written");
    path
}

/// `s` inside a TOML basic string (control characters as \uXXXX).
fn toml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            c if c.is_control() => format!("\\u{:04X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// A simulated rig with `meter` (a file under fixtures/meters) and `faults`.
fn rig(dir: &Path, name: &str, meter: &str, faults: &str) -> PathBuf {
    let meter = root().join("fixtures/meters").join(meter);
    let text = format!(
        "[rig]\nname = \"{name}\"\nkind = \"sim\"\nseed = 7\n[source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"sim\"\n[[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"sim-tcp\" }}\n[positions.sim]\nfirmware = \"1.0\"\n[positions.sim.faults]\n{faults}\n",
        meter.display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("rig written");
    path
}

fn run_into(plan: &Path, rig: &Path, out: &Path) -> (i32, String, String) {
    metrig(&["run", s(plan), "--rig", s(rig), "--out", s(out), "--quiet"])
}

/// A finished quick run in `dir/name` on the standard simulated meter.
fn finished_run(dir: &Path, name: &str, reps: u32) -> PathBuf {
    let p = plan(dir, "gate", reps);
    let r = rig(dir, "bench", "legrand-412083.toml", "");
    let out = dir.join(name);
    let (code, o, e) = run_into(&p, &r, &out);
    assert_eq!(code, 0, "{o}{e}");
    out
}

fn edit_line(journal: &Path, pick: &str, from: &str, to: &str) -> usize {
    let text = std::fs::read_to_string(journal).expect("journal");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let i = lines
        .iter()
        .position(|l| l.contains(pick) && l.contains(from))
        .expect("a line to edit");
    lines[i] = lines[i].replacen(from, to, 1);
    std::fs::write(journal, lines.join("\n") + "\n").expect("written");
    i + 1
}

#[test]
fn a_meter_that_never_starts_gets_a_recorded_error_verdict_not_a_lost_run() {
    let dir = tempfile::tempdir().expect("tmp");
    // Starts at 0.2 A: no pulse at Ist, so its starting time is +∞.
    let r = rig(
        dir.path(),
        "no-start",
        "legrand-412083.toml",
        "starting_current_a = 0.2",
    );
    let out = dir.path().join("run");
    let lab = root().join("fixtures/labs/example-lab.toml");
    let (code, o, e) = metrig(&[
        "run",
        s(&root().join("fixtures/plans/type-test-class-b.toml")),
        "--rig",
        s(&r),
        "--out",
        s(&out),
        "--quiet",
        // A type test carries its report's facts (issue 19).
        "--lab",
        s(&lab),
        "--customer",
        "c",
        "--operator",
        "o",
        "--sample-id",
        "s",
        "--received",
        "2026-11-30",
        "--report-number",
        "r",
    ]);
    assert_eq!(code, 1, "a failed verdict, not a lost run: {o}{e}");
    let rec = record(&out);
    let p = rec["points"]
        .as_array()
        .expect("points")
        .iter()
        .find(|p| p["key"] == "starting-current/p1/active")
        .expect("the starting-current point");
    assert_eq!(p["verdict"], "error");
    let why = p["summary"].as_str().expect("summary");
    assert!(
        why.contains("not a finite number") && why.contains("∞"),
        "{why}"
    );
    assert!(
        rec["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["text"]
                .as_str()
                .is_some_and(|t| t.contains("raw readings"))),
        "the sample's raw readings are kept in a finding"
    );
    let (code, v, _) = metrig(&["verify", s(&out)]);
    assert_eq!(code, 0, "{v}");
    let (code, _, e) = metrig(&["report", s(&out)]);
    assert_eq!(code, 0, "{e}");
}

#[test]
fn an_edited_journal_or_record_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = finished_run(dir.path(), "good", 3);
    let (code, out, _) = metrig(&["verify", s(&good)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");

    // A verdict edited from pass to fail (and the reverse is the same edit).
    let edited = dir.path().join("edited");
    copy_dir(&good, &edited);
    let line = edit_line(
        &edited.join("journal.jsonl"),
        "point_finished",
        "\"verdict\":\"pass\"",
        "\"verdict\":\"fail\"",
    );
    for args in [
        vec!["report", s(&edited)],
        vec!["compare", s(&good), s(&edited)],
    ] {
        let (code, _, err) = metrig(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(&format!("line {line}:")), "{args:?}: {err}");
    }
    let (code, out, _) = metrig(&["verify", s(&edited)]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains(&format!("line {line}")), "{out}");
    let r = rig(dir.path(), "bench", "legrand-412083.toml", "");
    let p = plan(dir.path(), "gate", 3);
    let (code, _, err) = metrig(&["run", s(&p), "--rig", s(&r), "--resume", s(&edited)]);
    assert_eq!(code, 2, "--resume refuses an edited journal: {err}");

    // A line removed from the middle; a sample's value changed.
    for (name, edit) in [("removed", 0), ("sample", 1)] {
        let d = dir.path().join(name);
        copy_dir(&good, &d);
        let j = d.join("journal.jsonl");
        if edit == 0 {
            let text = std::fs::read_to_string(&j).expect("journal");
            let mut lines: Vec<&str> = text.lines().collect();
            lines.remove(10);
            std::fs::write(&j, lines.join("\n") + "\n").expect("written");
        } else {
            edit_line(&j, "\"event\":\"sample\"", "\"value\":", "\"value\":1");
        }
        let (code, out, _) = metrig(&["verify", s(&d)]);
        assert_eq!(code, 5, "{name}: {out}");
    }

    // record.json edited: the journal holds, the record is not its fold.
    let d = dir.path().join("record-edited");
    copy_dir(&good, &d);
    let text = std::fs::read_to_string(d.join("record.json")).expect("record");
    std::fs::write(
        d.join("record.json"),
        text.replacen("\"pass\"", "\"fail\"", 1),
    )
    .expect("w");
    let (code, _, err) = metrig(&["report", s(&d)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("record.json"), "{err}");
    // summary.md edited: verify says so; report renders it again.
    let d = dir.path().join("summary-edited");
    copy_dir(&good, &d);
    std::fs::write(d.join("summary.md"), "all pass").expect("w");
    let (code, out, _) = metrig(&["verify", s(&d)]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("summary.md"), "{out}");
    assert_eq!(metrig(&["report", s(&d)]).0, 0);
    assert_eq!(metrig(&["verify", s(&d)]).0, 0);
}

#[test]
fn resume_cuts_a_line_cut_short_by_a_kill_instead_of_gluing_onto_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = finished_run(dir.path(), "good", 3);
    let killed = dir.path().join("killed");
    std::fs::create_dir(&killed).expect("dir");
    let text = std::fs::read_to_string(good.join("journal.jsonl")).expect("journal");
    let lines: Vec<&str> = text.lines().collect();
    // Killed during the write of line 40: half of it on disk, no newline.
    let mut kept = lines[..39].join("\n") + "\n";
    kept.push_str(&lines[39][..lines[39].len() / 2]);
    std::fs::write(killed.join("journal.jsonl"), &kept).expect("written");
    let (code, out, _) = metrig(&["verify", s(&killed)]);
    assert_eq!(code, 0, "a cut tail is not an edit: {out}");
    assert!(out.contains("cut short"), "{out}");
    let p = plan(dir.path(), "gate", 3);
    let r = rig(dir.path(), "bench", "legrand-412083.toml", "");
    let (code, o, e) = metrig(&[
        "run",
        s(&p),
        "--rig",
        s(&r),
        "--resume",
        s(&killed),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{o}{e}");
    let (code, out, _) = metrig(&["verify", s(&killed)]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("cut short"), "{out}");
    let rec = record(&killed);
    assert_eq!(rec["status"], "completed");
    assert_eq!(rec["resumes"], 1);
}

#[test]
fn one_writer_per_run_folder_and_a_fresh_out_must_be_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = finished_run(dir.path(), "good", 2);
    let p = plan(dir.path(), "other", 2);
    let r = rig(dir.path(), "bench", "legrand-412083.toml", "");
    let before = std::fs::read(good.join("journal.jsonl")).expect("journal");
    let (code, _, err) = run_into(&p, &r, &good);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("empty or absent"), "{err}");
    assert_eq!(
        std::fs::read(good.join("journal.jsonl")).expect("j"),
        before
    );

    // Another writer holds the folder's lock.
    let busy = dir.path().join("busy");
    std::fs::create_dir(&busy).expect("dir");
    let lock = std::fs::File::create(busy.join(".metrig.lock")).expect("lock file");
    lock.try_lock().expect("locked");
    let (code, _, err) = run_into(&p, &r, &busy);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("another metrig"), "{err}");
    drop(lock);
    let (code, o, e) = run_into(&p, &r, &busy);
    assert_eq!(code, 0, "free again once the lock is gone: {o}{e}");

    // An --out that cannot be written is bad input (2), not a rig failure.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("file");
    let (code, _, err) = run_into(&p, &r, &file.join("run"));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn resume_refuses_a_changed_profile_unless_accepted_and_recorded() {
    let dir = tempfile::tempdir().expect("tmp");
    let meter_dir = dir.path().join("meters");
    std::fs::create_dir(&meter_dir).expect("dir");
    let profile = meter_dir.join("m.toml");
    std::fs::copy(root().join("fixtures/meters/legrand-412083.toml"), &profile).expect("copy");
    let r = dir.path().join("rig.toml");
    let text = std::fs::read_to_string(rig(dir.path(), "x", "legrand-412083.toml", ""))
        .expect("rig")
        .replace(
            &root()
                .join("fixtures/meters/legrand-412083.toml")
                .display()
                .to_string(),
            &profile.display().to_string(),
        );
    std::fs::write(&r, text).expect("rig");
    let p = plan(dir.path(), "gate", 2);
    let out = dir.path().join("run");
    assert_eq!(run_into(&p, &r, &out).0, 0);
    // Killed before its end: drop the last lines.
    let j = out.join("journal.jsonl");
    let text = std::fs::read_to_string(&j).expect("j");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&j, lines[..lines.len() - 5].join("\n") + "\n").expect("w");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&profile)
        .expect("profile");
    writeln!(f, "# edited after the run started").expect("edit");
    let (code, _, err) = metrig(&["run", s(&p), "--rig", s(&r), "--resume", s(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("meter profile of position 1"), "{err}");
    let (code, o, e) = metrig(&[
        "run",
        s(&p),
        "--rig",
        s(&r),
        "--resume",
        s(&out),
        "--accept-changes",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{o}{e}");
    let rec = record(&out);
    assert!(
        rec["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["text"]
                .as_str()
                .is_some_and(|t| t.contains("--accept-changes") && t.contains("profile"))),
        "the accepted change is recorded"
    );
}

#[test]
fn the_gate_refuses_to_pass_what_it_did_not_compare() {
    let dir = tempfile::tempdir().expect("tmp");
    let base = finished_run(dir.path(), "base", 3);
    let same = finished_run(dir.path(), "same", 3);
    let elsewhere = tempfile::tempdir().expect("another cwd");
    // The same meter passes, wherever compare is started from.
    for cwd in [root(), elsewhere.path()] {
        let (code, out, err) = metrig_in(cwd, &["compare", s(&base), s(&same)]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("α = 0.01"), "the plan's thresholds: {out}");
    }
    // The thresholds' plan cannot be found: refused, not defaulted.
    let no_plan = dir.path().join("no-plan");
    copy_dir(&same, &no_plan);
    std::fs::remove_file(no_plan.join("plan.toml")).expect("rm");
    let (code, out, _) = metrig_in(elsewhere.path(), &["compare", s(&base), s(&no_plan)]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("--plan"), "{out}");

    // One sample a point: Welch's test is impossible.
    let one_a = finished_run(dir.path(), "one-a", 1);
    let one_b = finished_run(dir.path(), "one-b", 1);
    let (code, out, _) = metrig(&["compare", s(&one_a), s(&one_b)]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("Welch's test needs at least 2"), "{out}");

    // Another plan (another sample count).
    let (code, out, _) = metrig(&["compare", s(&base), s(&one_b)]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("different plans"), "{out}");

    // Another meter model.
    let p = plan(dir.path(), "gate", 3);
    let r = rig(dir.path(), "em111", "carlo-gavazzi-em111.toml", "");
    let other = dir.path().join("other-meter");
    let (code, o, e) = run_into(&p, &r, &other);
    assert!(code == 0 || code == 1, "{o}{e}");
    let (code, out, _) = metrig(&["compare", s(&base), s(&other)]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("different meters"), "{out}");

    // A candidate killed before its first point measured nothing.
    let empty = dir.path().join("killed-early");
    std::fs::create_dir(&empty).expect("dir");
    let text = std::fs::read_to_string(same.join("journal.jsonl")).expect("j");
    std::fs::write(
        empty.join("journal.jsonl"),
        text.lines().take(1).collect::<Vec<_>>().join("\n") + "\n",
    )
    .expect("w");
    std::fs::copy(same.join("plan.toml"), empty.join("plan.toml")).expect("plan");
    let (code, out, _) = metrig(&["compare", s(&base), s(&empty)]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("measured no point"), "{out}");
    assert!(out.contains("the candidate did not measure it"), "{out}");
}

#[test]
fn a_hostile_plan_name_stays_in_reports_out_and_prints_no_escapes() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = plan(
        dir.path(),
        "../../escaped\u{1b}[2J\u{1b}]0;owned\u{7}<b>x</b>",
        2,
    );
    let r = rig(dir.path(), "bench", "legrand-412083.toml", "");
    let cwd = dir.path().join("lab");
    std::fs::create_dir(&cwd).expect("cwd");
    let (code, out, err) = metrig_in(&cwd, &["run", s(&p), "--rig", s(&r)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}'),
        "raw escapes on stdout"
    );
    assert!(!err.contains('\u{1b}'), "raw escapes on stderr");
    let runs: Vec<_> = std::fs::read_dir(cwd.join("reports/out"))
        .expect("reports/out")
        .filter_map(Result::ok)
        // The results store's SQLite file lives beside the run folders.
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(runs.len(), 1);
    assert!(!dir.path().join("escaped").exists());
    let summary = std::fs::read_to_string(runs[0].path().join("summary.md")).expect("md");
    assert!(
        !summary.contains("<b>"),
        "raw HTML in summary.md: {summary}"
    );
    assert!(summary.contains("&lt;b&gt;"), "{summary}");
    let (code, md, _) = metrig(&["report", s(&runs[0].path()), "--format", "md"]);
    assert_eq!(code, 0);
    assert!(!md.contains('\u{1b}'));
}

#[cfg(unix)]
#[test]
fn report_replaces_a_symlink_in_the_run_folder_and_leaves_its_target() {
    let dir = tempfile::tempdir().expect("tmp");
    let good = finished_run(dir.path(), "good", 2);
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, "calibration certificate").expect("w");
    for f in ["summary.md", "report.html", "junit.xml", "samples.csv"] {
        std::fs::remove_file(good.join(f)).expect("rm");
        std::os::unix::fs::symlink(&precious, good.join(f)).expect("link");
    }
    let (code, _, err) = metrig(&["report", s(&good)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&precious).expect("target"),
        "calibration certificate"
    );
    assert_eq!(metrig(&["verify", s(&good)]).0, 0);
    // A linked record is not the run's record: refused, its target untouched.
    std::fs::remove_file(good.join("record.json")).expect("rm");
    std::os::unix::fs::symlink(&precious, good.join("record.json")).expect("link");
    let (code, _, err) = metrig(&["report", s(&good)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        std::fs::read_to_string(&precious).expect("target"),
        "calibration certificate"
    );
}

/// A file-size limit (as a full disk would) mid-run: the run stops, the
/// source goes off, and it says what was kept; `--resume` finishes it.
#[cfg(unix)]
#[test]
fn a_journal_write_failure_stops_the_run_and_says_what_was_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = plan(dir.path(), "gate", 3);
    let r = rig(dir.path(), "bench", "legrand-412083.toml", "");
    let out = dir.path().join("run");
    // 24 KiB: the journal of this plan is about 60 KiB.
    let script = format!(
        "ulimit -f 24; trap '' XFSZ; exec \"{}\" run \"{}\" --rig \"{}\" --out \"{}\" --quiet",
        env!("CARGO_BIN_EXE_metrig"),
        s(&p),
        s(&r),
        s(&out)
    );
    let o = Command::new("bash")
        .args(["-c", &script])
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .expect("bash");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("writing the journal failed"), "{err}");
    assert!(err.contains("whole lines"), "{err}");
    assert!(err.contains("source switched off"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(!out.join("record.json").exists());
    let (code, o, e) = metrig(&["run", s(&p), "--rig", s(&r), "--resume", s(&out), "--quiet"]);
    assert_eq!(code, 0, "{o}{e}");
    assert_eq!(metrig(&["verify", s(&out)]).0, 0);
    assert_eq!(record(&out)["status"], "completed");
}

#[test]
fn a_load_with_a_current_given_twice_is_refused() {
    let (code, _, err) = metrig(&[
        "read",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--load",
        "230V 5A 1 50Hz 60A",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("twice"), "{err}");
}

/// Connections beyond the open-file limit, then a normal client: the TCP
/// and RTU-over-TCP servers still accept.
#[cfg(unix)]
#[test]
fn sim_servers_accept_again_after_running_out_of_file_descriptors() {
    for kind in ["--tcp", "--rtu-over-tcp"] {
        let script = format!(
            "ulimit -n 48; exec \"{}\" sim serve --meter fixtures/meters/legrand-412083.toml {kind} 127.0.0.1:0",
            env!("CARGO_BIN_EXE_metrig")
        );
        let mut child = Command::new("bash")
            .args(["-c", &script])
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serves");
        let mut first = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        std::io::BufRead::read_line(&mut stdout, &mut first).expect("first line");
        let addr = first
            .split_whitespace()
            .nth(2)
            .expect("address")
            .to_string();
        let burst: Vec<_> = (0..120)
            .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(burst);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let dir = tempfile::tempdir().expect("tmp");
        let link = if kind == "--tcp" {
            "tcp"
        } else {
            "rtu-over-tcp"
        };
        let rig = dir.path().join("lab.toml");
        std::fs::write(
            &rig,
            format!(
                "[rig]\nname = \"lab\"\nkind = \"lab\"\n[source]\nkind = \"none\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"none\"\n[[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"{link}\", address = \"{addr}\" }}\n",
                root().join("fixtures/meters/legrand-412083.toml").display()
            ),
        )
        .expect("rig");
        let (code, out, err) = metrig(&["read", "--rig", s(&rig)]);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(code, 0, "{kind}: the server accepts again: {out}{err}");
        assert!(out.contains("current"), "{out}");
    }
}
