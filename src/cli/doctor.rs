//! `metrig doctor`: does each instrument answer, and what is it?

use std::path::Path;
use std::process::ExitCode;

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, PowerFactor};
use harness::rig::Rig;
use harness::station::load_rig;

use super::{EXIT_OK, EXIT_RIG_FAILED};

pub async fn run(rig_file: &Path, plan_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = load_rig(rig_file)?;
    say!(
        "rig: {} ({:?}, {})",
        config.config.name,
        config.config.kind,
        rig_file.display()
    )?;
    let mut rig = Rig::open(config).await?;
    let mut failures = check(&mut rig).await;
    if let (Some(plan_file), Ok(n)) = (plan_file, failures.as_ref()) {
        let n = *n;
        failures = ranges(&rig, plan_file).map(|bad| n + bad);
    }
    let off = rig.off().await;
    let failures = failures?;
    if let Err(e) = off {
        say!("FAIL source off: {e}")?;
        return Ok(ExitCode::from(EXIT_RIG_FAILED));
    }
    if failures == 0 {
        say!("all instruments answer")?;
        Ok(ExitCode::from(EXIT_OK))
    } else {
        say!("{failures} instrument(s) failed")?;
        Ok(ExitCode::from(EXIT_RIG_FAILED))
    }
}

async fn check(rig: &mut Rig) -> std::io::Result<usize> {
    let mut failures = 0;
    let today = chrono_today();
    for id in rig.identities() {
        let due = match (id.calibration_due, today) {
            (Some(d), Some(t)) if d < t => " — WARNING: calibration overdue".to_string(),
            _ => String::new(),
        };
        say!("ok   {id}{due}")?;
    }
    if let Some(s) = rig.source.as_mut() {
        match s.state().await {
            Ok(st) => say!("ok   source state: {st:?}")?,
            Err(e) => {
                failures += 1;
                say!("FAIL source: {e}")?;
            }
        }
    } else {
        say!("--   no controllable source: meters must be energised by hand")?;
    }
    // Meters of this kind are self-powered from their voltage circuit: with
    // a source on the rig, give them voltage only (no current) so they can
    // answer; it goes off again when the doctor is done.
    if rig.source.is_some()
        && let Some(first) = rig.positions.first()
    {
        let r = &first.profile.ratings;
        let point = LoadPoint::new(r.un, Amps(0.0), PowerFactor::UNITY, r.fn_default());
        if let Err(e) = rig.energise(point).await {
            failures += 1;
            say!("FAIL source: {e}")?;
        }
    }
    if let Some(r) = rig.reference.as_mut() {
        match r.measure().await {
            Ok(m) => say!(
                "ok   reference reads {:.3} V, {:.3} A, U = {} (k=2)",
                m.voltage.0,
                m.current.0,
                m.uncertainty
            )?,
            Err(e) => {
                failures += 1;
                say!("FAIL reference: {e}")?;
            }
        }
    }
    for p in &mut rig.positions {
        let name = p.name();
        match p.link.as_mut() {
            Some(link) => match link.identify().await {
                Ok(me) => say!(
                    "ok   {name}: {} answers — model {}, serial {}, firmware {}",
                    link.describe(),
                    me.model_id.as_deref().unwrap_or("?"),
                    me.serial_number.as_deref().unwrap_or("?"),
                    me.firmware.as_deref().unwrap_or("?")
                )?,
                Err(e) => {
                    failures += 1;
                    say!(
                        "FAIL {name}: {} — {e} (is the meter powered, address and line settings right?)",
                        link.describe()
                    )?;
                }
            },
            None => say!("--   {name}: no Modbus link (pulse outputs only)")?,
        }
        if let Some(pi) = &p.pulses {
            say!("ok   {name}: pulse channels {:?}", pi.channels())?;
        }
    }
    Ok(failures)
}

/// Every load point of the plan against the rig's source limits and the
/// meters' ratings, as the runner checks them before energising.
fn ranges(rig: &Rig, plan_file: &Path) -> std::io::Result<usize> {
    let suites = suites::all();
    let plan = match harness::run::load_plan(plan_file, &suites::ids()) {
        Ok(p) => p,
        Err(e) => {
            say!("FAIL plan: {e}")?;
            return Ok(1);
        }
    };
    let points = match harness::run::runner::plan_points(&plan, &suites, rig) {
        Ok(p) => p,
        Err(e) => {
            say!("FAIL plan {}: {e}", plan.name)?;
            return Ok(1);
        }
    };
    match harness::run::runner::check_points(&points, rig) {
        Ok(()) => {
            say!(
                "ok   plan {}: {} points, every load within the rig's and the meters' limits",
                plan.name,
                points.len()
            )?;
            Ok(0)
        }
        Err(e) => {
            say!("FAIL plan {}: {e}", plan.name)?;
            Ok(1)
        }
    }
}

fn chrono_today() -> Option<chrono::NaiveDate> {
    Some(chrono::Local::now().date_naive())
}
