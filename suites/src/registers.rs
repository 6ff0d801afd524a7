//! `registers` — the energy registers as a meter owner relies on them:
//! resolution 0.01 kWh, roll-over past 9 999 999.99, a partial reset that
//! leaves the total alone, and each quadrant's energy in its own register.
//! Roll-over and reset go through real Modbus writes (the preset is the
//! maker's test mode, marked unverified in the profile).

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::{MeterQuantity as Q, MeterSetting, SettingValue};
use harness::run::{Measured, PlanContext};

use crate::framework::{Bench, Declares, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::{link, load, load_at, read, register_step};

#[derive(Debug, Default)]
pub struct Registers;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Check {
    Resolution,
    RollOver,
    PartialReset,
    Quadrant { phase_deg: f64, register: Q },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    check: Check,
    load: LoadPoint,
}

const TOP_KWH: f64 = 9_999_999.99;

impl Declares for Registers {
    const TITLE: &'static str = "Energy registers: resolution, roll-over, partial reset, quadrants";
    type Params = Params;

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let mut out = Vec::new();
        if profile.register(Q::ActiveImportTotal).is_none() {
            return Ok(out);
        }
        let r = &profile.ratings;
        let imax = load(r.un, r.imax, "1", r.fn_default());
        let iref = load(r.un, r.iref, "1", r.fn_default());
        let mut add = |id: &str, title: &str, check: Check, l: LoadPoint, secs: f64| {
            out.push(Planned::new(
                id,
                title,
                vec![l],
                ctx.plan.settle + Duration::from_secs_f64(secs),
                Params { check, load: l },
            ));
        };
        let step = profile
            .register(Q::ActiveImportTotal)
            .map_or(10.0, |r| r.place.step());
        add(
            "resolution",
            "the total advances in steps of its resolution",
            Check::Resolution,
            iref,
            6.0 * step / iref.active_power().0 * 3600.0,
        );
        if profile.setting(MeterSetting::EnergyPreset).is_some() {
            add(
                "roll-over",
                "past 9 999 999.99 kWh the total starts again from 0",
                Check::RollOver,
                imax,
                30.0,
            );
        }
        if profile.setting(MeterSetting::PartialReset).is_some()
            && profile.register(Q::ActiveImportPartial).is_some()
        {
            add(
                "partial-reset",
                "a partial reset clears the partial counter and leaves the total",
                Check::PartialReset,
                iref,
                720.0,
            );
        }
        for (name, phase, register) in [
            ("q1", 60.0, Q::ReactiveQ1Total),
            ("q2", 120.0, Q::ReactiveQ2Total),
            ("q3", 240.0, Q::ReactiveQ3Total),
            ("q4", 300.0, Q::ReactiveQ4Total),
        ] {
            if profile.register(register).is_some() {
                let l = load_at(r.un, r.iref, phase, r.fn_default());
                add(
                    &format!("quadrant-{name}"),
                    &format!(
                        "energy at {phase}° lands in {register} and the matching active register"
                    ),
                    Check::Quadrant {
                        phase_deg: phase,
                        register,
                    },
                    l,
                    3600.0,
                );
            }
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let pos = point.position;
        let step = register_step(rig, pos);
        rig.energise(p.load).await?;
        rig.dwell(io.settle).await;
        match p.check {
            Check::Resolution => {
                // Readings about half a step apart, so every step shows.
                let interval = Duration::from_secs_f64(
                    (step / p.load.active_power().0 * 3600.0 / 2.0).max(1.0),
                );
                let mut values = vec![read(rig, pos, Q::ActiveImportTotal).await?];
                for _ in 0..12 {
                    rig.dwell(interval).await;
                    values.push(read(rig, pos, Q::ActiveImportTotal).await?);
                }
                let steps: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]) / step).collect();
                // An integer register moves in whole steps; a float one at least as finely.
                let float = rig.positions[pos]
                    .profile
                    .register(Q::ActiveImportTotal)
                    .is_some_and(|r| r.place.coding.kind == harness::profile::RegisterKind::F32);
                let whole = steps
                    .iter()
                    .all(|s| *s >= 0.0 && (float || (s - s.round()).abs() < 1e-6));
                let moved = values.last() > values.first();
                let at = rig.now();
                io.sample(
                    at,
                    steps.iter().sum(),
                    "steps",
                    serde_json::json!({ "values_wh": values, "step_wh": step }),
                );
                Ok(Measured::check(
                    whole && moved,
                    format!(
                        "{} readings moved in whole steps of {} kWh ({} steps)",
                        values.len(),
                        harness::quantity::trim_float(step / 1000.0),
                        steps
                            .iter()
                            .map(|s| harness::quantity::trim_float(*s))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    serde_json::json!({ "step_wh": step }),
                ))
            }
            Check::RollOver => {
                let l = link(rig, pos)?;
                l.write(
                    MeterSetting::EnergyPreset,
                    SettingValue::Number(TOP_KWH - 0.05),
                )
                .await?;
                let before = read(rig, pos, Q::ActiveImportTotal).await?;
                // At Imax 30 s is ≥ 0.1 kWh: past the top.
                rig.dwell(Duration::from_secs(30)).await;
                let after = read(rig, pos, Q::ActiveImportTotal).await?;
                let at = rig.now();
                io.sample(
                    at,
                    after,
                    "Wh",
                    serde_json::json!({ "before_wh": before, "after_wh": after }),
                );
                let ok = before > (TOP_KWH - 0.1) * 1000.0 && after < 1000.0;
                Ok(Measured::check(
                    ok,
                    format!(
                        "preset to {:.2} kWh, then {:.2} kWh after 30 s at Imax",
                        before / 1000.0,
                        after / 1000.0
                    ),
                    serde_json::json!({ "before_wh": before, "after_wh": after }),
                ))
            }
            Check::PartialReset => {
                rig.dwell(Duration::from_secs(600)).await;
                let total_before = read(rig, pos, Q::ActiveImportTotal).await?;
                let partial_before = read(rig, pos, Q::ActiveImportPartial).await?;
                link(rig, pos)?
                    .write(MeterSetting::PartialReset, SettingValue::Number(1.0))
                    .await?;
                let total_after = read(rig, pos, Q::ActiveImportTotal).await?;
                let partial_after = read(rig, pos, Q::ActiveImportPartial).await?;
                let at = rig.now();
                io.sample(at, partial_after, "Wh", serde_json::json!({ "total_before": total_before, "total_after": total_after, "partial_before": partial_before, "partial_after": partial_after }));
                let ok =
                    partial_before > 0.0 && partial_after == 0.0 && total_after == total_before;
                Ok(Measured::check(
                    ok,
                    format!(
                        "partial {partial_before} → {partial_after} Wh, total {total_before} → {total_after} Wh"
                    ),
                    serde_json::Value::Null,
                ))
            }
            Check::Quadrant {
                phase_deg,
                register,
            } => {
                let watch = [
                    Q::ActiveImportTotal,
                    Q::ActiveExportTotal,
                    Q::ReactiveQ1Total,
                    Q::ReactiveQ2Total,
                    Q::ReactiveQ3Total,
                    Q::ReactiveQ4Total,
                ];
                let mut before = Vec::new();
                for q in watch {
                    before.push(read(rig, pos, q).await?);
                }
                rig.dwell(Duration::from_secs(3600)).await;
                let mut moved = Vec::new();
                for (q, b) in watch.iter().zip(&before) {
                    moved.push((*q, read(rig, pos, *q).await? - b));
                }
                let export = phase_deg.to_radians().cos() < 0.0;
                let active_ok = moved.iter().all(|(q, d)| match q {
                    Q::ActiveImportTotal => (*d > 0.0) != export,
                    Q::ActiveExportTotal => (*d > 0.0) == export,
                    r if *r == register => *d > 0.0,
                    _ => *d == 0.0,
                });
                let at = rig.now();
                io.sample(
                    at,
                    moved
                        .iter()
                        .find(|(q, _)| *q == register)
                        .map_or(0.0, |m| m.1),
                    "varh",
                    serde_json::json!(
                        moved
                            .iter()
                            .map(|(q, d)| (q.name(), d))
                            .collect::<std::collections::BTreeMap<_, _>>()
                    ),
                );
                Ok(Measured::check(
                    active_ok,
                    format!(
                        "1 h at {phase_deg}°: {}",
                        moved
                            .iter()
                            .map(|(q, d)| format!("{q} +{d:.0}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    serde_json::Value::Null,
                ))
            }
        }
    }
}
