//! Typed physical quantities.
//!
//! No bare `f64` crosses a module boundary for a physical quantity: a current
//! cannot be passed where a voltage is expected, and every value carries its
//! unit in its type. Values are held in the SI base unit named by the type.

use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

use serde::{Deserialize, Serialize};

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $unit:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// The unit symbol the value is held in.
            pub const UNIT: &'static str = $unit;

            pub const fn new(value: f64) -> Self {
                Self(value)
            }

            pub const fn value(self) -> f64 {
                self.0
            }

            pub fn abs(self) -> Self {
                Self(self.0.abs())
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl Neg for $name {
            type Output = Self;
            fn neg(self) -> Self {
                Self(-self.0)
            }
        }

        impl Mul<f64> for $name {
            type Output = Self;
            fn mul(self, rhs: f64) -> Self {
                Self(self.0 * rhs)
            }
        }

        impl Div<f64> for $name {
            type Output = Self;
            fn div(self, rhs: f64) -> Self {
                Self(self.0 / rhs)
            }
        }

        /// The ratio of two values of the same quantity is a plain number.
        impl Div for $name {
            type Output = f64;
            fn div(self, rhs: Self) -> f64 {
                self.0 / rhs.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match f.precision() {
                    Some(p) => write!(f, "{:.*} {}", p, self.0, $unit),
                    None => write!(f, "{} {}", self.0, $unit),
                }
            }
        }
    };
}

quantity!(/// RMS voltage.
    Volts, "V");
quantity!(/// RMS current.
    Amps, "A");
quantity!(/// Supply frequency.
    Hertz, "Hz");
quantity!(/// Active power; positive is import (quadrants I and IV).
    Watts, "W");
quantity!(/// Reactive power; positive is inductive import (quadrants I and II).
    Vars, "var");
quantity!(/// Apparent power.
    VoltAmps, "VA");
quantity!(/// Active energy.
    WattHours, "Wh");
quantity!(/// Reactive energy.
    VarHours, "varh");
quantity!(/// A meter or reference constant, in impulses per kWh (or per kvarh).
    MeterConstant, "imp/kWh");
quantity!(/// The energy one pulse stands for, in Wh (or varh) per impulse.
    PulseWeight, "Wh/imp");
quantity!(/// A relative error or tolerance, in percent.
    Percent, "%");
quantity!(/// Ambient temperature.
    Celsius, "°C");

impl Amps {
    pub fn milliamps(ma: f64) -> Self {
        Self(ma / 1000.0)
    }
}

impl MeterConstant {
    /// The pulse weight this constant implies (k = 1000 imp/kWh ⇔ 1 Wh/imp).
    pub fn weight(self) -> PulseWeight {
        PulseWeight(1000.0 / self.0)
    }
}

impl PulseWeight {
    pub fn constant(self) -> MeterConstant {
        MeterConstant(1000.0 / self.0)
    }
}

impl Watts {
    /// Energy delivered at this power over a duration.
    pub fn over(self, d: std::time::Duration) -> WattHours {
        WattHours(self.0 * d.as_secs_f64() / 3600.0)
    }
}

impl Vars {
    pub fn over(self, d: std::time::Duration) -> VarHours {
        VarHours(self.0 * d.as_secs_f64() / 3600.0)
    }
}

impl WattHours {
    pub fn from_kwh(kwh: f64) -> Self {
        Self(kwh * 1000.0)
    }

    pub fn kwh(self) -> f64 {
        self.0 / 1000.0
    }

    /// The relative error of `self` against a reference energy, in percent
    /// (EN 50470-3: e = (E_meter − E_ref) / E_ref × 100).
    pub fn error_against(self, reference: WattHours) -> Percent {
        Percent((self.0 - reference.0) / reference.0 * 100.0)
    }
}

impl VarHours {
    pub fn error_against(self, reference: VarHours) -> Percent {
        Percent((self.0 - reference.0) / reference.0 * 100.0)
    }
}

/// Phase angle of the current against the voltage, in degrees.
///
/// The sign convention is IEC 62053-23's: a positive angle means the current
/// lags (inductive load, quadrant I); 0..90 is quadrant I, 90..180 quadrant II,
/// 180..270 quadrant III, 270..360 quadrant IV.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhaseAngle(pub f64);

impl PhaseAngle {
    pub const UNIT: &'static str = "°";

    pub fn degrees(self) -> f64 {
        self.0
    }

    pub fn radians(self) -> f64 {
        self.0.to_radians()
    }

    /// The angle normalised into [0, 360).
    pub fn normalised(self) -> Self {
        Self(self.0.rem_euclid(360.0))
    }

    pub fn cos(self) -> f64 {
        snap(self.radians().cos())
    }

    pub fn sin(self) -> f64 {
        snap(self.radians().sin())
    }

    /// The power factor as the standards' tables write it.
    pub fn power_factor(self) -> PowerFactor {
        PowerFactor::from_angle(self)
    }
}

/// Trigonometric results this close to a round value are that value, so that
/// 90° gives an exact zero active power rather than 6e-17 W.
fn snap(x: f64) -> f64 {
    for r in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        if (x - r).abs() < 1e-12 {
            return r;
        }
    }
    x
}

impl fmt::Display for PhaseAngle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}°", self.0)
    }
}

/// Whether a load is inductive (current lags) or capacitive (current leads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lag {
    /// Inductive: "L" in the standards' tables.
    L,
    /// Capacitive: "C".
    C,
}

/// A power factor (or sin φ) as EN 50470-3 and IEC 62053-23 tables write it:
/// a magnitude and, unless it is 1 (or 0), an inductive or capacitive sign —
/// `"1"`, `"0.5L"`, `"0.8C"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerFactor {
    pub magnitude: f64,
    pub lag: Option<Lag>,
}

impl PowerFactor {
    pub const UNITY: PowerFactor = PowerFactor {
        magnitude: 1.0,
        lag: None,
    };

    /// Parses the tables' notation: `1`, `0.5L`, `0.8C` (case-insensitive suffix).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (num, lag) = match t.chars().last() {
            Some('L' | 'l') => (&t[..t.len() - 1], Some(Lag::L)),
            Some('C' | 'c') => (&t[..t.len() - 1], Some(Lag::C)),
            _ => (t, None),
        };
        let magnitude: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a power factor (write 1, 0.5L or 0.8C)"))?;
        if !(0.0..=1.0).contains(&magnitude) {
            return Err(format!("power factor `{text}` must lie within 0..1"));
        }
        if lag.is_none() && magnitude < 1.0 && magnitude > 0.0 {
            return Err(format!(
                "power factor `{text}` below 1 needs L (inductive) or C (capacitive)"
            ));
        }
        let lag = if magnitude >= 1.0 { None } else { lag };
        Ok(Self { magnitude, lag })
    }

    /// The phase angle for import at this power factor: inductive loads lag
    /// (positive angle), capacitive loads lead (negative angle).
    pub fn angle(self) -> PhaseAngle {
        let phi = self.magnitude.clamp(0.0, 1.0).acos().to_degrees();
        match self.lag {
            Some(Lag::C) => PhaseAngle(-phi),
            _ => PhaseAngle(phi),
        }
    }

    /// The reactive table's sin φ notation read as an angle: sin φ = 0.5L is
    /// 30° lagging, 0.5C is 30° leading, 1 is 90° (pure reactive, inductive).
    pub fn angle_from_sin(self) -> PhaseAngle {
        let phi = self.magnitude.clamp(0.0, 1.0).asin().to_degrees();
        match self.lag {
            Some(Lag::C) => PhaseAngle(-phi),
            _ => PhaseAngle(phi),
        }
    }

    pub fn from_angle(angle: PhaseAngle) -> Self {
        let c = angle.cos();
        let s = angle.sin();
        let magnitude = (c.abs() * 1e6).round() / 1e6;
        let lag = if magnitude >= 1.0 || s == 0.0 {
            None
        } else if (c >= 0.0) == (s > 0.0) {
            // Quadrants I and III: current lags its own direction's voltage.
            Some(Lag::L)
        } else {
            Some(Lag::C)
        };
        Self { magnitude, lag }
    }

    /// sin φ as the reactive tables read it (IEC 62053-23; 0.5L: 30°
    /// lagging): what the simulator's error curves and a reactive point's
    /// record both name.
    pub fn sin_of(angle: PhaseAngle) -> Self {
        let s = angle.sin();
        let c = angle.cos();
        let magnitude = (s.abs() * 1e6).round() / 1e6;
        let lag = if magnitude >= 1.0 || c == 0.0 {
            None
        } else if (s >= 0.0) == (c > 0.0) {
            Some(Lag::L)
        } else {
            Some(Lag::C)
        };
        Self { magnitude, lag }
    }

    /// The tables' text for this power factor.
    pub fn notation(self) -> String {
        let m = trim_float(self.magnitude);
        match self.lag {
            None => m,
            Some(Lag::L) => format!("{m}L"),
            Some(Lag::C) => format!("{m}C"),
        }
    }
}

impl fmt::Display for PowerFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.notation())
    }
}

/// A float written without trailing zeros: 0.5, 1, 0.25.
pub fn trim_float(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_factor_notation_round_trips() {
        for text in ["1", "0.5L", "0.8C", "0.25L", "0"] {
            let pf = PowerFactor::parse(text).expect("valid");
            assert_eq!(pf.notation(), text);
            if pf.magnitude > 0.0 {
                assert_eq!(PowerFactor::from_angle(pf.angle()).notation(), text);
            }
        }
    }

    #[test]
    fn inductive_lags_and_capacitive_leads() {
        let l = PowerFactor::parse("0.5L").expect("valid").angle();
        let c = PowerFactor::parse("0.8C").expect("valid").angle();
        assert!((l.degrees() - 60.0).abs() < 1e-9);
        assert!(l.sin() > 0.0, "inductive import has positive Q");
        assert!(c.sin() < 0.0, "capacitive import has negative Q");
        assert!((c.cos() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn bad_power_factors_are_refused() {
        assert!(PowerFactor::parse("0.5").is_err());
        assert!(PowerFactor::parse("1.2").is_err());
        assert!(PowerFactor::parse("abc").is_err());
    }

    #[test]
    fn energy_from_power_and_time() {
        let e = Watts(2300.0).over(std::time::Duration::from_secs(36_000));
        assert!((e.kwh() - 23.0).abs() < 1e-12);
    }
}
