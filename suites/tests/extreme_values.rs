//! Validation by range everywhere (issue 16 §3): every numeric key of every
//! shipped plan, rig file and meter profile, set to an extreme value
//! (1e-300, 1e300, ±inf, NaN, negative, 0, the integer extremes), gives a
//! clean load or a clean refusal that names the file — never a panic, never
//! an endless error message.
//!
//! One test walks every key with every value (NaN and ±inf must always be
//! refused); the property test (proptest) sets several keys of one file at
//! once.
//!
//! Here, not in harness, because a plan's suite parameters are checked
//! against the suites' own declarations (`suites::catalogue()`).

mod common;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use harness::files::FileError;
use proptest::prelude::*;

/// The suites' declarations, built once for the thousands of loads below.
static CATALOGUE: std::sync::LazyLock<Vec<harness::run::Declaration>> =
    std::sync::LazyLock::new(suites::catalogue);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Plan,
    Rig,
    Profile,
}

/// The shipped files, each with its kind: the plans, rig files and meter
/// profiles, and the examples one folder down (`rigs/examples`,
/// `meters/examples`).
fn shipped() -> Vec<(Kind, PathBuf)> {
    let root = common::fixtures();
    let mut out = Vec::new();
    for (dir, kind) in [
        ("plans", Kind::Plan),
        ("rigs", Kind::Rig),
        ("meters", Kind::Profile),
        ("rigs/examples", Kind::Rig),
        ("meters/examples", Kind::Profile),
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixtures folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (kind, f)));
    }
    out
}

/// One step into a TOML document.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The path of every number in `v`, and whether it is an integer.
fn numbers(v: &toml::Value, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, bool)>) {
    match v {
        toml::Value::Integer(_) => out.push((path.clone(), true)),
        toml::Value::Float(_) => out.push((path.clone(), false)),
        toml::Value::Table(t) => {
            for (k, x) in t {
                path.push(Step::Key(k.clone()));
                numbers(x, path, out);
                path.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Step::Index(i));
                numbers(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn set(v: &mut toml::Value, path: &[Step], new: toml::Value) {
    let mut here = v;
    for step in path {
        here = match (step, here) {
            (Step::Key(k), toml::Value::Table(t)) => t.get_mut(k).expect("path exists"),
            (Step::Index(i), toml::Value::Array(a)) => &mut a[*i],
            _ => panic!("path does not fit the document"),
        };
    }
    *here = new;
}

fn extremes(integer: bool) -> Vec<toml::Value> {
    let mut v: Vec<toml::Value> = [
        1e-300,
        1e300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -1.0,
        // Negative, yet within the loaders' ±1e9 sanity bound: reaches the
        // suites' arithmetic (a duration of a negative window once did).
        -1000.0,
        0.0,
        -1e300,
    ]
    .into_iter()
    .map(toml::Value::Float)
    .collect();
    if integer {
        v.extend(
            [0, -1, i64::MAX, i64::MIN, 4_294_967_296]
                .into_iter()
                .map(toml::Value::Integer),
        );
    }
    v
}

/// A plan of every suite with its defaults, built once: what an accepted
/// profile is planned with.
static EVERY_SUITE: std::sync::LazyLock<harness::run::Plan> = std::sync::LazyLock::new(|| {
    let mut text =
        String::from("[plan]\nname = \"every-suite\"\ndecision_rule = \"guarded-binary\"\n");
    for d in CATALOGUE.iter() {
        text.push_str(&format!("\n[[suites]]\nid = \"{}\"\n", d.id));
    }
    harness::run::parse_plan(&text, Path::new("every-suite.toml"), &CATALOGUE).expect("plan")
});

/// Every suite plans its points for `profile`: a refusal is fine, a panic
/// (caught by the runner, but a bug a value from a file reached) is not.
fn plan_every_suite(profile: harness::profile::MeterProfile) -> Result<(), String> {
    let plan = &*EVERY_SUITE;
    let profile = std::sync::Arc::new(profile);
    let all = suites::all();
    for entry in &plan.suites {
        let suite = all
            .iter()
            .find(|s| s.id() == entry.id)
            .expect("every catalogued suite is built in");
        let ctx = harness::run::PlanContext {
            plan,
            params: &entry.params,
            repetitions: plan.repetitions_for(&entry.id),
            positions: vec![(0, profile.clone())],
            simulated: true,
            reference_constant: None,
            reference: None,
        };
        if std::panic::catch_unwind(AssertUnwindSafe(|| suite.points(&ctx))).is_err() {
            return Err(format!("suite {} panicked while planning", suite.id()));
        }
    }
    Ok(())
}

/// Loads `text` as the file at `path` would be loaded; `Ok(())` for a clean
/// load, the refusal otherwise. A panic fails the test; so does a profile
/// that loads but makes a suite panic while planning its points.
fn load(kind: Kind, path: &Path, text: &str) -> Result<(), FileError> {
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| match kind {
        Kind::Plan => harness::run::parse_plan(text, path, &CATALOGUE).map(|_| ()),
        Kind::Rig => harness::station::parse_rig(text, path).map(|_| ()),
        Kind::Profile => harness::profile::parse_profile(text, path).map(|p| {
            if let Err(e) = plan_every_suite(p) {
                panic!("{e}");
            }
        }),
    }));
    match r {
        Ok(r) => r,
        Err(_) => panic!("{} panicked on:\n{text}", path.display()),
    }
}

/// A refusal names the file and stays short whatever the input.
fn assert_clean(e: &FileError, path: &Path, what: &str) {
    let message = e.to_string();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert!(
        message.contains(name),
        "{what}: the error must name {name}: {message}"
    );
    assert!(
        message.len() < 2000,
        "{what}: a {}-byte error",
        message.len()
    );
    if let FileError::Invalid { key, allowed, .. } = e {
        assert!(!key.is_empty() && !allowed.is_empty(), "{what}: {message}");
    }
}

fn describe(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!(".{k}"),
            Step::Index(i) => format!("[{i}]"),
        })
        .collect()
}

/// Every number of `text` (a file of `kind` at `path`, which must load as it
/// stands) set to every extreme in turn: a clean load or a clean refusal,
/// never NaN or ±inf accepted. Returns (tried, refused).
fn sweep(kind: Kind, path: &Path, text: &str) -> (usize, usize) {
    let doc: toml::Value = toml::from_str(text).expect("the file parses");
    load(kind, path, text)
        .unwrap_or_else(|e| panic!("{} refused as it stands: {e}", path.display()));
    let mut paths = Vec::new();
    numbers(&doc, &mut Vec::new(), &mut paths);
    assert!(!paths.is_empty(), "{} has numbers", path.display());
    let (mut tried, mut refused) = (0, 0);
    for (p, integer) in paths {
        for value in extremes(integer) {
            let mut d = doc.clone();
            set(&mut d, &p, value.clone());
            let what = format!("{}{} = {value}", path.display(), describe(&p));
            let changed = toml::to_string(&d).expect("serialises");
            tried += 1;
            match load(kind, path, &changed) {
                Err(e) => {
                    refused += 1;
                    assert_clean(&e, path, &what);
                }
                // No key is meant to take NaN or ±inf.
                Ok(()) => assert!(
                    value.as_float().is_none_or(f64::is_finite),
                    "{what} was accepted"
                ),
            }
        }
    }
    (tried, refused)
}

#[test]
fn every_numeric_key_of_every_shipped_file_takes_every_extreme_cleanly() {
    let mut tried = 0;
    let mut refused = 0;
    for (kind, path) in shipped() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let (t, r) = sweep(kind, &path, &text);
        tried += t;
        refused += r;
    }
    println!("{tried} extreme values tried, {refused} refused, the rest loaded");
    assert!(tried > 1000, "{tried}");
    assert!(
        refused > tried / 2,
        "most extremes are refused: {refused} of {tried}"
    );
}

/// A plan that sets every optional numeric key the shipped plans leave out:
/// every suite the catalogue declares, each with every parameter it declares
/// (a number at the low end of its range, the first choice, a flag on), a
/// suite's own repetitions, `max_u_pct`, the reference conditions' every
/// figure, the compare thresholds and a limit override.
fn plan_with_every_key() -> String {
    let mut out = String::from(
        "[plan]\nname = \"every-key\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 3\n\
         warm_up_s = 60\nsettle_s = 5\ntarget_tur = 3\nmax_u_pct = 0.5\nmax_point_hours = 2\n\
         max_rig_hours = 50\n\n[conditions]\ntemperature_c = 23\ntemperature_tolerance_k = 2\n\
         humidity_max_pct = 75\non_out_of_range = \"flag\"\nclause = \"EN 50470-3 §8\"\n\n\
         [compare]\nalpha = 0.01\npractical_fraction_of_mpe = 0.2\n\n\
         [[overrides]]\ntable = \"EN 50470-3 table 6\"\nrow = \"pf1-itr-imax\"\nlimit_pct = 1.5\n\
         reason = \"the extreme-values sweep\"\n",
    );
    for d in CATALOGUE.iter() {
        out.push_str(&format!(
            "\n[[suites]]\nid = \"{}\"\nrepetitions = 2\n",
            d.id
        ));
        for p in d.params {
            let value = match p.kind {
                harness::run::ParamKind::Number { low, whole, .. } if whole => {
                    format!("{}", low.max(1.0) as i64)
                }
                harness::run::ParamKind::Number { low, high, .. } => {
                    format!("{:?}", if low > 0.0 { low } else { high.min(1.0) })
                }
                harness::run::ParamKind::Flag => "true".into(),
                harness::run::ParamKind::Choice(c) => format!("{:?}", c[0]),
            };
            out.push_str(&format!("{} = {value}\n", p.key));
        }
    }
    out
}

/// The default rig with every simulated fault set (gently: each within its
/// range), a drifting room and the reproducibility floor: the keys no
/// shipped rig file carries.
fn rig_with_every_fault() -> String {
    let sim = std::fs::read_to_string(common::fixtures().join("rigs/sim.toml")).expect("sim.toml");
    let mut doc: toml::Table = toml::from_str(&sim).expect("sim.toml parses");
    let climate = doc
        .get_mut("climate")
        .and_then(toml::Value::as_table_mut)
        .expect("sim.toml has [climate]");
    climate.insert("temperature_drift_k_per_h".into(), 0.5.into());
    climate.insert("humidity_drift_pct_per_h".into(), 1.0.into());
    let faults: toml::Table = toml::from_str(
        "error_curve = [{ current_a = 0.25, pf = \"1\", error_pct = -0.5 }, { current_a = 63.0, pf = \"1\", error_pct = 0.3 }]\n\
         reactive_error_curve = [{ current_a = 5.0, sin_phi = \"1\", error_pct = 0.4 }]\n\
         noise_pct = 0.1\nnoise_tau_s = 60\nstarting_current_a = 0.02\ncreep_w = 0.5\n\
         s0_on_ms = 120\ns0_drop_every = 1000\ntariff_swapped = true\nhour_meter_ignores_threshold = true\nlatency_ms = [5, 20]\n\
         drop_response_every = 50\nanswers_bad_crc = true\nexception_for_bad_address = 2\n\
         answers_any_address = true\nreboot_at_s = 3600\npartial_reset_clears_total = true\n\
         average_window_stuck_min = 15\nlatency_spikes = { every = 100, ms = 300 }\n\
         garbage_every = 200\ndrift_pct_per_day = 0.0005\nage_days = 365\n",
    )
    .expect("faults parse");
    let position = doc
        .get_mut("positions")
        .and_then(toml::Value::as_array_mut)
        .and_then(|a| a.first_mut())
        .and_then(toml::Value::as_table_mut)
        .expect("sim.toml has a position");
    let sim_table = position
        .entry("sim")
        .or_insert_with(|| toml::Table::new().into())
        .as_table_mut()
        .expect("[positions.sim]");
    sim_table.insert("faults".into(), faults.into());
    toml::to_string(&doc).expect("serialises")
}

/// The keys no shipped file carries, swept the same way (the files are
/// written next to the shipped ones so relative paths resolve).
#[test]
fn every_optional_key_takes_every_extreme_cleanly() {
    let plan = common::fixtures().join("plans/every-key.toml");
    let rig = common::fixtures().join("rigs/every-fault.toml");
    let (tp, rp) = sweep(Kind::Plan, &plan, &plan_with_every_key());
    let (tr, rr) = sweep(Kind::Rig, &rig, &rig_with_every_fault());
    println!(
        "plan with every key: {tp} tried, {rp} refused; rig with every fault: {tr} tried, {rr} refused"
    );
    assert!(tp > 200 && tr > 150, "{tp} {tr}");
    assert!(rp > tp / 2 && rr > tr / 2, "{rp} of {tp}, {rr} of {tr}");
}

fn any_extreme() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        Just(toml::Value::Float(1e-300)),
        Just(toml::Value::Float(1e300)),
        Just(toml::Value::Float(f64::INFINITY)),
        Just(toml::Value::Float(f64::NAN)),
        Just(toml::Value::Float(-1.0)),
        Just(toml::Value::Float(0.0)),
        Just(toml::Value::Integer(0)),
        Just(toml::Value::Integer(-1)),
        Just(toml::Value::Integer(i64::MAX)),
        any::<f64>().prop_map(toml::Value::Float),
        any::<i64>().prop_map(toml::Value::Integer),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Several numbers of one shipped file set to extremes at once.
    #[test]
    fn several_extremes_at_once_load_or_refuse_cleanly(
        file in 0usize..64,
        picks in proptest::collection::vec((0usize..10_000, any_extreme()), 1..4),
    ) {
        let files = shipped();
        let (kind, path) = &files[file % files.len()];
        let text = std::fs::read_to_string(path).expect("readable");
        let mut doc: toml::Value = toml::from_str(&text).expect("parses");
        let mut paths = Vec::new();
        numbers(&doc, &mut Vec::new(), &mut paths);
        let mut what = path.display().to_string();
        for (i, value) in picks {
            let (p, _) = &paths[i % paths.len()];
            what.push_str(&format!(" {} = {value}", describe(p)));
            set(&mut doc, p, value);
        }
        let changed = toml::to_string(&doc).expect("serialises");
        if let Err(e) = load(*kind, path, &changed) {
            assert_clean(&e, path, &what);
        }
    }
}

/// Reading `/dev/zero` as a plan stops at the size limit at once; a 10 MB
/// file is refused unread; a syntax error in a file of one huge line is
/// reported in a few hundred characters, not the whole line back.
#[test]
fn file_reads_are_bounded_and_errors_stay_short() {
    let started = std::time::Instant::now();
    let e =
        harness::run::load_plan(Path::new("/dev/zero"), &suites::catalogue()).expect_err("endless");
    assert!(matches!(e, FileError::TooLarge { .. }), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("big-plan.toml");
    let mut text = String::from("[plan]\nname = \"x\"\ndecision_rule = ");
    text.push_str(&"x".repeat(10 * 1024 * 1024));
    std::fs::write(&big, &text).expect("write");
    let e = harness::run::load_plan(&big, &suites::catalogue()).expect_err("too large");
    assert!(e.to_string().len() < 300, "{} bytes", e.to_string().len());
    assert!(e.to_string().contains("big-plan.toml"), "{e}");

    let long = dir.path().join("long-line.toml");
    let mut text = String::from("[plan]\nname = \"x\"\ndecision_rule = ");
    text.push_str(&"x".repeat(900 * 1024));
    std::fs::write(&long, &text).expect("write");
    for e in [
        harness::run::load_plan(&long, &suites::catalogue()).expect_err("syntax"),
        harness::station::load_rig(&long).expect_err("syntax"),
        harness::profile::load_profile(&long).expect_err("syntax"),
    ] {
        let m = e.to_string();
        assert!(matches!(e, FileError::Syntax { .. }), "{m:.200}");
        assert!(m.len() < 2000, "a {}-byte error", m.len());
        assert!(
            m.contains("long-line.toml") && m.contains("more characters"),
            "{m:.300}"
        );
    }
}

/// A profile whose average window choices are no window (negative, zero,
/// under the meter's one-minute update, beyond a day) is refused at
/// planning, naming the profile file, the setting and the range: never a
/// panic (a negative window once reached `Duration::from_secs_f64`), never
/// an error verdict in a record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn average_windows_that_are_no_window_are_refused_naming_the_profile() {
    let dir = tempfile::tempdir().expect("tmp");
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/meters/legrand-412083.toml"),
    )
    .expect("profile");
    for bad in ["-5", "0", "0.01", "1e9"] {
        let text = shipped.replace(
            "  { value = 5, code = 0 },",
            &format!("  {{ value = {bad}, code = 0 }},"),
        );
        assert_ne!(text, shipped, "the window choice was replaced");
        let path = dir.path().join(format!("window-{bad}.toml"));
        std::fs::write(&path, text).expect("written");
        let profile = std::sync::Arc::new(harness::profile::load_profile(&path).expect("loads"));
        let plan = harness::run::parse_plan(
            "[plan]\nname = \"w\"\ndecision_rule = \"guarded-binary\"\n\n[[suites]]\nid = \"average-power\"\n",
            Path::new("w.toml"),
            &suites::catalogue(),
        )
        .expect("plan");
        let ctx = harness::run::PlanContext {
            plan: &plan,
            params: &plan.suites[0].params,
            repetitions: 1,
            positions: vec![(0, profile)],
            simulated: true,
            reference_constant: None,
            reference: None,
        };
        let suite = suites::all()
            .into_iter()
            .find(|s| s.id() == "average-power")
            .expect("average-power");
        let e = suite.points(&ctx).expect_err(bad);
        let text = e.to_string();
        assert!(
            text.contains(&format!("window-{bad}.toml"))
                && text.contains("average_window")
                && text.contains("1..=1440 min"),
            "{text}"
        );
    }
}
