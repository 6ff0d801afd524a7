//! Defects a simulated meter can be given, declared in a rig file under
//! `[positions.sim.faults]`. The key names are a contract: labs use them to
//! check that each suite catches the defect it guards against. A missing key
//! means a good meter; an unknown key is an error naming it.

use serde::{Deserialize, Serialize};

use crate::quantity::{Amps, PhaseAngle, PowerFactor};

/// One point of an error curve as written in the rig file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    pub current_a: f64,
    pub pf: String,
    pub error_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactiveCurvePoint {
    pub current_a: f64,
    pub sin_phi: String,
    pub error_pct: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Active-energy error by current and power factor.
    #[serde(default)]
    pub error_curve: Vec<CurvePoint>,
    /// Reactive-energy error by current and sin φ.
    #[serde(default)]
    pub reactive_error_curve: Vec<ReactiveCurvePoint>,
    /// Standard deviation of the meter's error, redrawn every noise epoch
    /// (`NOISE_EPOCH` of rig time, and at every change of load).
    #[serde(default)]
    pub noise_pct: f64,
    /// Correlation time of the meter's error, seconds: with it the error is
    /// an Ornstein–Uhlenbeck process of standard deviation `noise_pct`,
    /// correlated exp(−Δt/τ), that runs on through load changes and source
    /// off/on, instead of independent draws every `NOISE_EPOCH`. A real
    /// bench's slow components (shunt self-heating, source and reference
    /// drift, beats with the line) outlast a point's gates (issue 15, item
    /// 1): only a reproducibility study over repeated set-ups shows them.
    pub noise_tau_s: Option<f64>,
    /// The current below which the meter registers nothing (a good meter
    /// starts well below Ist).
    pub starting_current_a: Option<f64>,
    /// Active power registered when the current is below the starting
    /// threshold (no-load creep).
    #[serde(default)]
    pub creep_w: f64,
    /// S0 ON duration regardless of the setting.
    pub s0_on_ms: Option<u64>,
    /// Loses every n-th S0 pulse (0 = never).
    #[serde(default)]
    pub s0_drop_every: u64,
    /// Counts T1 energy in T2 registers and the reverse.
    #[serde(default)]
    pub tariff_swapped: bool,
    /// Counts operating time whenever the meter is powered, ignoring its
    /// programmed active-power threshold (datasheet §7: the hour meter runs
    /// only above 0..50 % Pn as set).
    #[serde(default)]
    pub hour_meter_ignores_threshold: bool,
    /// Reply delay, uniform in [min, max] ms.
    pub latency_ms: Option<[u64; 2]>,
    /// Leaves every n-th request unanswered (0 = never).
    #[serde(default)]
    pub drop_response_every: u64,
    /// Answers frames whose CRC is wrong instead of ignoring them.
    #[serde(default)]
    pub answers_bad_crc: bool,
    /// The exception code sent for an illegal data address (a good meter: 2).
    pub exception_for_bad_address: Option<u8>,
    /// Answers requests addressed to another unit.
    #[serde(default)]
    pub answers_any_address: bool,
    /// Reboots once at this rig time (seconds since the rig opened).
    pub reboot_at_s: Option<f64>,
    /// A partial reset clears the total counters too (a firmware bug).
    #[serde(default)]
    pub partial_reset_clears_total: bool,
    /// The moving average ignores its setting and always uses this window.
    pub average_window_stuck_min: Option<u64>,
    /// Every n-th reply is this late (a spike, beyond the client's timeout
    /// when `ms` is large): `{ every = 13, ms = 400 }`.
    pub latency_spikes: Option<LatencySpikes>,
    /// Every n-th reply on the RTU line comes after a burst of garbage bytes
    /// (a cable glitch) (0 = never).
    #[serde(default)]
    pub garbage_every: u64,
    /// A slowly drifting meter: its active-energy error moves by this much
    /// per day of its age (`age_days` when the rig opens, plus the rig time
    /// since), the drift `metrig trend` must find over many nightly runs.
    #[serde(default)]
    pub drift_pct_per_day: f64,
    /// The meter's age in days when the rig opens (with `drift_pct_per_day`).
    #[serde(default)]
    pub age_days: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencySpikes {
    pub every: u64,
    pub ms: u64,
}

impl Faults {
    pub fn is_good(&self) -> bool {
        *self == Faults::default()
    }

    /// Checks every value; the error names the first bad one, its key
    /// under `prefix` (`positions[0].sim.faults.`) and what is allowed.
    pub fn validate(
        &self,
        c: &crate::files::Checker<'_>,
        prefix: &str,
    ) -> Result<(), crate::files::FileError> {
        let bad = |k: String, v: String, a: &str| Err(c.invalid(format!("{prefix}{k}"), v, a));
        for (i, p) in self.error_curve.iter().enumerate() {
            if !(p.current_a.is_finite() && p.current_a > 0.0 && p.current_a <= 1000.0) {
                return bad(
                    format!("error_curve[{i}].current_a"),
                    p.current_a.to_string(),
                    "within 0 (exclusive)..=1000 A",
                );
            }
            if let Err(e) = PowerFactor::parse(&p.pf) {
                return bad(
                    format!("error_curve[{i}].pf"),
                    format!("\"{}\"", p.pf),
                    &format!("{e}; write \"1\", \"0.5L\", \"0.8C\""),
                );
            }
            if !(p.error_pct.is_finite() && p.error_pct.abs() <= 100.0) {
                return bad(
                    format!("error_curve[{i}].error_pct"),
                    p.error_pct.to_string(),
                    "within -100..=100",
                );
            }
        }
        for (i, p) in self.reactive_error_curve.iter().enumerate() {
            if !(p.current_a.is_finite() && p.current_a > 0.0 && p.current_a <= 1000.0) {
                return bad(
                    format!("reactive_error_curve[{i}].current_a"),
                    p.current_a.to_string(),
                    "within 0 (exclusive)..=1000 A",
                );
            }
            if let Err(e) = PowerFactor::parse(&p.sin_phi) {
                return bad(
                    format!("reactive_error_curve[{i}].sin_phi"),
                    format!("\"{}\"", p.sin_phi),
                    &format!("{e}; write \"1\", \"0.5L\", \"0.25C\""),
                );
            }
            if !(p.error_pct.is_finite() && p.error_pct.abs() <= 100.0) {
                return bad(
                    format!("reactive_error_curve[{i}].error_pct"),
                    p.error_pct.to_string(),
                    "within -100..=100",
                );
            }
        }
        if !(0.0..=50.0).contains(&self.noise_pct) {
            return bad(
                "noise_pct".into(),
                self.noise_pct.to_string(),
                "within 0..=50",
            );
        }
        if let Some(t) = self.noise_tau_s
            && !(t.is_finite() && (1.0..=86_400.0).contains(&t))
        {
            return bad("noise_tau_s".into(), t.to_string(), "within 1..=86400 s");
        }
        if let Some(a) = self.starting_current_a
            && !(a.is_finite() && a > 0.0 && a <= 10.0)
        {
            return bad(
                "starting_current_a".into(),
                a.to_string(),
                "within 0 (exclusive)..=10 A",
            );
        }
        if !(0.0..=1000.0).contains(&self.creep_w) {
            return bad(
                "creep_w".into(),
                self.creep_w.to_string(),
                "within 0..=1000 W",
            );
        }
        if let Some(ms) = self.s0_on_ms
            && !(1..=10_000).contains(&ms)
        {
            return bad("s0_on_ms".into(), ms.to_string(), "within 1..=10000 ms");
        }
        if let Some([lo, hi]) = self.latency_ms
            && (lo > hi || hi > 60_000)
        {
            return bad(
                "latency_ms".into(),
                format!("[{lo}, {hi}]"),
                "[min, max] with min <= max <= 60000 ms",
            );
        }
        if let Some(code) = self.exception_for_bad_address
            && code == 0
        {
            return bad(
                "exception_for_bad_address".into(),
                "0".into(),
                "an exception code within 1..=255",
            );
        }
        if let Some(w) = self.average_window_stuck_min
            && !(1..=60).contains(&w)
        {
            return bad(
                "average_window_stuck_min".into(),
                w.to_string(),
                "within 1..=60 min",
            );
        }
        if let Some(sp) = self.latency_spikes
            && (sp.every == 0 || sp.ms > 10_000)
        {
            return bad(
                "latency_spikes".into(),
                format!("{{ every = {}, ms = {} }}", sp.every, sp.ms),
                "every >= 1 reply, ms within 0..=10000",
            );
        }
        if let Some(t) = self.reboot_at_s
            && !(t.is_finite() && (0.0..=1e7).contains(&t))
        {
            return bad(
                "reboot_at_s".into(),
                t.to_string(),
                "a rig time within 0..=10000000 s",
            );
        }
        if !(self.drift_pct_per_day.is_finite() && self.drift_pct_per_day.abs() <= 1.0) {
            return bad(
                "drift_pct_per_day".into(),
                self.drift_pct_per_day.to_string(),
                "within -1..=1 % per day",
            );
        }
        if !(self.age_days.is_finite() && (0.0..=36_500.0).contains(&self.age_days)) {
            return bad(
                "age_days".into(),
                self.age_days.to_string(),
                "within 0..=36500 days",
            );
        }
        Ok(())
    }
}

/// An error curve ready to evaluate: per power factor, points sorted by current.
#[derive(Debug, Clone, Default)]
pub struct ErrorCurve {
    branches: Vec<(PowerFactor, Vec<(f64, f64)>)>,
}

impl ErrorCurve {
    /// Builds from (current, pf-notation, error) triples already validated.
    pub fn new<'a>(points: impl Iterator<Item = (f64, &'a str, f64)>) -> Self {
        let mut branches: Vec<(PowerFactor, Vec<(f64, f64)>)> = Vec::new();
        for (i, pf, e) in points {
            let Ok(pf) = PowerFactor::parse(pf) else {
                continue;
            };
            match branches.iter_mut().find(|(p, _)| same_pf(*p, pf)) {
                Some((_, pts)) => pts.push((i, e)),
                None => branches.push((pf, vec![(i, e)])),
            }
        }
        for (_, pts) in &mut branches {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Self { branches }
    }

    /// The error at a current and power factor: linear in log(current)
    /// between listed currents, the end value beyond them, zero for a power
    /// factor the curve does not list.
    pub fn error_pct(&self, current: Amps, pf: PowerFactor) -> f64 {
        let Some((_, pts)) = self.branches.iter().find(|(p, _)| same_pf(*p, pf)) else {
            return 0.0;
        };
        let i = current.0;
        if pts.is_empty() || i <= 0.0 {
            return 0.0;
        }
        if i <= pts[0].0 {
            return pts[0].1;
        }
        if let Some(last) = pts.last()
            && i >= last.0
        {
            return last.1;
        }
        for w in pts.windows(2) {
            let ((i0, e0), (i1, e1)) = (w[0], w[1]);
            if i >= i0 && i <= i1 {
                if i1 == i0 {
                    return e1;
                }
                let x = (i.ln() - i0.ln()) / (i1.ln() - i0.ln());
                return e0 + x * (e1 - e0);
            }
        }
        0.0
    }
}

fn same_pf(a: PowerFactor, b: PowerFactor) -> bool {
    (a.magnitude - b.magnitude).abs() < 1e-3 && a.lag == b.lag
}

/// The power factor a load point presents, as the active table reads it.
pub fn active_pf(phase: PhaseAngle) -> PowerFactor {
    PowerFactor::from_angle(phase)
}

/// sin φ as the reactive table reads it (0.5L: 30° lagging).
pub fn reactive_sin(phase: PhaseAngle) -> PowerFactor {
    PowerFactor::sin_of(phase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve() -> ErrorCurve {
        ErrorCurve::new([(1.0, "0.8C", 0.0), (10.0, "0.8C", 1.3), (63.0, "0.8C", 0.0)].into_iter())
    }

    #[test]
    fn interpolates_in_log_current_and_holds_beyond() {
        let c = curve();
        let pf = PowerFactor::parse("0.8C").expect("valid");
        assert!((c.error_pct(Amps(10.0), pf) - 1.3).abs() < 1e-12);
        // Half way in log between 1 A and 10 A is √10 A.
        assert!((c.error_pct(Amps(10f64.sqrt()), pf) - 0.65).abs() < 1e-9);
        assert_eq!(c.error_pct(Amps(0.5), pf), 0.0);
        assert_eq!(c.error_pct(Amps(80.0), pf), 0.0);
        assert_eq!(
            c.error_pct(Amps(10.0), PowerFactor::UNITY),
            0.0,
            "pf not listed"
        );
    }

    /// `noise_tau_s` is range-checked like its neighbours: 1..=86400 s.
    #[test]
    fn a_noise_correlation_time_out_of_range_is_refused_by_name() {
        let path = std::path::Path::new("rig.toml");
        let c = crate::files::Checker::new(path);
        for bad in [0.5, 0.0, -3.0, 1e6, f64::NAN] {
            let f = Faults {
                noise_pct: 0.1,
                noise_tau_s: Some(bad),
                ..Faults::default()
            };
            let e = f
                .validate(&c, "positions[0].sim.faults.")
                .expect_err("refused");
            let text = e.to_string();
            assert!(
                text.contains("positions[0].sim.faults.noise_tau_s"),
                "{text}"
            );
            assert!(text.contains("1..=86400 s"), "{text}");
        }
        let ok = Faults {
            noise_pct: 0.1,
            noise_tau_s: Some(60.0),
            ..Faults::default()
        };
        assert!(ok.validate(&c, "").is_ok());
        assert!(!ok.is_good());
    }

    #[test]
    fn reactive_sin_notation() {
        let l = PowerFactor::parse("0.5L").expect("valid").angle_from_sin();
        assert_eq!(reactive_sin(l).notation(), "0.5L");
        let c = PowerFactor::parse("0.25C").expect("valid").angle_from_sin();
        assert_eq!(reactive_sin(c).notation(), "0.25C");
    }
}
