//! Small pieces every suite uses: building a point, judging a check that is
//! simply met or not, finding a position's link.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::quantity::{Amps, Hertz, PhaseAngle, PowerFactor, Volts};
use harness::rig::Rig;
use harness::rig::meter_link::MeterLink;
use harness::run::{LimitRef, PointOutcome, PointSpec, SuiteError};
use harness::stats::Verdict;

#[allow(clippy::too_many_arguments)]
pub fn point(
    suite: &str,
    position: usize,
    id: impl Into<String>,
    title: impl Into<String>,
    loads: Vec<LoadPoint>,
    rig_time: Duration,
    limit: Option<LimitRef>,
    params: serde_json::Value,
) -> PointSpec {
    PointSpec {
        suite: suite.into(),
        id: id.into(),
        position,
        title: title.into(),
        loads,
        rig_time,
        limit,
        params,
    }
}

pub fn load(u: Volts, i: Amps, pf: &str, f: Hertz) -> LoadPoint {
    LoadPoint::new(
        u,
        i,
        PowerFactor::parse(pf).unwrap_or(PowerFactor::UNITY),
        f,
    )
}

/// A load at a phase angle (for export and reactive quadrants).
pub fn load_at(u: Volts, i: Amps, phase_deg: f64, f: Hertz) -> LoadPoint {
    LoadPoint {
        voltage: u,
        current: i,
        phase: PhaseAngle(phase_deg),
        frequency: f,
    }
}

/// A check with no statistics: met, or not.
pub fn check(ok: bool, summary: impl Into<String>, details: serde_json::Value) -> PointOutcome {
    PointOutcome {
        verdict: if ok { Verdict::Pass } else { Verdict::Fail },
        mean_error_pct: None,
        expanded_uncertainty_pct: None,
        limit_pct: None,
        budget: None,
        summary: summary.into(),
        details,
    }
}

pub fn link(rig: &mut Rig, position: usize) -> Result<&mut Box<dyn MeterLink>, SuiteError> {
    rig.positions
        .get_mut(position)
        .and_then(|p| p.link.as_mut())
        .ok_or_else(|| SuiteError::Measure(format!("position {} has no Modbus link", position + 1)))
}

pub async fn read(
    rig: &mut Rig,
    position: usize,
    q: harness::profile::MeterQuantity,
) -> Result<f64, SuiteError> {
    Ok(link(rig, position)?
        .read(q)
        .await
        .map_err(SuiteError::from)?
        .canonical())
}

pub fn params<T: serde::de::DeserializeOwned>(p: &PointSpec) -> Result<T, SuiteError> {
    serde_json::from_value(p.params.clone())
        .map_err(|e| SuiteError::Plan(format!("{}: {e}", p.key())))
}

/// A point judged on its budget against its limit: the figures the record
/// keeps for it. The budget comes last so the summary can still read it.
pub fn judged(
    verdict: harness::stats::Verdict,
    limit: f64,
    summary: String,
    details: serde_json::Value,
    b: harness::stats::Budget,
) -> PointOutcome {
    PointOutcome {
        verdict,
        mean_error_pct: Some(b.mean_pct),
        expanded_uncertainty_pct: Some(b.expanded_pct),
        limit_pct: Some(limit),
        budget: Some(b),
        summary,
        details,
    }
}
