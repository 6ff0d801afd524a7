//! `metrig doctor`: does each instrument answer, and what is it?

use std::path::Path;
use std::process::ExitCode;

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, PowerFactor};
use harness::rig::Rig;
use harness::station::load_rig;

use super::{EXIT_OK, EXIT_RIG_FAILED};

/// The doctor's findings: printed as they come, or with `--json` kept for
/// one object at the end.
struct Screen {
    json: bool,
    checks: Vec<serde_json::Value>,
}

impl Screen {
    /// One finding: `status` is "ok", "FAIL" or "--" (nothing to check).
    fn say(&mut self, status: &str, text: String) -> std::io::Result<()> {
        if self.json {
            let status = if status == "--" { "none" } else { status };
            self.checks
                .push(serde_json::json!({ "status": status.to_lowercase(), "text": text }));
            Ok(())
        } else {
            say!("{status:<4} {text}")
        }
    }
}

pub async fn run(
    rig_file: &Path,
    plan_file: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let config = load_rig(rig_file)?;
    let rig_line = format!(
        "{} ({} rig, {})",
        config.config.name,
        config.config.kind,
        rig_file.display()
    );
    if !json {
        say!("rig: {rig_line}")?;
    }
    let mut screen = Screen {
        json,
        checks: Vec::new(),
    };
    let mut rig = Rig::open(config).await?;
    let mut failures = check(&mut rig, &mut screen).await;
    if let (Some(plan_file), Ok(n)) = (plan_file, failures.as_ref()) {
        let n = *n;
        failures = ranges(&rig, plan_file, &mut screen).map(|bad| n + bad);
    }
    let off = rig.off().await;
    let failures = failures?;
    let (code, last) = match off {
        Err(e) => {
            screen.say("FAIL", format!("source off: {e}"))?;
            (EXIT_RIG_FAILED, "the source did not switch off".to_string())
        }
        Ok(()) if failures == 0 => (EXIT_OK, "all instruments answer".to_string()),
        Ok(()) => (EXIT_RIG_FAILED, format!("{failures} instrument(s) failed")),
    };
    if json {
        say!(
            "{}",
            serde_json::json!({
                "rig": rig_line,
                "checks": screen.checks,
                "failures": failures,
                "verdict": last,
            })
        )?;
    } else {
        say!("{last}")?;
    }
    Ok(ExitCode::from(code))
}

async fn check(rig: &mut Rig, screen: &mut Screen) -> std::io::Result<usize> {
    let mut failures = 0;
    let today = chrono_today();
    for id in rig.identities() {
        let due = match (id.calibration_due, today) {
            (Some(d), Some(t)) if d < t => " — WARNING: calibration overdue".to_string(),
            _ => String::new(),
        };
        screen.say("ok", format!("{id}{due}"))?;
    }
    if let Some(s) = rig.source.as_mut() {
        match s.state().await {
            Ok(st) => screen.say("ok", format!("source state: {st}"))?,
            Err(e) => {
                failures += 1;
                screen.say("FAIL", format!("source: {e}"))?;
            }
        }
    } else {
        screen.say(
            "--",
            "no controllable source: meters must be energised by hand".into(),
        )?;
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
            screen.say("FAIL", format!("source: {e}"))?;
        }
    }
    if let Some(r) = rig.reference.as_mut() {
        match r.measure().await {
            Ok(m) => screen.say(
                "ok",
                format!(
                    "reference reads {:.3} V, {:.3} A, U = {} (k=2)",
                    m.voltage.0, m.current.0, m.uncertainty
                ),
            )?,
            Err(e) => {
                failures += 1;
                screen.say("FAIL", format!("reference: {e}"))?;
            }
        }
    }
    for p in &mut rig.positions {
        let name = p.name();
        match p.link.as_mut() {
            Some(link) => match link.identify().await {
                Ok(me) => screen.say(
                    "ok",
                    format!(
                        "{name}: {} answers — model {}, serial {}, firmware {}",
                        link.describe(),
                        me.model_id.as_deref().unwrap_or("?"),
                        me.serial_number.as_deref().unwrap_or("?"),
                        me.firmware.as_deref().unwrap_or("?")
                    ),
                )?,
                Err(e) => {
                    failures += 1;
                    screen.say("FAIL", format!(
                        "{name}: {} — {e} (is the meter powered, address and line settings right?)",
                        link.describe()
                    ))?;
                }
            },
            None => screen.say("--", format!("{name}: no Modbus link (pulse outputs only)"))?,
        }
        if let Some(pi) = &p.pulses {
            screen.say(
                "ok",
                format!(
                    "{name}: pulse channels {}",
                    pi.channels()
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )?;
        }
    }
    Ok(failures)
}

/// Every load point of the plan against the rig's source limits and the
/// meters' ratings, as the runner checks them before energising.
fn ranges(rig: &Rig, plan_file: &Path, screen: &mut Screen) -> std::io::Result<usize> {
    let suites = suites::all();
    let plan = match harness::run::load_plan(plan_file, &suites::catalogue()) {
        Ok(p) => p,
        Err(e) => {
            screen.say("FAIL", format!("plan: {e}"))?;
            return Ok(1);
        }
    };
    let points = match harness::run::runner::plan_points(&plan, &suites, rig) {
        Ok(p) => p,
        Err(e) => {
            screen.say("FAIL", format!("plan {}: {e}", plan.name))?;
            return Ok(1);
        }
    };
    match harness::run::runner::check_points(&points, rig) {
        Ok(()) => {
            screen.say(
                "ok",
                format!(
                    "plan {}: {} points, every load within the rig's and the meters' limits",
                    plan.name,
                    points.len()
                ),
            )?;
            Ok(0)
        }
        Err(e) => {
            screen.say("FAIL", format!("plan {}: {e}", plan.name))?;
            Ok(1)
        }
    }
}

fn chrono_today() -> Option<chrono::NaiveDate> {
    Some(chrono::Local::now().date_naive())
}
