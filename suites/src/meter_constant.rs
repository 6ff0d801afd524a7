//! `meter-constant` — the energy register against the pulses of each test
//! output times its constant, within 1/10 of the MPE.
//!
//! At Imax, PF 1, for long enough that one register step (0.01 kWh) and one
//! pulse are each at most a twentieth of the limit. A meter that loses S0
//! pulses shows it here as a shortfall of pulses against its register.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::{MeterQuantity as Q, MeterSetting, SettingValue};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::run::{Measured, PlanContext, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::{Budget, Component};
use serde::{Deserialize, Serialize};

use crate::common::{energise_no_current, link, load, read, register_step};
use crate::limits::rules;

#[derive(Debug, Default)]
pub struct MeterConstant;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    channel: PulseChannel,
    dwell_s: f64,
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
        for (channel, weight) in channels {
            // One step and one pulse each ≤ limit/20.
            let energy = (step.max(weight)) / (limit.limit_pct / 20.0 / 100.0);
            let dwell_s = energy / l.active_power().0 * 3600.0;
            let lim = Limit::of(limit);
            out.push(
                Planned::new(
                    format!("{channel:?}").to_lowercase(),
                    format!("register vs {channel:?} pulses at {l}"),
                    vec![l],
                    ctx.plan.settle + Duration::from_secs_f64(dwell_s),
                    Params {
                        load: l,
                        channel,
                        dwell_s,
                    },
                )
                .judged_by(lim),
            );
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let weight = pulse_weight(rig, point.position, p.channel).await?;
        rig.energise(p.load).await?;
        rig.dwell(io.settle).await;
        let pulses = rig.positions[point.position]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        pulses.start_capture(p.channel).await?;
        let before = read(rig, point.position, Q::ActiveImportTotal).await?;
        rig.dwell(Duration::from_secs_f64(p.dwell_s)).await;
        let after = read(rig, point.position, Q::ActiveImportTotal).await?;
        // Pulses still queued in the output when the dwell ends come out after it: wait them out at no load.
        energise_no_current(rig, point.position).await?;
        let pulses = rig.positions[point.position]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        let train = pulses
            .wait_pulses(p.channel, usize::MAX, Duration::from_secs(600))
            .await?;
        let n = train.pulse_count();
        let register = after - before;
        let from_pulses = n as f64 * weight;
        let error = (from_pulses - register) / register * 100.0;
        let step = register_step(rig, point.position);
        let at = rig.now();
        io.sample(at, error, "%", serde_json::json!({ "pulses": n, "weight_wh": weight, "register_before_wh": before, "register_after_wh": after }));
        let b = Budget::of(
            &[error],
            vec![
                Component::rectangular("register resolution (±1 step)", step / register * 100.0),
                Component::rectangular("pulse count (±1 pulse)", weight / register * 100.0),
            ],
        );
        Ok(Measured::figure(
            b,
            serde_json::json!({ "channel": p.channel, "pulses": n, "weight_wh": weight, "register_wh": register }),
            move |_b, limit| {
                format!(
                    "{n} {} pulses × {weight} Wh = {:.2} kWh against {:.2} kWh on the register: {error:+.4} % (limit ±{limit} %)",
                    p.channel,
                    from_pulses / 1000.0,
                    register / 1000.0
                )
            },
        ))
    }
}
