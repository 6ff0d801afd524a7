//! Issue 16 §3, one step past loading: a plan or meter profile whose
//! extreme numbers (1e-300, 1e300, negative, 0, …) passed validation must
//! also plan its points, and have them checked against the rig's limits,
//! without a panic (a `Duration::from_secs_f64` on an endless period was the
//! failure seen). `suites/tests/extreme_values.rs` checks the loading.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use harness::rig::Rig;
use harness::run::runner::{check_points, plan_points};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every number of `doc`, by path.
fn numbers(v: &toml::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        toml::Value::Integer(_) | toml::Value::Float(_) => out.push(path.clone()),
        toml::Value::Table(t) => {
            for (k, x) in t {
                path.push(k.clone());
                numbers(x, path, out);
                path.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(format!("#{i}"));
                numbers(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn set(v: &mut toml::Value, path: &[String], new: toml::Value) {
    let mut here = v;
    for step in path {
        here = match (step.strip_prefix('#'), here) {
            (Some(i), toml::Value::Array(a)) => &mut a[i.parse::<usize>().expect("index")],
            (None, toml::Value::Table(t)) => t.get_mut(step).expect("key"),
            _ => panic!("path does not fit"),
        };
    }
    *here = new;
}

const EXTREMES: [f64; 6] = [1e-300, 1e300, -1.0, 0.0, 1e-9, 1e9];

/// Plans every point of `plan_text` on `rig` and checks them; a refusal is
/// fine, a panic is not.
fn plan_quietly(plan_text: &str, rig: &Rig, what: &str) -> bool {
    let suites = suites::all();
    let Ok(plan) = harness::run::parse_plan(plan_text, Path::new("p.toml"), &suites::catalogue())
    else {
        return false;
    };
    let r = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if let Ok(points) = plan_points(&plan, &suites, rig) {
            let _ = check_points(&points, rig);
        }
    }));
    assert!(r.is_ok(), "planning panicked: {what}");
    true
}

#[tokio::test]
async fn extreme_plan_numbers_that_load_also_plan() {
    let rig =
        Rig::open(harness::station::load_rig(&root().join("fixtures/rigs/sim.toml")).expect("rig"))
            .await
            .expect("opens");
    let mut planned = 0;
    for plan in ["type-test-class-b", "nightly", "firmware-gate"] {
        let path = root().join(format!("fixtures/plans/{plan}.toml"));
        let text = std::fs::read_to_string(&path).expect("plan");
        let doc: toml::Value = toml::from_str(&text).expect("parses");
        let mut paths = Vec::new();
        numbers(&doc, &mut Vec::new(), &mut paths);
        for p in &paths {
            for x in EXTREMES {
                let mut d = doc.clone();
                set(&mut d, p, toml::Value::Float(x));
                let changed = toml::to_string(&d).expect("serialises");
                if plan_quietly(&changed, &rig, &format!("{plan} {p:?} = {x}")) {
                    planned += 1;
                }
            }
        }
    }
    println!("{planned} plans with an extreme number loaded and planned without a panic");
    assert!(planned > 0);
}

#[tokio::test]
async fn extreme_profile_numbers_that_load_also_plan() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile_path = root().join("fixtures/meters/legrand-412083.toml");
    let text = std::fs::read_to_string(&profile_path).expect("profile");
    let doc: toml::Value = toml::from_str(&text).expect("parses");
    let plan = std::fs::read_to_string(root().join("fixtures/plans/type-test-class-b.toml"))
        .expect("plan");
    let rig_text = |meter: &Path| {
        format!(
            "[rig]\nname = \"x\"\nkind = \"sim\"\n[source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"sim\"\n[[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"sim-tcp\" }}\n",
            meter.display()
        )
    };
    let mut paths = Vec::new();
    numbers(&doc, &mut Vec::new(), &mut paths);
    // The ratings and pulse constants feed every period and gate.
    paths.retain(|p| p[0] == "ratings" || p[0] == "pulse");
    let mut planned = 0;
    for p in &paths {
        for x in EXTREMES {
            let mut d = doc.clone();
            set(&mut d, p, toml::Value::Float(x));
            let meter = dir.path().join("m.toml");
            std::fs::write(&meter, toml::to_string(&d).expect("serialises")).expect("write");
            let Ok(file) =
                harness::station::parse_rig(&rig_text(&meter), &dir.path().join("r.toml"))
            else {
                continue;
            };
            let rig = Rig::open(file).await.expect("a valid rig opens");
            if plan_quietly(&plan, &rig, &format!("profile {p:?} = {x}")) {
                planned += 1;
            }
        }
    }
    println!("{planned} profiles with an extreme number loaded and planned without a panic");
    assert!(planned > 0);
}

/// A typo'd override row would change nothing, silently: planning refuses it
/// with the rows the plan's points are judged by; the right row plans.
#[tokio::test]
async fn an_override_no_planned_point_uses_is_refused() {
    let rig =
        Rig::open(harness::station::load_rig(&root().join("fixtures/rigs/sim.toml")).expect("rig"))
            .await
            .expect("opens");
    let suites = suites::all();
    let plan = |row: &str| {
        format!(
            "[plan]\nname = \"o\"\ndecision_rule = \"guarded-binary\"\n[[suites]]\nid = \"accuracy-active\"\n[[overrides]]\ntable = \"en50470-3-class-b\"\nrow = \"{row}\"\nlimit_pct = 1.2\nreason = \"lab copy\"\n"
        )
    };
    let parse = |text: &str| {
        harness::run::parse_plan(text, Path::new("o.toml"), &suites::catalogue()).expect("loads")
    };
    let good = parse(&plan("imin-itr-pf1"));
    assert!(plan_points(&good, &suites, &rig).is_ok());
    let typo = parse(&plan("imin-itr-pf-1"));
    let e = plan_points(&typo, &suites, &rig)
        .expect_err("unknown row")
        .to_string();
    assert!(
        e.contains("overrides[0]") && e.contains("imin-itr-pf1"),
        "{e}"
    );
}
