//! `measurements` — IEC 61557-12: U, I, f, P, Q, S and PF read over Modbus
//! against the reference standard at a grid of load points, each against its
//! class (datasheet §7). Register resolution and the reference's uncertainty
//! enter the budget; f and PF are judged in absolute units.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::profile::MeterQuantity as Q;
use harness::rig::reference_model::ReferenceQuantity as RQ;
use harness::run::{Measured, PlanContext, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::Component;
use harness::stats::type_a::TypeA;
use serde::{Deserialize, Serialize};

use crate::common::{link, load};
use crate::limits::{Row, measurements as m};

#[derive(Debug, Default)]
pub struct Measurements;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    quantity: Q,
    /// Judged in absolute units (f in Hz, PF in PF units) rather than percent.
    absolute: bool,
}

impl Declares for Measurements {
    const TITLE: &'static str = "Measurements over Modbus, IEC 61557-12 classes";
    type Params = Params;

    /// Any order: each point sets its own load and reads instantaneous values: none needs what another left (issue 20).
    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let mut out = Vec::new();
        if !profile.has_modbus() {
            return Ok(out);
        }
        let r = &profile.ratings;
        let ib = r.iref;
        let grid: [(&str, harness::quantity::Amps, &str); 7] = [
            ("0.05ib-pf1", ib * 0.05, "1"),
            ("0.1ib-pf1", ib * 0.1, "1"),
            ("ib-pf1", ib, "1"),
            ("imax-pf1", r.imax, "1"),
            ("0.1ib-pf0.5L", ib * 0.1, "0.5L"),
            ("ib-pf0.5L", ib, "0.5L"),
            ("ib-pf0.8C", ib, "0.8C"),
        ];
        for (gid, i, pf) in grid {
            let l = load(r.un, i, pf, r.fn_default());
            let low_p = if pf == "1" {
                i.0 < 0.1 * ib.0 - 1e-9
            } else {
                i.0 < 0.2 * ib.0 - 1e-9
            };
            let rows: [(Q, Row, bool); 7] = [
                (Q::Voltage, m::VOLTAGE, false),
                (Q::Current, m::CURRENT, false),
                (Q::Frequency, m::FREQUENCY, true),
                (
                    Q::ActivePower,
                    if low_p { m::P_LOW } else { m::P_HIGH },
                    false,
                ),
                (Q::ReactivePower, m::Q, false),
                (Q::ApparentPower, m::S, false),
                (Q::PowerFactor, m::PF, true),
            ];
            for (q, row, absolute) in rows {
                if profile.register(q).is_none() {
                    continue;
                }
                // Q is not judged at PF 1, where it is zero.
                if q == Q::ReactivePower && pf == "1" {
                    continue;
                }
                let limit = Limit::of(row);
                let rig_time = ctx.plan.settle + Duration::from_secs(ctx.repetitions as u64);
                let planned_u = expected(ctx, profile, row, q, l, absolute);
                let point = Planned::new(
                    format!("{gid}-{q}"),
                    format!("{q} at {l}"),
                    vec![l],
                    rig_time,
                    Params {
                        load: l,
                        quantity: q,
                        absolute,
                    },
                )
                .judged_by(limit);
                out.push(match planned_u {
                    Some(u) => point.sized(u),
                    None => point,
                });
            }
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        rig.energise(p.load).await?;
        rig.dwell(io.settle).await;
        let profile = rig.positions[point.position].profile.clone();
        let reg = profile
            .register(p.quantity)
            .cloned()
            .ok_or_else(|| SuiteError::Plan(format!("no {} register", p.quantity)))?;
        let float = reg.place.coding.kind == harness::profile::RegisterKind::F32;
        let mut values = Vec::new();
        let mut reference_u = 0.0;
        let mut truth = 0.0;
        for _ in 0..io.repetitions.max(1) {
            let r = rig
                .reference
                .as_mut()
                .ok_or_else(|| SuiteError::Measure("no reference standard".into()))?
                .measure()
                .await?;
            reference_u = r.uncertainty.0;
            truth = match p.quantity {
                Q::Voltage => r.voltage.0,
                Q::Current => r.current.0,
                Q::Frequency => r.frequency.0,
                Q::ActivePower => r.active_power.0.abs(),
                Q::ReactivePower => r.reactive_power.0.abs(),
                Q::ApparentPower => r.apparent_power.0,
                Q::PowerFactor => r.power_factor.magnitude,
                _ => f64::NAN,
            };
            let read = link(rig, point.position)?
                .read(p.quantity)
                .await?
                .canonical()
                .abs();
            let value = if p.absolute {
                read - truth
            } else {
                (read - truth) / truth * 100.0
            };
            let at = rig.now();
            io.sample(
                at,
                value,
                if p.absolute { "abs" } else { "%" },
                serde_json::json!({ "meter": read, "reference": truth }),
            );
            values.push(value);
            rig.dwell(Duration::from_secs(1)).await;
        }
        // The register's step: a reading is off by up to half a step (a float's last bit).
        let step = if float {
            truth.abs() * f64::from(f32::EPSILON)
        } else {
            reg.place.step()
        };
        let resolution = if p.absolute {
            step / 2.0
        } else {
            step / 2.0 / truth * 100.0
        };
        // The reference's own figure for this quantity at this phase angle
        // (`[metrology.reference]` of the rig file, or the model its two
        // `[reference]` figures imply): f in Hz and PF in PF units carry their
        // own, not the power figure (issue 15, item 3).
        let rq = match p.quantity {
            Q::Voltage => Some(RQ::Voltage),
            Q::Current => Some(RQ::Current),
            Q::Frequency => Some(RQ::Frequency),
            Q::ActivePower => Some(RQ::ActiveEnergy),
            Q::ReactivePower => Some(RQ::ReactiveEnergy),
            Q::ApparentPower => Some(RQ::ApparentPower),
            Q::PowerFactor => Some(RQ::PowerFactor),
            _ => None,
        };
        let reference_u = match rq {
            Some(q) => rig.config.reference_model().expanded(q, p.load.phase.0),
            None => reference_u,
        };
        let reference = Component::from_expanded(
            &format!("reference standard, {} (certificate, k = 2)", p.quantity),
            reference_u,
            2.0,
        );
        // Readings a second apart share any slow component of the meter's
        // error: type A counts their lag-1 autocorrelation (effective n).
        // The rig's reproducibility floor is a study of energy errors, not of
        // U, I, f or PF readings, so none is applied here.
        let type_a = TypeA::of(&values, None);
        let b = type_a.budget(
            vec![
                reference,
                Component::rectangular("register resolution (±½ step)", resolution),
            ],
            None,
        );
        let unit = if p.absolute {
            if p.quantity == Q::Frequency {
                " Hz"
            } else {
                ""
            }
        } else {
            " %"
        };
        Ok(Measured::figure(
            b,
            serde_json::json!({ "quantity": p.quantity, "absolute": p.absolute, "register_step": step, "load": p.load.to_string() }),
            move |b, limit| {
                format!(
                    "{} error {:+.4}{unit} ± {:.4}{unit} against ±{limit}{unit}",
                    p.quantity, b.mean_pct, b.expanded_pct
                )
            },
        ))
    }
}

/// The U a relative reading is expected to reach (issue 20's dry-run
/// column): the reference's figure for the quantity and ±½ register step of
/// the true value. `None` for the absolute rows (Hz, PF units).
fn expected(
    ctx: &PlanContext<'_>,
    profile: &MeterProfile,
    row: Row,
    q: Q,
    l: harness::load_point::LoadPoint,
    absolute: bool,
) -> Option<harness::run::PlannedU> {
    if absolute {
        return None;
    }
    let (rq, truth) = match q {
        Q::Voltage => (RQ::Voltage, l.voltage.0),
        Q::Current => (RQ::Current, l.current.0),
        Q::ActivePower => (RQ::ActiveEnergy, l.active_power().0.abs()),
        Q::ReactivePower => (RQ::ReactiveEnergy, l.reactive_power().0.abs()),
        Q::ApparentPower => (RQ::ApparentPower, l.voltage.0 * l.current.0),
        _ => return None,
    };
    let reg = profile.register(q)?;
    let step = if reg.place.coding.kind == harness::profile::RegisterKind::F32 {
        truth * f64::from(f32::EPSILON)
    } else {
        reg.place.step()
    };
    Some(crate::common::expected_u(
        ctx,
        row,
        format!("{q} register (±½ step) against the reference"),
        ctx.reference_u(rq, l.phase.0),
        &[step / 2.0 / truth.max(f64::MIN_POSITIVE) * 100.0],
    ))
}
