//! A load point: what the source applies to the meters under test.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::quantity::{Amps, Hertz, PhaseAngle, PowerFactor, Vars, VoltAmps, Volts, Watts};

/// One steady test condition: voltage, current, the current's phase angle
/// against the voltage, and frequency (EN 50470-3 §8.1 names a test point by
/// these four).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadPoint {
    pub voltage: Volts,
    pub current: Amps,
    pub phase: PhaseAngle,
    pub frequency: Hertz,
}

impl LoadPoint {
    pub fn new(voltage: Volts, current: Amps, pf: PowerFactor, frequency: Hertz) -> Self {
        Self {
            voltage,
            current,
            phase: pf.angle(),
            frequency,
        }
    }

    /// True active power P = U·I·cos φ.
    pub fn active_power(&self) -> Watts {
        Watts(self.voltage.0 * self.current.0 * self.phase.cos())
    }

    /// True reactive power Q = U·I·sin φ (positive inductive).
    pub fn reactive_power(&self) -> Vars {
        Vars(self.voltage.0 * self.current.0 * self.phase.sin())
    }

    pub fn apparent_power(&self) -> VoltAmps {
        VoltAmps(self.voltage.0 * self.current.0)
    }

    pub fn power_factor(&self) -> PowerFactor {
        self.phase.power_factor()
    }

    /// Parses the lab notation `"230V 10A 0.5L 50Hz"`: tokens in any order,
    /// each with its unit; the power factor may instead be an angle (`60deg`,
    /// `240deg` for export). Missing tokens take the given defaults. A space
    /// between value and unit, as SI writing puts it (`"230 V 10 A"`), is
    /// accepted: a unit standing alone joins the number before it.
    pub fn parse(text: &str, defaults: LoadPoint) -> Result<Self, String> {
        let mut point = defaults;
        let mut tokens: Vec<String> = Vec::new();
        for t in text.split_whitespace() {
            let unit_alone = t.chars().next().is_some_and(char::is_alphabetic);
            match tokens.last_mut() {
                Some(prev) if unit_alone && prev.parse::<f64>().is_ok() => prev.push_str(t),
                _ => tokens.push(t.to_string()),
            }
        }
        // Each quantity once: "230V 5A 1 50Hz 60A" is a typo, not 60 A.
        let mut given: Vec<(&str, &str)> = Vec::new();
        for token in tokens.iter().map(String::as_str) {
            let lower = token.to_ascii_lowercase();
            let kind = if lower.ends_with("hz") {
                "frequency"
            } else if lower.ends_with('v') {
                "voltage"
            } else if lower.ends_with("ma") || lower.ends_with('a') {
                "current"
            } else {
                "power factor or phase angle"
            };
            if let Some((_, first)) = given.iter().find(|(k, _)| *k == kind) {
                return Err(format!(
                    "`{text}` gives the {kind} twice (`{first}` and `{token}`); give it once"
                ));
            }
            given.push((kind, token));
            let number = |suffix: &str| -> Result<f64, String> {
                lower[..lower.len() - suffix.len()]
                    .parse::<f64>()
                    .map_err(|_| format!("`{token}` is not a number followed by {suffix}"))
            };
            if lower.ends_with("hz") {
                point.frequency = Hertz(number("hz")?);
            } else if lower.ends_with("deg") {
                point.phase = PhaseAngle(number("deg")?);
            } else if lower.ends_with("ma") {
                point.current = Amps::milliamps(number("ma")?);
            } else if lower.ends_with('v') {
                point.voltage = Volts(number("v")?);
            } else if lower.ends_with('a') {
                point.current = Amps(number("a")?);
            } else {
                point.phase = PowerFactor::parse(token)
                    .map_err(|e| format!("`{token}`: {e}; tokens are like 230V 10A 0.5L 50Hz"))?
                    .angle();
            }
        }
        for (name, v) in [
            ("voltage", point.voltage.0),
            ("current", point.current.0),
            ("frequency", point.frequency.0),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("{name} must be a non-negative number, got {v}"));
            }
        }
        Ok(point)
    }
}

impl fmt::Display for LoadPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phi = self.phase.normalised().degrees();
        let pf = if !(90.0..=270.0).contains(&phi) {
            self.power_factor().notation()
        } else {
            format!("{phi}deg")
        };
        write!(
            f,
            "{}V {}A {} {}Hz",
            crate::quantity::trim_float(self.voltage.0),
            crate::quantity::trim_float(self.current.0),
            pf,
            crate::quantity::trim_float(self.frequency.0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> LoadPoint {
        LoadPoint::new(Volts(230.0), Amps(10.0), PowerFactor::UNITY, Hertz(50.0))
    }

    #[test]
    fn a_quantity_given_twice_is_refused_not_overwritten() {
        let d = LoadPoint::new(Volts(230.0), Amps(5.0), PowerFactor::UNITY, Hertz(50.0));
        for text in [
            "230V 5A 1 50Hz 60A",
            "230V 240V 5A",
            "5A 1 0.5L",
            "50Hz 60Hz",
            "5A 500mA",
            "1 60deg",
        ] {
            let e = LoadPoint::parse(text, d).expect_err(text);
            assert!(e.contains("twice"), "{text}: {e}");
        }
        assert!(LoadPoint::parse("230V 5A 1 50Hz", d).is_ok());
    }

    #[test]
    fn a_space_between_value_and_unit_is_accepted() {
        let spaced = LoadPoint::parse("230 V 10 A 0.5 L 50 Hz", base()).expect("parses");
        let tight = LoadPoint::parse("230V 10A 0.5L 50Hz", base()).expect("parses");
        assert_eq!(spaced, tight);
        let p = LoadPoint::parse("207 V 500 mA", base()).expect("parses");
        assert_eq!(p.voltage, Volts(207.0));
        assert_eq!(p.current, Amps::milliamps(500.0));
        assert!(LoadPoint::parse("230 V V", base()).is_err());
    }

    #[test]
    fn parses_lab_notation() {
        let p = LoadPoint::parse("230V 10A 0.5L 50Hz", base()).expect("valid");
        assert!((p.active_power().0 - 1150.0).abs() < 1e-6);
        assert!(p.reactive_power().0 > 0.0);
        assert_eq!(p.to_string(), "230V 10A 0.5L 50Hz");
        let q = LoadPoint::parse("40mA", base()).expect("valid");
        assert!((q.current.0 - 0.04).abs() < 1e-12);
        let e = LoadPoint::parse("180deg", base()).expect("valid");
        assert!(e.active_power().0 < 0.0);
    }

    #[test]
    fn refuses_nonsense() {
        assert!(LoadPoint::parse("230X", base()).is_err());
        assert!(LoadPoint::parse("-5A", base()).is_err());
        assert!(LoadPoint::parse("fooV", base()).is_err());
    }
}
