//! `tariff` — the dual-tariff input: energy accrues only in the active
//! tariff's registers, T1 + T2 equals the total to the resolution, switching
//! under load at random instants loses or double-counts nothing, a bounce
//! shorter than the meter's debounce is ignored, and the counters survive a
//! power cycle.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::MeterQuantity as Q;
use harness::rig::Rig;
use harness::rig::tariff_output::Tariff;
use harness::run::dwell::{DwellUse, Resource};
use harness::run::{Measured, PlanContext, PointSpec, SuiteError};

use crate::framework::{Bench, Declares, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::{energise_no_current, load, read, register_step};

#[derive(Debug, Default)]
pub struct TariffSuite;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Check {
    OnlyActive(Tariff),
    RandomSwitching,
    Bounce,
    PowerCycle,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    check: Check,
    load: LoadPoint,
    debounce_ms: u64,
    seed: u64,
}

async fn select(rig: &mut Rig, pos: usize, t: Tariff) -> Result<(), SuiteError> {
    Ok(rig.positions[pos]
        .tariff
        .as_mut()
        .ok_or_else(|| SuiteError::Measure("no tariff output".into()))?
        .select(t)
        .await?)
}

async fn energies(rig: &mut Rig, pos: usize) -> Result<[f64; 3], SuiteError> {
    Ok([
        read(rig, pos, Q::ActiveImportT1).await?,
        read(rig, pos, Q::ActiveImportT2).await?,
        read(rig, pos, Q::ActiveImportTotal).await?,
    ])
}

/// The reference's active-energy register, Wh, when the rig has a reference
/// (the energy it delivered between two readings is their difference).
async fn reference_wh(rig: &mut Rig) -> Result<Option<f64>, SuiteError> {
    match rig.reference.as_mut() {
        Some(r) => Ok(Some(r.energy().await?.active.0)),
        None => Ok(None),
    }
}

/// Reads T1, T2 and the total (and the reference's energy) and records them
/// as a raw sample named `stage`, so the verdict can be recomputed from the
/// record (issue 15: every figure back to raw samples). The sample's value
/// is the total register, Wh.
async fn reading(
    rig: &mut Rig,
    io: &mut harness::run::PointIo<'_>,
    pos: usize,
    stage: &str,
    step_wh: f64,
) -> Result<[f64; 3], SuiteError> {
    let e = energies(rig, pos).await?;
    let reference = reference_wh(rig).await?;
    let active = match rig.positions[pos].profile.register(Q::ActiveTariff) {
        Some(_) => Some(read(rig, pos, Q::ActiveTariff).await?),
        None => None,
    };
    io.sample(
        rig.now(),
        e[2],
        "Wh",
        serde_json::json!({
            "stage": stage,
            "t1_wh": e[0],
            "t2_wh": e[1],
            "total_wh": e[2],
            "reference_wh": reference,
            "active_tariff": active,
            "step_wh": step_wh,
        }),
    );
    Ok(e)
}

impl Declares for TariffSuite {
    const TITLE: &'static str = "Tariff input: T1/T2 registers, switching, bounce, power cycle";
    type Params = Params;

    /// Every check but the power cycle (which switches the source off)
    /// only drives the tariff input and reads the energy registers: it can
    /// share its hour at Iref with points that touch neither (issue 20).
    fn dwell_use(&self, point: &PointSpec) -> Option<DwellUse> {
        (point.id != "power-cycle").then(|| {
            DwellUse::default()
                .drives(Resource::TariffInput)
                .reads(Resource::EnergyRegisters)
        })
    }

    /// Each check selects T1 first and needs nothing another left.
    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let mut out = Vec::new();
        let (Some(t), Some(_), Some(_)) = (
            &profile.tariff,
            profile.register(Q::ActiveImportT1),
            profile.register(Q::ActiveImportT2),
        ) else {
            return Ok(out);
        };
        let r = &profile.ratings;
        let l = load(r.un, r.iref, "1", r.fn_default());
        let debounce_ms = t.debounce.as_millis() as u64;
        for (id, title, check, secs) in [
            (
                "t1-only",
                "energy in T1 only while T1 is selected",
                Check::OnlyActive(Tariff::T1),
                3600.0,
            ),
            (
                "t2-only",
                "energy in T2 only while T2 is selected",
                Check::OnlyActive(Tariff::T2),
                3600.0,
            ),
            (
                "random-switching",
                "40 switches at random instants: T1 + T2 = total",
                Check::RandomSwitching,
                40.0 * 120.0,
            ),
            (
                "bounce",
                "a pulse on the input shorter than the debounce is ignored",
                Check::Bounce,
                3600.0,
            ),
            (
                "power-cycle",
                "the tariff counters survive a power cycle",
                Check::PowerCycle,
                3700.0,
            ),
        ] {
            out.push(Planned::new(
                id,
                title,
                vec![l],
                Duration::from_secs_f64(secs),
                Params {
                    check,
                    load: l,
                    debounce_ms,
                    seed: ctx.plan.repetitions as u64,
                },
            ));
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let pos = point.position;
        let step = register_step(rig, pos);
        let settle = Duration::from_millis(p.debounce_ms * 4 + 1000);
        rig.energise(p.load).await?;
        select(rig, pos, Tariff::T1).await?;
        rig.dwell(settle).await;
        let before = reading(rig, io, pos, "before", step).await?;
        let (ok, summary) = match p.check {
            Check::OnlyActive(t) => {
                select(rig, pos, t).await?;
                rig.dwell(settle).await;
                let start = reading(rig, io, pos, "start", step).await?;
                rig.dwell(Duration::from_secs(3600)).await;
                let end = reading(rig, io, pos, "end", step).await?;
                let d: Vec<f64> = (0..3).map(|i| end[i] - start[i]).collect();
                let (active, idle) = match t {
                    Tariff::T1 => (d[0], d[1]),
                    Tariff::T2 => (d[1], d[0]),
                };
                (
                    idle == 0.0 && (active - d[2]).abs() <= step + 1e-9 && d[2] > 0.0,
                    format!(
                        "{t:?} selected for 1 h: T1 +{:.0} Wh, T2 +{:.0} Wh, total +{:.0} Wh",
                        d[0], d[1], d[2]
                    ),
                )
            }
            Check::RandomSwitching => {
                // A small LCG from the plan: the same instants on every run of the plan.
                let mut x = p
                    .seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut t = Tariff::T1;
                for _ in 0..40 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let secs = 5.0 + (x >> 33) as f64 / (1u64 << 31) as f64 * 200.0;
                    rig.dwell(Duration::from_secs_f64(secs)).await;
                    t = if t == Tariff::T1 {
                        Tariff::T2
                    } else {
                        Tariff::T1
                    };
                    select(rig, pos, t).await?;
                }
                rig.dwell(settle).await;
                let end = reading(rig, io, pos, "end", step).await?;
                let (d1, d2, dt) = (end[0] - before[0], end[1] - before[1], end[2] - before[2]);
                // Each register floors on its own: the sum may trail the total by up to two steps.
                (
                    (d1 + d2 - dt).abs() <= 2.0 * step + 1e-9 && d1 > 0.0 && d2 > 0.0,
                    format!(
                        "40 switches: T1 +{d1:.0} Wh + T2 +{d2:.0} Wh = {:.0} Wh against total +{dt:.0} Wh (±2 steps of {step} Wh)",
                        d1 + d2
                    ),
                )
            }
            Check::Bounce => {
                select(rig, pos, Tariff::T2).await?;
                rig.dwell(Duration::from_millis(p.debounce_ms / 2)).await;
                select(rig, pos, Tariff::T1).await?;
                rig.dwell(Duration::from_secs(3600)).await;
                let end = reading(rig, io, pos, "end", step).await?;
                let active = read(rig, pos, Q::ActiveTariff).await?;
                (
                    end[1] == before[1] && active == 1.0,
                    format!(
                        "a {} ms pulse to T2 (debounce {} ms): T2 +{:.0} Wh, active tariff {active}",
                        p.debounce_ms / 2,
                        p.debounce_ms,
                        end[1] - before[1]
                    ),
                )
            }
            Check::PowerCycle => {
                select(rig, pos, Tariff::T2).await?;
                rig.dwell(Duration::from_secs(3600)).await;
                let loaded = reading(rig, io, pos, "loaded", step).await?;
                rig.off().await?;
                rig.dwell(Duration::from_secs(60)).await;
                energise_no_current(rig, pos).await?;
                rig.dwell(settle).await;
                let after = reading(rig, io, pos, "after", step).await?;
                (
                    after == loaded && loaded[1] > before[1],
                    format!(
                        "T1/T2/total {} Wh before the power cycle, {} Wh after",
                        wh(&loaded),
                        wh(&after)
                    ),
                )
            }
        };
        let at = rig.now();
        io.sample(
            at,
            if ok { 1.0 } else { 0.0 },
            "ok",
            serde_json::json!({ "before_wh": before }),
        );
        Ok(Measured::check(ok, summary, serde_json::Value::Null))
    }
}

/// Register energies to the register's resolution (0.01 kWh = 10 Wh, so
/// whole watt-hours), "3626910 / 5770 / 1368360": no float noise on screen.
fn wh(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.0}"))
        .collect::<Vec<_>>()
        .join(" / ")
}
