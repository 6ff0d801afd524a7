//! `accuracy-reactive` — IEC 62053-23 class 2 reactive energy, in all four
//! quadrants: sin φ 1, 0.5 (L and C) and 0.25 (L and C) on import, and
//! sin φ 0.5 on export (quadrants II and III).
//!
//! The 4 120 83 has no reactive test output, so the error is taken by the
//! register method on its quadrant registers (0.01 kvarh), or on the
//! import/export register where that is the finer or only one. The rig-time
//! planner (`harness::run::planner`, issue 20) sizes each dwell so that the
//! register's ±1 step and the reference meet the plan's target TUR (limit ÷
//! U, default 3) and no more, measured once: repeating a dial test whose U is
//! its resolution repeats the same quantisation. A low-current point that
//! would need more than `[plan] max_point_hours` is planned at that limit and
//! flagged with the U it reaches. A plan may still fix `resolution_pct` (one
//! step as that share of the energy, every repetition): the old sizing.
//!
//! Where the profile declares a finer register of the counter
//! (`high_resolution`) or a test mode that shows one (`[test_mode]`), the
//! planner weighs dials on it too and takes the one that meets the target in
//! the least rig time (issue 20); a test-mode dial must end before the mode
//! does. The choice is in the point's title and its planned method.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::measure::{
    DialRegister, EnergyKind, dial_place, register_dial, register_dial_on_steps,
};
use harness::profile::MeterProfile;
use harness::profile::MeterQuantity as Q;
use harness::rig::reference_model::ReferenceQuantity;
use harness::run::planner::{Counting, Planner};
use harness::run::{Measured, Param, PlanContext, PlannedU, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::Component;
use harness::stats::type_a::TypeA;
use serde::{Deserialize, Serialize};

use crate::common::load_at;
use crate::limits::{Row, reactive};

#[derive(Debug, Default)]
pub struct AccuracyReactive;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    register: Q,
    dwell_s: f64,
    /// Dial tests to make: one where the planner found U dominated by the
    /// register's resolution; absent: the plan's repetitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repetitions: Option<u32>,
    /// The dial started and stopped on the register's steps, this many of
    /// them (`measure::register_dial_on_steps`); absent: the plain dial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on_steps: Option<u32>,
    /// Which register of the counter the dial reads (absent: its own).
    #[serde(default, skip_serializing_if = "DialRegister::is_normal")]
    via: DialRegister,
}

/// One way to measure a point: the register, which of its registers, the
/// step a flown dial starts and stops on (none: the plain dial), its
/// counting model, and the longest dwell it allows (a test mode's time).
type DialOption = (Q, DialRegister, Option<f64>, Counting, Option<Duration>);

/// The ways a counter can be read, those the profile declares.
const VIAS: [DialRegister; 3] = [
    DialRegister::Normal,
    DialRegister::HighResolution,
    DialRegister::TestMode,
];

/// How often the flying dial polls the register: a Modbus read takes tens of
/// milliseconds, so a second is within any link's reach.
const POLL: Duration = Duration::from_secs(1);

/// The registers that count a load's reactive energy: the quadrant's, then
/// the import / export one by the sign of Q, those the profile has.
fn registers_for(profile: &harness::profile::MeterProfile, phase_deg: f64) -> Vec<Q> {
    let phi = phase_deg.rem_euclid(360.0);
    let by_sign = if phi.to_radians().sin() > 0.0 {
        Q::ReactiveImportTotal
    } else {
        Q::ReactiveExportTotal
    };
    let mut out: Vec<Q> = register_for(profile, phase_deg).into_iter().collect();
    if !out.contains(&by_sign) && profile.register(by_sign).is_some() {
        out.push(by_sign);
    }
    out
}

/// The register that counts a load's reactive energy.
fn register_for(profile: &harness::profile::MeterProfile, phase_deg: f64) -> Option<Q> {
    let phi = phase_deg.rem_euclid(360.0);
    let quadrant = if phi < 90.0 + 1e-9 {
        Q::ReactiveQ1Total
    } else if phi < 180.0 {
        Q::ReactiveQ2Total
    } else if phi < 270.0 {
        Q::ReactiveQ3Total
    } else {
        Q::ReactiveQ4Total
    };
    if profile.register(quadrant).is_some() {
        return Some(quadrant);
    }
    let q_positive = phi.to_radians().sin() > 0.0;
    let by_sign = if q_positive {
        Q::ReactiveImportTotal
    } else {
        Q::ReactiveExportTotal
    };
    profile.register(by_sign).map(|_| by_sign)
}

/// `resolution_pct`: a fixed register resolution per point instead of the
/// planner's sizing.
const RESOLUTION: Param = Param::number("resolution_pct", 0.001, 1.0, "%");

impl Declares for AccuracyReactive {
    const TITLE: &'static str = "Reactive energy accuracy, IEC 62053-23 class 2, four quadrants";
    const PARAMS: &'static [Param] = &[RESOLUTION];
    type Params = Params;

    /// Any order: each point sets its own load and starts its dial on the register's own steps: none needs what another left (issue 20).
    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let fixed = match ctx.params.get(RESOLUTION.key) {
            Some(_) => Some(ctx.number_of(&RESOLUTION, 0.1)?),
            None => None,
        };
        let planner = ctx.planner();
        let mut out = Vec::new();
        let r = &profile.ratings;
        let ib = r.iref;
        // (id, sin φ label, phase angle, current, row)
        let mut rows: Vec<(String, f64, harness::quantity::Amps, Row)> = Vec::new();
        for (name, k, row) in [
            ("0.05ib", 0.05, reactive::LOW_SIN1),
            ("0.1ib", 0.1, reactive::SIN1),
            ("ib", 1.0, reactive::SIN1),
        ] {
            rows.push((format!("q1-sin1-{name}"), 90.0, ib * k, row));
        }
        rows.push(("q1-sin1-imax".into(), 90.0, r.imax, reactive::SIN1));
        for (lag, phi) in [("L", 30.0), ("C", 330.0)] {
            let q = if lag == "L" { "q1" } else { "q4" };
            for (name, k, row) in [
                ("0.1ib", 0.1, reactive::LOW_SIN05),
                ("0.2ib", 0.2, reactive::SIN05),
                ("ib", 1.0, reactive::SIN05),
            ] {
                rows.push((format!("{q}-sin0.5{lag}-{name}"), phi, ib * k, row));
            }
            rows.push((
                format!("{q}-sin0.5{lag}-imax"),
                phi,
                r.imax,
                reactive::SIN05,
            ));
            let phi25 = if lag == "L" {
                0.25f64.asin().to_degrees()
            } else {
                360.0 - 0.25f64.asin().to_degrees()
            };
            for (name, k) in [("0.2ib", 0.2), ("ib", 1.0)] {
                rows.push((
                    format!("{q}-sin0.25{lag}-{name}"),
                    phi25,
                    ib * k,
                    reactive::SIN025,
                ));
            }
            rows.push((
                format!("{q}-sin0.25{lag}-imax"),
                phi25,
                r.imax,
                reactive::SIN025,
            ));
        }
        rows.push(("q2-sin0.5-ib".into(), 150.0, ib, reactive::SIN05));
        rows.push(("q3-sin0.5-ib".into(), 210.0, ib, reactive::SIN05));
        for (id, phi, i, row) in rows {
            let load = load_at(r.un, i, phi, r.fn_default());
            let registers = registers_for(profile, phi);
            if registers.is_empty() {
                continue;
            }
            let limit = Limit::of(row);
            let limit_pct = ctx
                .plan
                .override_for(row.table, row.id)
                .map_or(row.limit_pct, |o| o.limit_pct);
            let power = load.reactive_power().0.abs();
            // Two ways to read each register: the plain dial (±1 step) and
            // the dial flown on the register's steps (±1 poll's energy); on
            // each register of the counter the profile declares.
            let mut options: Vec<DialOption> = Vec::new();
            let rollover = profile.ratings.energy_rollover_wh;
            let reference_u = ctx.reference_u(ReferenceQuantity::ReactiveEnergy, phi);
            for &reg in &registers {
                for via in VIAS {
                    let Some(place) = dial_place(profile, reg, via) else {
                        continue;
                    };
                    let step = place.step_planned(rollover);
                    let step_time = Duration::from_secs_f64(step / power * 3600.0);
                    let on = match via {
                        DialRegister::Normal => String::new(),
                        other => format!(" ({})", other.describe()),
                    };
                    // A test mode ends by itself: its dial must end first (a
                    // minute's margin for the writes that enter and leave it).
                    let max_dwell = match via {
                        DialRegister::TestMode => profile
                            .test_mode
                            .as_ref()
                            .map(|t| t.lasts.saturating_sub(Duration::from_secs(60))),
                        _ => None,
                    };
                    options.push((
                        reg,
                        via,
                        None,
                        Counting {
                            method: format!(
                                "register method on {reg}{on}, {} varh step",
                                harness::quantity::trim_float(step)
                            ),
                            limit_pct,
                            fixed_u_pct: reference_u,
                            quanta: vec![step],
                            power,
                            overhead: ctx.plan.settle,
                            min_dwell: Duration::from_secs(1),
                        },
                        max_dwell,
                    ));
                    options.push((
                        reg,
                        via,
                        Some(step),
                        Counting {
                            method: format!(
                                "register method on {reg}{on} started and stopped on its {} varh steps, polled every {} s",
                                harness::quantity::trim_float(step),
                                POLL.as_secs()
                            ),
                            limit_pct,
                            fixed_u_pct: reference_u,
                            quanta: vec![power * POLL.as_secs_f64() / 3600.0],
                            power,
                            // Settling, and up to one step's wait for the first step.
                            overhead: ctx.plan.settle + step_time + POLL,
                            min_dwell: step_time,
                        },
                        // The wait for the first step is in the mode too.
                        max_dwell.map(|m| m.saturating_sub(step_time + POLL)),
                    ));
                }
            }
            let (register, via, dwell_s, extra, repetitions, on_steps, planned_u) = match fixed {
                Some(resolution) => {
                    // The plan fixed the resolution: the old sizing, every repetition.
                    let (reg, _, _, c, _) = &options[0];
                    let energy = c.quanta[0] / (resolution / 100.0);
                    let dwell_s = energy / power * 3600.0;
                    let u = Planner::u_after(c, energy);
                    let target = planner.target_u(limit_pct);
                    let planned = PlannedU {
                        expected_u_pct: u,
                        limit_pct,
                        target_u_pct: target,
                        method: c.method.clone(),
                        flagged: (u > target * (1.0 + 1e-6)).then(|| {
                            format!("resolution_pct = {resolution} fixed by the plan: U {u:.3} %")
                        }),
                    };
                    (
                        *reg,
                        DialRegister::Normal,
                        dwell_s,
                        Duration::ZERO,
                        None,
                        None,
                        planned,
                    )
                }
                None => {
                    let counting: Vec<(Counting, Option<Duration>)> =
                        options.iter().map(|o| (o.3.clone(), o.4)).collect();
                    let Some((k, mut s)) = planner.cheapest_within(&counting) else {
                        continue;
                    };
                    let (reg, via, on_step, c, max_dwell) = &options[k];
                    let mut steps = None;
                    if let Some(step) = on_step {
                        // Whole steps: the dial ends on one.
                        let mut n = (power * s.dwell.as_secs_f64() / 3600.0 / step - 1e-9)
                            .ceil()
                            .max(1.0);
                        // Whole steps within the test mode's time, where there is one.
                        if let Some(m) = max_dwell {
                            let fit = (power * m.as_secs_f64() / 3600.0 / step).floor().max(1.0);
                            n = n.min(fit);
                        }
                        let dwell = Duration::from_secs_f64(n * step / power * 3600.0);
                        s.dwell = dwell;
                        planner.restate(&mut s, dwell + c.overhead, Planner::u_after(c, n * step));
                        steps = Some(n as u32);
                    }
                    let reps = s.repetitions(ctx.repetitions);
                    let extra = c.overhead.saturating_sub(ctx.plan.settle);
                    (
                        *reg,
                        *via,
                        s.dwell.as_secs_f64(),
                        extra,
                        Some(reps),
                        steps,
                        s.planned,
                    )
                }
            };
            let reps = repetitions.unwrap_or(ctx.repetitions).max(1);
            // Each dial: its dwell, and for a flown dial the wait for its first step.
            let rig_time = ctx.plan.settle
                + Duration::from_secs_f64((dwell_s + extra.as_secs_f64()) * reps as f64);
            let title = match via {
                DialRegister::Normal => format!("{} A at {phi:.1}° ({register})", i.0),
                other => format!("{} A at {phi:.1}° ({register}, {})", i.0, other.describe()),
            };
            out.push(
                Planned::new(
                    id,
                    title,
                    vec![load],
                    rig_time,
                    Params {
                        load,
                        register,
                        dwell_s,
                        repetitions,
                        on_steps,
                        via,
                    },
                )
                .judged_by(limit)
                .sized(planned_u),
            );
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let reference_u = crate::common::settle_with_reference(
            rig,
            io.settle,
            p.load,
            ReferenceQuantity::ReactiveEnergy,
        )
        .await?;
        let mut errors = Vec::new();
        let mut resolution: f64 = 0.0;
        for _ in 0..p.repetitions.unwrap_or(io.repetitions).max(1) {
            let dial = match p.on_steps {
                Some(steps) => {
                    register_dial_on_steps(
                        rig,
                        point.position,
                        p.register,
                        EnergyKind::Reactive,
                        steps,
                        POLL,
                        Duration::from_secs_f64(p.dwell_s),
                        p.via,
                    )
                    .await
                }
                None => {
                    register_dial(
                        rig,
                        point.position,
                        p.register,
                        EnergyKind::Reactive,
                        Duration::from_secs_f64(p.dwell_s),
                        p.via,
                    )
                    .await
                }
            };
            let d = dial.map_err(|e| match e {
                harness::measure::DialError::Rig(r) => SuiteError::Rig(r),
                harness::measure::DialError::Link(l) => SuiteError::Link(l),
            })?;
            let at = rig.now();
            io.sample_of(at, d.error_pct, "%", &d)?;
            resolution = resolution.max(d.resolution_pct);
            errors.push(d.error_pct);
        }
        // Dials follow one another at one set-up: their scatter cannot show
        // the set-up's reproducibility, so the rig's studied floor bounds
        // type A from below, and correlated dials count as fewer (issue 15).
        let type_a = TypeA::of(&errors, rig.config.reproducibility());
        let b = type_a.budget(
            vec![
                Component::from_expanded(
                    "reference standard (certificate, k = 2)",
                    reference_u,
                    2.0,
                ),
                Component::rectangular("register resolution (±1 step)", resolution),
            ],
            None,
        );
        Ok(Measured::figure(
            b,
            serde_json::json!({
                "current_a": p.load.current.0,
                "sin_phi": harness::quantity::PowerFactor::sin_of(p.load.phase).notation(),
                "phase_deg": p.load.phase.0,
                "register": p.register,
                "dwell_s": p.dwell_s,
                "type_a": type_a,
                "method": match p.via {
                    DialRegister::Normal => "register method (dial test) on the quadrant register".to_string(),
                    other => format!("register method (dial test) on the quadrant register's counter, read on {}", other.describe()),
                },
            }),
            move |b, limit| {
                format!(
                    "reactive error {:+.3} % ± {:.3} % on {} against ±{limit} %",
                    b.mean_pct, b.expanded_pct, p.register
                )
            },
        ))
    }
}
