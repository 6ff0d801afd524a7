//! The session: its start (idle voltage, meters identified, preconditions,
//! settings saved, the run announced, the warm-up) and its one ending for
//! every path (source off, meters' settings put back, source off again, the
//! run closed with its status).

use super::events::{FileRef, MeterInfo, RestoreOutcome, RunEvent, RunHeader, RunStatus};
use super::request::{RunError, RunRequest};
use super::restore::{SettingsSnapshot, restore, snapshot};
use super::suite::PointSpec;
use crate::load_point::LoadPoint;
use crate::profile::MeterQuantity;
use crate::quantity::{Amps, PowerFactor};
use crate::rig::{Rig, RigError};

/// The voltage the meters need to answer (they are self-powered), with no current.
fn idle_point(rig: &Rig) -> Option<LoadPoint> {
    rig.positions.first().map(|p| {
        let r = &p.profile.ratings;
        LoadPoint::new(r.un, Amps(0.0), PowerFactor::UNITY, r.fn_default())
    })
}

fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Idle voltage, meters identified, preconditions checked, settings saved,
/// the run announced, the warm-up done.
pub(crate) async fn start(
    req: &RunRequest<'_>,
    rig: &mut Rig,
    points: &[PointSpec],
    snapshots: &mut Vec<(usize, Option<SettingsSnapshot>)>,
    emit: &mut (dyn FnMut(RunEvent) + Send),
) -> Result<(), RunError> {
    // Issue 19: a plan that refuses or waits for its reference conditions
    // needs a sensor to judge them by; refused before anything is energised.
    if let Some(c) = &req.plan.conditions
        && c.on_out_of_range != model::lab::OnOutOfRange::Flag
        && rig.climate.is_none()
    {
        return Err(RunError::Plan(format!(
            "[conditions] on_out_of_range = \"{}\" needs a climate sensor, and the rig file {} declares no [climate]",
            c.on_out_of_range.as_str(),
            rig.config.file.display()
        )));
    }
    if let Some(idle) = idle_point(rig)
        && rig.source.is_some()
    {
        rig.energise(idle).await?;
        rig.dwell(req.plan.settle).await;
    }
    let mut meters = Vec::new();
    for pos in rig.positions.iter_mut() {
        let mut said = None;
        let mut snap = None;
        if let Some(link) = pos.link.as_mut() {
            let me = link.identify().await.map_err(|e| RigError::Link {
                instrument: pos_name(pos.index, &pos.profile.id),
                source: e,
            })?;
            if let Some(want) = &req.plan.preconditions.firmware {
                let got = me.firmware.clone().unwrap_or_default();
                if got.trim() != want.trim() {
                    return Err(RunError::Precondition(format!(
                        "{} reports firmware {got:?}, the plan requires {want:?}",
                        pos_name(pos.index, &pos.profile.id)
                    )));
                }
            }
            said = Some(me);
            snap = Some(
                snapshot(link.as_mut())
                    .await
                    .map_err(|m| RigError::instrument(pos_name(pos.index, &pos.profile.id), m))?,
            );
        } else if req.plan.preconditions.firmware.is_some()
            && pos
                .profile
                .register(MeterQuantity::FirmwareVersion)
                .is_none()
        {
            return Err(RunError::Precondition(format!(
                "{} cannot report its firmware (no Modbus link)",
                pos_name(pos.index, &pos.profile.id)
            )));
        }
        snapshots.push((pos.index, snap));
        meters.push(MeterInfo {
            position: pos.index,
            profile_id: pos.profile.id.clone(),
            maker: pos.profile.maker.clone(),
            model: pos.profile.model.clone(),
            profile: FileRef::of(&pos.profile.file),
            map_status: format!("{:?}", pos.profile.status).to_lowercase(),
            said,
        });
    }
    // Issue 15: an instrument past its calibration date stops the run unless the plan says why.
    let calibration = crate::measure::calibration::check(
        &rig.identities(),
        chrono::Utc::now().date_naive(),
        req.plan.preconditions.calibration_overdue.as_deref(),
    )
    .map_err(RunError::Precondition)?;
    // Issue 15: the floor under type A, studied or assumed, said in the record.
    let floor = crate::rig::reference_model::floor_precondition(
        rig.config.metrology.reproducibility.as_ref(),
        rig.config.kind == crate::rig::RigKind::Lab,
        req.plan.kind == super::plan::PlanKind::TypeTest,
        req.plan.preconditions.floor_unstudied.as_deref(),
    )
    .map_err(RunError::Precondition)?;
    emit(RunEvent::RunStarted(Box::new(RunHeader {
        run_id: req.run_id.clone(),
        started_at: now_utc(),
        plan_name: req.plan.name.clone(),
        plan: FileRef::of(&req.plan.file),
        rig: FileRef::of(&rig.config.file),
        rig_name: rig.config.name.clone(),
        simulated: rig.is_simulated(),
        seed: rig.config.seed,
        decision_rule: req.plan.decision_rule,
        decision_rule_text: req.plan.decision_rule.describe().into(),
        meters,
        instruments: rig.identities(),
        points: points.to_vec(),
        resumed: req.resume.is_some() || req.only.is_some(),
        metrig_version: env!("CARGO_PKG_VERSION").into(),
        lab: req.plan.report.lab.clone(),
        facts: Some(req.plan.report.facts.clone())
            .filter(|f| *f != model::lab::RunFacts::default()),
        certificates: rig.config.reference.certificate.iter().cloned().collect(),
        reference_conditions: req.plan.conditions.clone(),
        standards: req.plan.report.standards.clone(),
    })));
    if let Some((text, studied)) = floor {
        emit(RunEvent::Finding {
            finding: super::events::Finding {
                key: None,
                severity: if studied {
                    super::events::Severity::Info
                } else {
                    super::events::Severity::Warning
                },
                text,
            },
        });
    }
    if let Some(text) = calibration {
        emit(RunEvent::Finding {
            finding: super::events::Finding {
                key: None,
                severity: super::events::Severity::Warning,
                text,
            },
        });
    }
    if !req.plan.warm_up.is_zero()
        && let Some(first) = rig.positions.first()
    {
        let r = &first.profile.ratings;
        let warm = LoadPoint::new(r.un, r.iref, PowerFactor::UNITY, r.fn_default());
        rig.energise(warm).await?;
        rig.dwell(req.plan.warm_up).await;
    }
    Ok(())
}

fn pos_name(index: usize, id: &str) -> String {
    format!("position {} ({id})", index + 1)
}

/// How the run's body ended: fine, or stopped with why and whether the rig
/// (not a request) stopped it.
pub(crate) type BodyEnd = Result<(), (String, bool)>;

/// The same ending for every path: source off, the meters' settings put
/// back (under idle voltage only: they are self-powered), source off again,
/// and the run closed with its status. Returns the status, its message, and
/// why the rig failed if it did.
pub(crate) async fn finish(
    rig: &mut Rig,
    snapshots: &[(usize, Option<SettingsSnapshot>)],
    body: BodyEnd,
    emit: &mut (dyn FnMut(RunEvent) + Send),
) -> (RunStatus, String, Option<String>) {
    let off = rig.off().await;
    let mut restore_outcomes = Vec::new();
    // The meters are self-powered: restoring their settings needs voltage,
    // and nothing more (no current).
    let idle = if off.is_ok() && snapshots.iter().any(|(_, s)| s.is_some()) {
        idle_point(rig)
    } else {
        None
    };
    let powered = match idle {
        Some(p) => rig.energise(p).await.map_err(|e| e.to_string()),
        None => Err("the source did not switch off".to_string()),
    };
    for (index, snap) in snapshots {
        let Some(snap) = snap else { continue };
        let Some(link) = rig.positions.get_mut(*index).and_then(|p| p.link.as_mut()) else {
            continue;
        };
        if let Err(why) = &powered {
            restore_outcomes.push(RestoreOutcome {
                position: *index,
                restored: false,
                message: format!("not restored: {why}"),
            });
            continue;
        }
        let r = match restore(link.as_mut(), snap).await {
            Ok(m) => RestoreOutcome {
                position: *index,
                restored: true,
                message: m,
            },
            Err(m) => RestoreOutcome {
                position: *index,
                restored: false,
                message: m,
            },
        };
        restore_outcomes.push(r);
    }
    let off_again = rig.off().await;
    let (status, message, rig_failed) = match (&body, off.and(off_again)) {
        (Ok(()), Ok(())) => (RunStatus::Completed, "completed".to_string(), None),
        (Ok(()), Err(e)) => (
            RunStatus::Interrupted,
            format!("source did not switch off: {e}"),
            Some(e.to_string()),
        ),
        (Err((m, rig_fault)), _) => (
            RunStatus::Interrupted,
            m.clone(),
            rig_fault.then(|| m.clone()),
        ),
    };
    emit(RunEvent::RunFinished {
        status,
        message: message.clone(),
        restore: restore_outcomes,
        finished_at: now_utc(),
    });
    (status, message, rig_failed)
}
