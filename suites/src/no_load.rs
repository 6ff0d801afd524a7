//! `no-load` — current circuit open, 1.15 Un, for Δt: at most one pulse on
//! every test output, and the energy register moves by at most one step.
//!
//! Δt is the longer of the candidate formulas (shared/standards.md):
//! EN 50470-3, Δt ≥ 600·10³/(k·m·Un·Ist) min (constant uncertain, U), and
//! IEC 62053-21 class 1, Δt ≥ 600·10⁶/(k·m·Un·Imax) min (R); the plan's
//! `factor` multiplies it (labs usually run twice the minimum).

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::MeterQuantity as Q;
use harness::quantity::Amps;
use harness::rig::pulse_input::PulseChannel;
use harness::run::{Measured, Param, PlanContext, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::{load, read, register_step};
use crate::limits::pulses;

#[derive(Debug, Default)]
pub struct NoLoad;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    dt_s: f64,
    channels: Vec<PulseChannel>,
}

/// The no-load test voltage as a multiple of Un (EN 50470-3 §8.3.2).
pub const NO_LOAD_VOLTAGE_FACTOR: f64 = 1.15;

/// Δt in minutes by each formula, for `metrig list` and the record.
pub fn delta_t_min(k: f64, m: f64, un: f64, ist: f64, imax: f64) -> (f64, f64) {
    (600e3 / (k * m * un * ist), 600e6 / (k * m * un * imax))
}

/// `factor`: the test time, as a multiple of the standard's minimum.
const FACTOR: Param = Param::number("factor", 1.0, 10.0, "× the minimum test time");

impl Declares for NoLoad {
    const TITLE: &'static str = "No-load condition: at most one pulse at 1.15 Un with no current";
    const PARAMS: &'static [Param] = &[FACTOR];
    type Params = Params;

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let factor = ctx.number_of(&FACTOR, 1.0)?;
        let mut out = Vec::new();
        let r = &profile.ratings;
        let (en, iec) = delta_t_min(
            profile.pulse.led_constant.0,
            f64::from(r.elements),
            r.un.0,
            r.ist.0,
            r.imax.0,
        );
        let dt_s = en.max(iec) * 60.0 * factor;
        // EN 50470-3 §8.3.2 / IEC 62053-21 §8.3.2: the no-load test voltage is
        // 1.15 Un, whatever wider voltage range the meter's datasheet claims.
        let l = load(
            r.un * NO_LOAD_VOLTAGE_FACTOR,
            Amps(0.0),
            "1",
            r.fn_default(),
        );
        let mut channels = vec![PulseChannel::Led];
        if profile.pulse.s0.is_some() {
            channels.push(PulseChannel::S0);
        }
        let row = pulses::NO_LOAD;
        let lim = Limit::of(row);
        out.push(Planned::new("1.15un", format!("{} V, no current, Δt = {:.1} min (EN 50470-3 {en:.1} min, IEC 62053-21 {iec:.1} min, × {factor})", l.voltage.0, dt_s / 60.0), vec![l], Duration::from_secs_f64(dt_s), Params { load: l, dt_s, channels }).judged_by(lim));
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let pos = point.position;
        rig.energise(p.load).await?;
        rig.dwell(io.settle).await;
        let has_register = rig.positions[pos]
            .profile
            .register(Q::ActiveImportTotal)
            .is_some()
            && rig.positions[pos].link.is_some();
        let before = if has_register {
            Some(read(rig, pos, Q::ActiveImportTotal).await?)
        } else {
            None
        };
        let pulses = rig.positions[pos]
            .pulses
            .as_mut()
            .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?;
        for ch in &p.channels {
            pulses.start_capture(*ch).await?;
        }
        rig.dwell(Duration::from_secs_f64(p.dt_s)).await;
        let mut counts = Vec::new();
        for ch in &p.channels {
            let train = rig.positions[pos]
                .pulses
                .as_mut()
                .ok_or_else(|| SuiteError::Measure("no pulse input".into()))?
                .take(*ch)
                .await?;
            let at = rig.now();
            io.sample(
                at,
                train.pulse_count() as f64,
                "pulses",
                serde_json::json!({ "channel": ch }),
            );
            counts.push((*ch, train.pulse_count()));
        }
        let step = register_step(rig, pos);
        let moved = match before {
            Some(b) => Some(read(rig, pos, Q::ActiveImportTotal).await? - b),
            None => None,
        };
        let ok = counts.iter().all(|(_, n)| *n <= 1) && moved.is_none_or(|m| m <= step + 1e-9);
        Ok(Measured::check(
            ok,
            format!(
                "{:.1} min at {}: {}{}",
                p.dt_s / 60.0,
                p.load,
                counts
                    .iter()
                    .map(|(c, n)| format!("{c} {n} pulse(s)"))
                    .collect::<Vec<_>>()
                    .join(", "),
                moved
                    .map(|m| format!(", register +{m:.0} Wh (one step {step} Wh)"))
                    .unwrap_or_default()
            ),
            serde_json::json!({ "dt_s": p.dt_s, "pulses": counts.iter().map(|(c, n)| (format!("{c:?}"), n)).collect::<std::collections::BTreeMap<_, _>>(), "register_moved_wh": moved }),
        ))
    }
}
