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
        let e0 = reference_energy(rig).await?;
        rig.dwell(window).await;
        let e1 = reference_energy(rig).await?;
        let avg_low = read(rig, pos, Q::AveragePower).await?;
        rig.energise(p.high).await?;
        rig.dwell(minute).await;
        let e2 = reference_energy(rig).await?;
        rig.dwell(window).await;
        let e3 = reference_energy(rig).await?;
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
        let at = rig.now();
        for (v, what) in [
            (e_low, "average after a window at Iref"),
            (e_high, "average after a window at 2 Iref"),
            (e_max, "maximum against the 2 Iref power"),
        ] {
            io.sample(at, v, "%", serde_json::json!({ "what": what }));
        }
        let worst = [e_low, e_high, e_max]
            .into_iter()
            .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
        let b = Budget::of(
            &[worst],
            vec![
                Component::from_expanded(
                    "reference standard, average active power over the window (certificate, k = 2)",
                    reference_u,
                    2.0,
                ),
                Component::rectangular("register resolution (±½ W)", 0.5 / pl * 100.0),
            ],
        );
        Ok(Measured::figure(
            b,
            serde_json::json!({ "window_min": p.window_min, "average_low_w": avg_low, "average_high_w": avg_high, "maximum_w": max, "reference_low_w": pl, "reference_high_w": ph, "setpoint_low_w": p.low.active_power().0, "setpoint_high_w": p.high.active_power().0 }),
            move |_b, _limit| {
                format!(
                    "{} min: average {avg_low:.0} W against the reference's {pl:.1} W, {avg_high:.0} W against {ph:.1} W, maximum {max:.0} W; worst {worst:+.3} %",
                    p.window_min
                )
            },
        ))
    }
}

async fn reference_energy(rig: &mut Rig) -> Result<ReferenceEnergy, SuiteError> {
    Ok(rig
        .reference
        .as_mut()
        .ok_or_else(|| SuiteError::Measure("this rig has no reference standard".into()))?
        .energy()
        .await?)
}

/// The reference's average active power between two readings, W.
fn average_w(a: ReferenceEnergy, b: ReferenceEnergy) -> f64 {
    let hours = b.at.since(a.at).as_secs_f64() / 3600.0;
    (b.active.0 - a.active.0).abs() / hours
}
