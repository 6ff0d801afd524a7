//! Small pieces every suite uses: building a point, finding a position's
//! link.

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, Hertz, PhaseAngle, PowerFactor, Volts};
use harness::rig::Rig;
use harness::rig::meter_link::MeterLink;
use harness::rig::reference_model::ReferenceQuantity;
use harness::run::SuiteError;

pub fn load(u: Volts, i: Amps, pf: &str, f: Hertz) -> LoadPoint {
    LoadPoint::new(
        u,
        i,
        PowerFactor::parse(pf).unwrap_or(PowerFactor::UNITY),
        f,
    )
}

/// A load at a phase angle (for export and reactive quadrants).
pub fn load_at(u: Volts, i: Amps, phase_deg: f64, f: Hertz) -> LoadPoint {
    LoadPoint {
        voltage: u,
        current: i,
        phase: PhaseAngle(phase_deg),
        frequency: f,
    }
}

pub fn link(rig: &mut Rig, position: usize) -> Result<&mut Box<dyn MeterLink>, SuiteError> {
    rig.positions
        .get_mut(position)
        .and_then(|p| p.link.as_mut())
        .ok_or_else(|| SuiteError::Measure(format!("position {} has no Modbus link", position + 1)))
}

pub async fn read(
    rig: &mut Rig,
    position: usize,
    q: harness::profile::MeterQuantity,
) -> Result<f64, SuiteError> {
    Ok(link(rig, position)?
        .read(q)
        .await
        .map_err(SuiteError::from)?
        .canonical())
}

/// The energy register's step (Wh) at `position`: the resolution a register
/// reading is judged with; 10 Wh when the profile maps no such register.
pub fn register_step(rig: &Rig, position: usize) -> f64 {
    rig.positions[position]
        .profile
        .register(harness::profile::MeterQuantity::ActiveImportTotal)
        .map_or(10.0, |r| r.place.step())
}

/// Un and no current at `position`'s ratings: the meter stays powered (it is
/// self-powered) while nothing registers, so pulses still queued come out.
pub async fn energise_no_current(rig: &mut Rig, position: usize) -> Result<(), SuiteError> {
    let r = rig.positions[position].profile.ratings.clone();
    rig.energise(load(r.un, Amps(0.0), "1", r.fn_default()))
        .await?;
    Ok(())
}

/// Applies `load`, waits the plan's settling time, reads the reference
/// standard once (it must answer), and gives its expanded uncertainty for
/// `quantity` at the load's phase angle (percent, k = 2): the start of every
/// point judged against the reference.
///
/// The figure is the rig's reference model (`[metrology.reference]`, or the
/// model its two `[reference]` figures imply), the one the plan was sized
/// with — not the reading's single figure chosen by |cos φ|, which a phase
/// error makes wrong for reactive energy and for PF 0.8 (issue 15, item 3).
pub async fn settle_with_reference(
    rig: &mut Rig,
    settle: std::time::Duration,
    load: LoadPoint,
    quantity: ReferenceQuantity,
) -> Result<f64, SuiteError> {
    rig.energise(load).await?;
    rig.dwell(settle).await;
    match rig.reference.as_mut() {
        Some(r) => {
            r.measure().await?;
            Ok(rig
                .config
                .reference_model()
                .expanded(quantity, load.phase.0))
        }
        None => Err(SuiteError::Measure(
            "this rig has no reference standard".into(),
        )),
    }
}

/// The U a point whose duration the plan fixes is expected to reach, for
/// the dry-run's U/limit column and the record (issue 20): the reference's
/// expanded U and rectangular half-widths (`resolution_pct`, each ±½ step or
/// ±1 count as a share of the value) as the point's budget combines them.
/// Flagged when it misses the plan's target; type A is what the
/// repetitions find and is not part of it.
pub fn expected_u(
    ctx: &harness::run::PlanContext<'_>,
    row: crate::limits::Row,
    method: String,
    reference_u_pct: f64,
    resolution_pct: &[f64],
) -> harness::run::PlannedU {
    use harness::run::planner::{Counting, Planner};
    let limit_pct = ctx
        .plan
        .override_for(row.table, row.id)
        .map_or(row.limit_pct, |o| o.limit_pct);
    // Quanta as shares of one unit of "energy": `u_after(c, 100)` gives back
    // half-widths in percent.
    let c = Counting {
        method,
        limit_pct,
        fixed_u_pct: reference_u_pct,
        quanta: resolution_pct.to_vec(),
        power: 0.0,
        overhead: std::time::Duration::ZERO,
        min_dwell: std::time::Duration::ZERO,
    };
    let expected = Planner::u_after(&c, 100.0);
    let target = ctx.planner().target_u(limit_pct);
    harness::run::PlannedU {
        expected_u_pct: expected,
        limit_pct,
        target_u_pct: target,
        flagged: (expected > target * (1.0 + 1e-6)).then(|| {
            format!("U {expected:.3} % misses the target {target:.3} % at the plan's settings")
        }),
        method: c.method,
    }
}
