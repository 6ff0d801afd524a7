//! `starting-current` — at Ist, PF 1, Un the meter starts (a first LED
//! pulse within 1.5 T of the theoretical period T = 3.6·10⁶/(k·m·Un·Ist))
//! and keeps registering (three more pulses, each within ±10 % of T); and
//! the reactive registers advance at the reactive starting current 0.005 Ib
//! (IEC 62053-23, R). The record holds the expected and measured periods.
//! The reactive register is watched on the finest register of the counter
//! the profile declares (a `high_resolution` register, or the test mode's
//! within its time: issue 20), so the wait for one step is shortest.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::measure::{DialRegister, EnergyKind, dial_place, register_dial};
use harness::profile::MeterProfile;
use harness::profile::MeterQuantity as Q;
use harness::rig::pulse_input::PulseChannel;
use harness::run::{Measured, Param, PlanContext, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::{load, load_at, read};
use crate::limits::pulses;
use crate::tolerance::{override_note, tolerance};

#[derive(Debug, Default)]
pub struct StartingCurrent;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    reactive: bool,
    period_s: f64,
    factor: f64,
    tolerance_pct: f64,
    /// The plan's reason, when `[[overrides]]` replaced the period tolerance.
    #[serde(default)]
    period_override: Option<String>,
    /// Which register of the reactive counter is watched (absent: its own).
    #[serde(default, skip_serializing_if = "DialRegister::is_normal")]
    via: DialRegister,
}

/// `first_pulse_factor`: how late the first pulse may come, bounded by
/// its table row (a wider one goes through `[[overrides]]`).
pub const FIRST_PULSE_FACTOR: Param =
    Param::number("first_pulse_factor", 1.0, 10.0, "× the expected period")
        .bounded_by(pulses::START_FACTOR.table, pulses::START_FACTOR.id);

/// `period_tolerance_pct`: how far the pulse period may stray, bounded by
/// its table row.
pub const PERIOD_TOLERANCE: Param = Param::number("period_tolerance_pct", 0.1, 100.0, "%")
    .bounded_by(pulses::START_PERIOD.table, pulses::START_PERIOD.id);

impl Declares for StartingCurrent {
    const TITLE: &'static str = "Starting current: the meter starts at Ist and keeps registering";
    const PARAMS: &'static [Param] = &[FIRST_PULSE_FACTOR, PERIOD_TOLERANCE];
    type Params = Params;

    /// Any order: each point sets its own load and counts from its own start: none needs what another left (issue 20).
    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        // Both widen a verdict when raised: within the standard's figure
        // unless `[[overrides]]` says why (suites/src/tolerance.rs).
        let factor = tolerance(ctx, &FIRST_PULSE_FACTOR, &pulses::START_FACTOR, 1.0)?;
        let tolerance_pct = tolerance(ctx, &PERIOD_TOLERANCE, &pulses::START_PERIOD, 0.1)?;
        let period_override = override_note(ctx, &pulses::START_PERIOD);
        let mut out = Vec::new();
        let r = &profile.ratings;
        let l = load(r.un, r.ist, "1", r.fn_default());
        let k = profile.pulse.led_constant.0;
        let period_s = 3.6e6 / (k * f64::from(r.elements) * r.un.0 * r.ist.0);
        let row = pulses::START_FACTOR;
        let lim = Limit::of(row).at(factor);
        out.push(
            Planned::new(
                "active",
                format!("Ist {} A, PF 1: T = {period_s:.0} s", r.ist.0),
                vec![l],
                Duration::from_secs_f64(period_s * (factor + 3.3)),
                Params {
                    load: l,
                    reactive: false,
                    period_s,
                    factor,
                    tolerance_pct,
                    period_override: period_override.clone(),
                    via: DialRegister::Normal,
                },
            )
            .judged_by(lim),
        );
        if profile
            .register(Q::ReactiveQ1Total)
            .or(profile.register(Q::ReactiveImportTotal))
            .is_some()
        {
            let lr = load_at(r.un, r.iref * 0.005, 90.0, r.fn_default());
            let q = if profile.register(Q::ReactiveQ1Total).is_some() {
                Q::ReactiveQ1Total
            } else {
                Q::ReactiveImportTotal
            };
            let power = lr.reactive_power().0;
            // The finest register whose wait fits: a test mode's only
            // within its time (a minute's margin for entering and leaving).
            let (via, step) = [
                DialRegister::Normal,
                DialRegister::HighResolution,
                DialRegister::TestMode,
            ]
            .into_iter()
            .filter_map(|via| {
                let step = dial_place(profile, q, via)?.step_planned(r.energy_rollover_wh);
                let wait = Duration::from_secs_f64(step / power * 3600.0 * factor);
                let fits = via != DialRegister::TestMode
                    || profile
                        .test_mode
                        .as_ref()
                        .is_some_and(|t| wait + Duration::from_secs(60) <= t.lasts);
                fits.then_some((via, step))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((DialRegister::Normal, 10.0));
            let period_s = step / power * 3600.0;
            let title = match via {
                DialRegister::Normal => {
                    format!("0.005 Ib, sin φ 1: one register step every {period_s:.0} s")
                }
                other => format!(
                    "0.005 Ib, sin φ 1: one step of {} every {period_s:.0} s",
                    other.describe()
                ),
            };
            out.push(Planned::new(
                "reactive",
                title,
                vec![lr],
                Duration::from_secs_f64(period_s * (factor + 1.0)),
                Params {
                    load: lr,
                    reactive: true,
                    period_s,
                    factor,
                    tolerance_pct,
                    period_override: period_override.clone(),
                    via,
                },
            ));
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let pos = point.position;
        if p.reactive {
            let q = if rig.positions[pos]
                .profile
                .register(Q::ReactiveQ1Total)
                .is_some()
            {
                Q::ReactiveQ1Total
            } else {
                Q::ReactiveImportTotal
            };
            rig.energise(p.load).await?;
            let dwell = Duration::from_secs_f64(p.period_s * p.factor);
            let (before, after) = if p.via.is_normal() {
                let before = read(rig, pos, q).await?;
                rig.dwell(dwell).await;
                (before, read(rig, pos, q).await?)
            } else {
                // The finer register (the test mode entered and left around it).
                let d = register_dial(rig, pos, q, EnergyKind::Reactive, dwell, p.via)
                    .await
                    .map_err(|e| match e {
                        harness::measure::DialError::Rig(r) => SuiteError::Rig(r),
                        harness::measure::DialError::Link(l) => SuiteError::Link(l),
                    })?;
                (d.before, d.after)
            };
            let at = rig.now();
            io.sample(
                at,
                after - before,
                "varh",
                if p.via.is_normal() {
                    serde_json::json!({ "before": before, "after": after })
                } else {
                    serde_json::json!({ "before": before, "after": after, "via": p.via })
                },
            );
            return Ok(Measured::check(
                after > before,
                format!(
                    "{q} moved {:.0} varh in {:.0} s (one step expected every {:.0} s)",
                    after - before,
                    p.period_s * p.factor,
                    p.period_s
                ),
                serde_json::json!({ "expected_step_period_s": p.period_s }),
            ));
        }
        let start = rig.now();
        rig.energise(p.load).await?;
        let pulses = rig.positions[pos]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        pulses.start_capture(PulseChannel::Led).await?;
        let first = pulses
            .wait_pulses(
                PulseChannel::Led,
                1,
                Duration::from_secs_f64(p.period_s * p.factor),
            )
            .await?;
        let Some(t1) = first.rising().next() else {
            let at = rig.now();
            io.sample(
                at,
                f64::INFINITY,
                "s",
                serde_json::json!({ "first_pulse": null }),
            );
            return Ok(Measured::check(
                false,
                format!(
                    "no pulse within {:.0} s ({} × T = {:.0} s): the meter does not start at Ist",
                    p.period_s * p.factor,
                    p.factor,
                    p.period_s
                ),
                serde_json::json!({ "expected_period_s": p.period_s }),
            ));
        };
        let first_s = t1.since(start).as_secs_f64();
        io.sample(
            t1,
            first_s,
            "s",
            serde_json::json!({ "what": "first pulse after energising" }),
        );
        let pulses = rig.positions[pos]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        let more = pulses
            .wait_pulses(
                PulseChannel::Led,
                3,
                Duration::from_secs_f64(p.period_s * 3.3),
            )
            .await?;
        let mut times = vec![t1];
        times.extend(more.rising());
        let periods: Vec<f64> = times
            .windows(2)
            .map(|w| w[1].since(w[0]).as_secs_f64())
            .collect();
        for (i, period) in periods.iter().enumerate() {
            io.sample(
                times[i + 1],
                *period,
                "s",
                serde_json::json!({ "what": "period" }),
            );
        }
        let within = periods.len() == 3
            && periods
                .iter()
                .all(|t| ((t - p.period_s) / p.period_s * 100.0).abs() <= p.tolerance_pct);
        Ok(Measured::check(
            within,
            format!(
                "first pulse after {first_s:.0} s (limit {:.0} s); periods {} s against T = {:.0} s ± {} %{}",
                p.period_s * p.factor,
                periods
                    .iter()
                    .map(|t| format!("{t:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                p.period_s,
                p.tolerance_pct,
                p.period_override
                    .as_ref()
                    .map(|r| format!(" (overridden: {r})"))
                    .unwrap_or_default()
            ),
            serde_json::json!({ "expected_period_s": p.period_s, "first_pulse_s": first_s, "measured_periods_s": periods, "period_tolerance_pct": p.tolerance_pct, "period_tolerance_overridden": p.period_override }),
        ))
    }
}
