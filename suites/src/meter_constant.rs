//! `meter-constant` — the energy register against the pulses of each test
//! output times its constant, within 1/10 of the MPE.
//!
//! At Imax, PF 1, for as long as the rig-time planner (issue 20) says the
//! register step (0.01 kWh) and one pulse need to meet the plan's target TUR
//! against the 0.1 % limit. The LED and S0 outputs are counted in one shared
//! dwell: the `led` point captures both and leaves the S0 count for the `s0`
//! point, which measures alone only when it cannot use it (run on its own, or
//! energy registered since). A meter that loses S0 pulses shows it here as a
//! shortfall of pulses against its register.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::{MeterQuantity as Q, MeterSetting, SettingValue};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::run::planner::{Counting, Planner};
use harness::run::{Measured, PlanContext, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::{Budget, Component};
use serde::{Deserialize, Serialize};

use crate::common::{energise_no_current, link, load, read, register_step};
use crate::limits::rules;

#[derive(Debug, Default)]
pub struct MeterConstant {
    /// Counts of outputs captured in another point's dwell, per position,
    /// with the register reading at the dwell's end.
    shared: std::sync::Mutex<Vec<Shared>>,
}

/// One output's count from a shared dwell.
#[derive(Debug, Clone)]
struct Shared {
    position: usize,
    channel: PulseChannel,
    pulses: usize,
    weight: f64,
    before: f64,
    after: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    channel: PulseChannel,
    dwell_s: f64,
    /// Outputs counted in the same dwell, for the points that share it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    also: Vec<PulseChannel>,
    /// This point's count comes from another point's dwell when it can.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    shares_dwell: bool,
}

/// The weight of a pulse on `channel` now: the LED's constant, or the S0
/// setting read back over Modbus (the profile's default without a link).
pub async fn pulse_weight(
    rig: &mut Rig,
    position: usize,
    channel: PulseChannel,
) -> Result<f64, SuiteError> {
    let profile = rig.positions[position].profile.clone();
    Ok(match channel {
        PulseChannel::Led => profile.pulse.led_constant.weight().0,
        PulseChannel::S0 => {
            let default = profile
                .pulse
                .s0
                .as_ref()
                .map_or(10.0, |s| s.weight_default.0);
            match (
                profile.setting(MeterSetting::S0Weight),
                rig.positions[position].link.is_some(),
            ) {
                (Some(def), true) if def.place.access.readable() => match link(rig, position)?
                    .read_setting(MeterSetting::S0Weight)
                    .await?
                {
                    SettingValue::Number(w) => w * def.place.unit_factor,
                    SettingValue::Text(_) => default,
                },
                _ => default,
            }
        }
    })
}

impl Declares for MeterConstant {
    const TITLE: &'static str = "Meter constant: register energy against pulses × constant";
    type Params = Params;

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let mut out = Vec::new();
        let Some(reg) = profile.register(Q::ActiveImportTotal) else {
            return Ok(out);
        };
        let r = &profile.ratings;
        let l = load(r.un, r.imax, "1", r.fn_default());
        let step = reg.place.step();
        let mut channels = vec![(PulseChannel::Led, profile.pulse.led_constant.weight().0)];
        if let Some(s0) = &profile.pulse.s0 {
            channels.push((
                PulseChannel::S0,
                s0.weights
                    .iter()
                    .map(|w| w.0)
                    .fold(0.0, f64::max)
                    .min(s0.weight_default.0),
            ));
        }
        let limit = rules::METER_CONSTANT;
        let limit_pct = ctx
            .plan
            .override_for(limit.table, limit.id)
            .map_or(limit.limit_pct, |o| o.limit_pct);
        let planner = ctx.planner();
        // Each output sized on its own (register vs its pulses: no reference
        // in the budget), then one dwell for all: the longest.
        let sized: Vec<_> = channels
            .iter()
            .map(|&(channel, weight)| {
                planner.size(&Counting {
                    method: format!(
                        "register ({step} Wh step) against {channel:?} pulses ({weight} Wh)"
                    ),
                    limit_pct,
                    fixed_u_pct: 0.0,
                    quanta: vec![step, weight],
                    power: l.active_power().0,
                    overhead: ctx.plan.settle,
                    min_dwell: Duration::from_secs(60),
                })
            })
            .collect();
        let dwell = sized.iter().map(|s| s.dwell).max().unwrap_or_default();
        let energy = l.active_power().0 * dwell.as_secs_f64() / 3600.0;
        let all: Vec<PulseChannel> = channels.iter().map(|c| c.0).collect();
        for (k, ((channel, weight), s)) in channels.into_iter().zip(sized).enumerate() {
            let mut planned_u = s.planned;
            planned_u.expected_u_pct = Planner::u_after(
                &Counting {
                    method: String::new(),
                    limit_pct,
                    fixed_u_pct: 0.0,
                    quanta: vec![step, weight],
                    power: 0.0,
                    overhead: Duration::ZERO,
                    min_dwell: Duration::ZERO,
                },
                energy,
            );
            if planned_u.meets_target() {
                planned_u.flagged = None;
            }
            let first = k == 0;
            let lim = Limit::of(limit);
            out.push(
                Planned::new(
                    format!("{channel:?}").to_lowercase(),
                    format!("register vs {channel:?} pulses at {l}"),
                    vec![l],
                    // The first point's dwell counts every output; the others read it.
                    if first {
                        ctx.plan.settle + dwell
                    } else {
                        Duration::ZERO
                    },
                    Params {
                        load: l,
                        channel,
                        dwell_s: dwell.as_secs_f64(),
                        also: if first { all[1..].to_vec() } else { Vec::new() },
                        shares_dwell: !first,
                    },
                )
                .judged_by(lim)
                .sized(planned_u),
            );
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let position = point.position;
        if p.shares_dwell {
            let kept = self.shared.lock().ok().and_then(|mut v| {
                let i = v
                    .iter()
                    .position(|s| s.position == position && s.channel == p.channel)?;
                Some(v.remove(i))
            });
            if let Some(k) = kept {
                // Usable only if nothing was registered since that dwell ended.
                let now = read(rig, position, Q::ActiveImportTotal).await?;
                if now == k.after {
                    return Ok(judged(rig, io, &k, true));
                }
            }
        }
        let mut channels = vec![p.channel];
        channels.extend(p.also.iter().copied());
        let mut weights = Vec::new();
        for &c in &channels {
            weights.push(pulse_weight(rig, position, c).await?);
        }
        rig.energise(p.load).await?;
        rig.dwell(io.settle).await;
        let pulses = rig.positions[position]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        for &c in &channels {
            pulses.start_capture(c).await?;
        }
        let before = read(rig, position, Q::ActiveImportTotal).await?;
        rig.dwell(Duration::from_secs_f64(p.dwell_s)).await;
        let after = read(rig, position, Q::ActiveImportTotal).await?;
        // Pulses still queued in the output when the dwell ends come out after it: wait them out at no load.
        energise_no_current(rig, position).await?;
        let pulses = rig.positions[position]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        let mut counts = Vec::new();
        for (k, &c) in channels.iter().enumerate() {
            let train = if k == 0 {
                pulses
                    .wait_pulses(c, usize::MAX, Duration::from_secs(600))
                    .await?
            } else {
                // Captured through the same dwell and the wait above.
                pulses.take(c).await?
            };
            counts.push(train.pulse_count());
        }
        let mut got: Vec<Shared> = channels
            .iter()
            .zip(counts)
            .zip(weights)
            .map(|((&channel, pulses), weight)| Shared {
                position,
                channel,
                pulses,
                weight,
                before,
                after,
            })
            .collect();
        let own = got.remove(0);
        if let Ok(mut kept) = self.shared.lock() {
            kept.retain(|s| s.position != position);
            kept.extend(got);
        }
        Ok(judged(rig, io, &own, false))
    }
}

/// One output's count against the register over the same energy
/// (`shared`: counted in another point's dwell).
fn judged(rig: &mut Rig, io: &mut harness::run::PointIo<'_>, k: &Shared, shared: bool) -> Measured {
    let Shared {
        position,
        channel,
        pulses: n,
        weight,
        before,
        after,
    } = k.clone();
    let register = after - before;
    let from_pulses = n as f64 * weight;
    let error = (from_pulses - register) / register * 100.0;
    let step = register_step(rig, position);
    let at = rig.now();
    io.sample(at, error, "%", serde_json::json!({ "pulses": n, "weight_wh": weight, "register_before_wh": before, "register_after_wh": after, "shared_dwell": shared }));
    let b = Budget::of(
        &[error],
        vec![
            Component::rectangular("register resolution (±1 step)", step / register * 100.0),
            Component::rectangular("pulse count (±1 pulse)", weight / register * 100.0),
        ],
    );
    Measured::figure(
        b,
        serde_json::json!({ "channel": channel, "pulses": n, "weight_wh": weight, "register_wh": register, "shared_dwell": shared }),
        move |_b, limit| {
            format!(
                "{n} {channel} pulses × {weight} Wh = {:.2} kWh against {:.2} kWh on the register: {error:+.4} % (limit ±{limit} %)",
                from_pulses / 1000.0,
                register / 1000.0
            )
        },
    )
}
