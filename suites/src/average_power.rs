//! `average-power` — the moving average of active power over each window the
//! meter offers (datasheet §7: 5/8/10/15/20/30/60 min), and its maximum.
//!
//! For each window: a full window (and a minute, for the meter's one-minute
//! update) at Iref, then the same at 2 Iref: each average must equal P within
//! the P class, and the maximum must follow the larger. Whole windows keep
//! the unknown phase of the meter's minute ticks out of the result.
//!
//! Each average is compared with the reference standard's average power over
//! the same window (its energy over the window divided by the window), not
//! with the source's setpoint: a source that delivers 0.3 % more than it was
//! told would otherwise show as a meter error (issue 15, item 3).
//!
//! Whole windows at a steady load cannot tell a window of the wrong length:
//! a meter whose average is stuck at 5 min reads the same steady power as a
//! true 15 min one. So the average is also read a few minutes after the step
//! to 2 Iref, while its window still spans both loads, right after one of the
//! meter's updates (found by watching the register step, to 0.1 s), and
//! compared with the reference's energy over the `w` minutes before that
//! update: a window of another length holds another share of each load.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::{MeterQuantity as Q, MeterSetting, SettingValue};
use harness::rig::Rig;
use harness::rig::reference::ReferenceEnergy;
use harness::rig::reference_model::ReferenceQuantity;
use harness::run::SuiteError;
use harness::run::dwell::{DwellUse, Resource};
use harness::run::{Measured, PlanContext, PointSpec};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::{Budget, Component};
use serde::{Deserialize, Serialize};

use crate::common::{link, load, read};
use crate::limits::measurements as m;

#[derive(Debug, Default)]
pub struct AveragePower;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    window_min: f64,
    low: LoadPoint,
    high: LoadPoint,
}

impl Declares for AveragePower {
    const TITLE: &'static str = "Average active power over each window, and its maximum";
    type Params = Params;

    /// It writes only its window and its maximum's reset and reads the
    /// reference and its own registers: a window can be shared with points
    /// that touch neither (issue 20); its 2 Iref half waits for them to
    /// finish at Iref (the lockstep source), and the window it judges is
    /// read from the reference over exactly that window.
    fn dwell_use(&self, _point: &PointSpec) -> Option<DwellUse> {
        Some(
            DwellUse::default()
                .drives(Resource::Setting(MeterSetting::AverageWindow))
                .drives(Resource::Setting(MeterSetting::AverageMaxReset)),
        )
    }

    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let mut out = Vec::new();
        let (Some(def), Some(_)) = (
            profile.setting(MeterSetting::AverageWindow),
            profile.register(Q::AveragePower),
        ) else {
            return Ok(out);
        };
        let windows: Vec<f64> = def
            .choices
            .iter()
            .filter_map(|c| match c.value {
                SettingValue::Number(n) => Some(n),
                SettingValue::Text(_) => None,
            })
            .collect();
        // A moving average over less than the meter's one-minute update, or
        // over more than a day, is no window this suite can judge: the
        // profile is wrong, and the plan says which choice.
        if let Some(w) = windows
            .iter()
            .find(|w| !(MIN_WINDOW_MIN..=MAX_WINDOW_MIN).contains(*w))
        {
            return Err(SuiteError::Plan(format!(
                "{}: setting `average_window` offers a choice of {w} min; average-power judges windows within {MIN_WINDOW_MIN}..={MAX_WINDOW_MIN} min",
                profile.file.display()
            )));
        }
        let r = &profile.ratings;
        let low = load(r.un, r.iref, "1", r.fn_default());
        let high = load(r.un, r.iref * 2.0, "1", r.fn_default());
        let row = m::P_HIGH;
        for w in windows {
            let limit = Limit::of(row);
            let rig_time = Duration::from_secs_f64(2.0 * (w * 60.0 + 60.0));
            out.push(
                Planned::new(
                    format!("window-{w}min"),
                    format!("{w} min window at Iref, then at 2 Iref"),
                    vec![low, high],
                    rig_time,
                    Params {
                        window_min: w,
                        low,
                        high,
                    },
                )
                .judged_by(limit)
                .sized(crate::common::expected_u(
                    ctx,
                    row,
                    "average power register (±½ W) against the reference's energy over the window"
                        .into(),
                    ctx.reference_u(
                        harness::rig::reference_model::ReferenceQuantity::ActiveEnergy,
                        0.0,
                    ),
                    &[0.5 / low.active_power().0 * 100.0],
                )),
            );
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let pos = point.position;
        rig.energise(p.low).await?;
        link(rig, pos)?
            .write(
                MeterSetting::AverageWindow,
                SettingValue::Number(p.window_min),
            )
            .await?;
        link(rig, pos)?
            .write(MeterSetting::AverageMaxReset, SettingValue::Number(1.0))
            .await?;
        let window = Duration::from_secs_f64(p.window_min * 60.0);
        let minute = Duration::from_secs(60);
        rig.dwell(minute).await;
        let e0 = rig.reference_energy().await?;
        rig.dwell(window).await;
        let e1 = rig.reference_energy().await?;
        let avg_low = read(rig, pos, Q::AveragePower).await?;
        rig.energise(p.high).await?;
        // On a shared bench the source steps when every point sharing it
        // asks, so Iref may last past `e1`: until here.
        let stepped_at = rig.now().secs_f64();
        rig.dwell(minute).await;
        let e2 = rig.reference_energy().await?;
        let straddle = straddling_average(rig, pos, (e0, e1, e2), stepped_at, window).await?;
        let left = window.saturating_sub(rig.now().since(e2.at));
        rig.dwell(left).await;
        let e3 = rig.reference_energy().await?;
        let avg_high = read(rig, pos, Q::AveragePower).await?;
        let max = read(rig, pos, Q::AveragePowerMax).await?;
        let pl = average_w(e0, e1);
        let ph = average_w(e2, e3);
        if !(pl > 0.0 && ph > 0.0) {
            return Err(SuiteError::Measure(format!(
                "the reference counted no energy over the window ({pl} W, {ph} W)"
            )));
        }
        let reference_u = rig
            .config
            .reference_model()
            .expanded(ReferenceQuantity::ActiveEnergy, p.high.phase.0);
        let e_low = (avg_low - pl) / pl * 100.0;
        let e_high = (avg_high - ph) / ph * 100.0;
        let e_max = (max - ph) / ph * 100.0;
        let e_straddle = straddle
            .as_ref()
            .ok()
            .map(|s| (s.average_w - s.reference_w) / s.reference_w * 100.0);
        let at = rig.now();
        for (v, what) in [
            (Some(e_low), "average after a window at Iref"),
            (Some(e_high), "average after a window at 2 Iref"),
            (Some(e_max), "maximum against the 2 Iref power"),
            (
                e_straddle,
                "average of a window spanning Iref and 2 Iref, against the reference over that window",
            ),
        ] {
            if let Some(v) = v {
                io.sample(at, v, "%", serde_json::json!({ "what": what }));
            }
        }
        let worst = [Some(e_low), Some(e_high), Some(e_max), e_straddle]
            .into_iter()
            .flatten()
            .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        let mut components = vec![
            Component::from_expanded(
                "reference standard, average active power over the window (certificate, k = 2)",
                reference_u,
                2.0,
            ),
            Component::rectangular("register resolution (±½ W)", 0.5 / pl * 100.0),
        ];
        if let Ok(s) = &straddle {
            components.push(Component::rectangular(
                "the meter's update instant, found to half a poll (window spanning both loads)",
                (ph - pl).abs() * s.found_to_s / (p.window_min * 60.0) / s.reference_w * 100.0,
            ));
        }
        let b = Budget::of(&[worst], components);
        let straddle_text = match &straddle {
            Ok(s) => format!(
                "; {:.0} s after the step {:.0} W against {:.1} W",
                s.after_step_s, s.average_w, s.reference_w
            ),
            Err(why) => format!("; not read across the step ({why})"),
        };
        Ok(Measured::figure(
            b,
            serde_json::json!({ "window_min": p.window_min, "average_low_w": avg_low, "average_high_w": avg_high, "maximum_w": max, "reference_low_w": pl, "reference_high_w": ph, "setpoint_low_w": p.low.active_power().0, "setpoint_high_w": p.high.active_power().0, "straddling": match &straddle { Ok(s) => serde_json::json!({ "after_step_s": s.after_step_s, "average_w": s.average_w, "reference_w": s.reference_w, "window_s": p.window_min * 60.0, "update_s": s.update_s, "reference_readings_s_wh": s.readings }), Err(why) => serde_json::json!({ "not_read": why }) } }),
            move |_b, _limit| {
                format!(
                    "{} min: average {avg_low:.0} W against the reference's {pl:.1} W, {avg_high:.0} W against {ph:.1} W, maximum {max:.0} W{straddle_text}; worst {worst:+.3} %",
                    p.window_min
                )
            },
        ))
    }
}

/// The shortest and longest window the suite judges, minutes: the meter
/// updates its average once a minute, and a window beyond a day is no
/// demand-metering window.
const MIN_WINDOW_MIN: f64 = 1.0;
const MAX_WINDOW_MIN: f64 = 1440.0;

/// The last poll interval, s: the meter's update instant is found within it.
const UPDATE_FOUND_TO_S: f64 = 0.1;

/// The average read right after an update while its window spans both loads.
#[derive(Debug, Clone, Copy)]
struct Straddle {
    /// Seconds from the step to 2 Iref to the update.
    after_step_s: f64,
    average_w: f64,
    /// The reference's average power over the window's length before the update.
    reference_w: f64,
    /// Half the span the update was found in, s.
    found_to_s: f64,
    /// What `reference_w` is computed from, for the record: the update's
    /// instant and each reference reading's rig time (s) and active energy
    /// (Wh): the Iref window's two, the one a minute after the step, the one
    /// right after the update.
    update_s: f64,
    readings: [(f64, f64); 4],
}

/// Finds one of the meter's updates of its average (the register steps only
/// then) by polling: every 10 s until it steps, then, one update period
/// (60 s) later, every 1 s over the span it fell in, then every 0.1 s. The
/// value read at the last step is the meter's average over the `window`
/// before that update; the reference's energy over the same span comes from
/// its readings `e0`..`e1` (steady Iref, interpolated, and on at that rate
/// until 10 s before `stepped_at`, when the source was told 2 Iref) and
/// from `e2` to a reading right after the update (steady 2 Iref,
/// interpolated back).
/// `Err(why)` when no update is pinned down within about 5 minutes or it
/// falls outside the Iref window's reach: the whole-window readings then
/// judge the meter alone, and the summary says so.
async fn straddling_average(
    rig: &mut Rig,
    pos: usize,
    (e0, e1, e2): (ReferenceEnergy, ReferenceEnergy, ReferenceEnergy),
    stepped_at: f64,
    window: Duration,
) -> Result<Result<Straddle, String>, SuiteError> {
    let until = rig.now().secs_f64() + 180.0;
    let Some(mut step) = poll_for_step(rig, pos, 10.0, until).await? else {
        return Ok(Err(
            "the average did not step within 3 min of the step to 2 Iref".into(),
        ));
    };
    for every_s in [1.0, UPDATE_FOUND_TO_S] {
        let wait = step.lo + 60.0 - rig.now().secs_f64();
        if wait > 0.0 {
            rig.dwell(Duration::from_secs_f64(wait)).await;
        }
        let until = step.hi + 60.0 + every_s;
        match poll_for_step(rig, pos, every_s, until).await? {
            Some(s) => step = s,
            None => {
                return Ok(Err(format!(
                    "the average's update came {:.0} s after the step and not one minute later",
                    step.hi - stepped_at
                )));
            }
        }
    }
    let e_now = rig.reference_energy().await?;
    let update = (step.lo + step.hi) / 2.0;
    let w = window.as_secs_f64();
    let [t0, t1, t2, tn] = [e0.at, e1.at, e2.at, e_now.at].map(|t| t.secs_f64());
    let start = update - w;
    let steady_low_until = t1.max(stepped_at - 10.0);
    if !(t0..=steady_low_until).contains(&start) || !(t2..tn).contains(&update) || t1 <= t0 {
        return Ok(Err(format!(
            "the update {:.0} s after the step leaves the window's start outside the steady Iref",
            update - stepped_at
        )));
    }
    let at_start = e0.active.0 + (e1.active.0 - e0.active.0) * (start - t0) / (t1 - t0);
    let at_update = e_now.active.0 - (e_now.active.0 - e2.active.0) * (tn - update) / (tn - t2);
    Ok(Ok(Straddle {
        after_step_s: update - stepped_at,
        average_w: step.value,
        reference_w: (at_update - at_start).abs() / (w / 3600.0),
        found_to_s: (step.hi - step.lo) / 2.0,
        update_s: update,
        readings: [
            (t0, e0.active.0),
            (t1, e1.active.0),
            (t2, e2.active.0),
            (tn, e_now.active.0),
        ],
    }))
}

/// An update of the average, between `lo` and `hi` (rig seconds), and the
/// value it brought.
#[derive(Debug, Clone, Copy)]
struct Step {
    lo: f64,
    hi: f64,
    value: f64,
}

/// Reads the average every `every_s` until it changes or the rig clock
/// passes `until`. `lo` is when the read before the change began (the value
/// was still the old one then), `hi` when the changed read ended.
async fn poll_for_step(
    rig: &mut Rig,
    pos: usize,
    every_s: f64,
    until: f64,
) -> Result<Option<Step>, SuiteError> {
    let mut lo = rig.now().secs_f64();
    let last = read(rig, pos, Q::AveragePower).await?;
    loop {
        rig.dwell(Duration::from_secs_f64(every_s)).await;
        let began = rig.now().secs_f64();
        let value = read(rig, pos, Q::AveragePower).await?;
        let hi = rig.now().secs_f64();
        if value != last {
            return Ok(Some(Step { lo, hi, value }));
        }
        if hi > until {
            return Ok(None);
        }
        lo = began;
    }
}

/// The reference's average active power between two readings, W.
fn average_w(a: ReferenceEnergy, b: ReferenceEnergy) -> f64 {
    let hours = b.at.since(a.at).as_secs_f64() / 3600.0;
    (b.active.0 - a.active.0).abs() / hours
}
