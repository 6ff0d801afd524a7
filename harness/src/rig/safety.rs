//! Limits checked before anything is energised.
//!
//! A load point must lie inside both the meter's ratings (Un ± tolerance,
//! Imax, the permitted frequency ranges) and the rig's own source limits.
//! Nothing reaches a source that fails this check.

use serde::{Deserialize, Serialize};

use crate::load_point::LoadPoint;
use crate::profile::Ratings;
use crate::quantity::{Amps, Hertz, Volts};

/// The source's own ratings, from the rig file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceLimits {
    pub max_voltage: Volts,
    pub max_current: Amps,
    pub frequency: (Hertz, Hertz),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SafetyError {
    #[error("{point}: {what} {value} exceeds the {whose} limit {limit}")]
    Beyond {
        point: String,
        what: &'static str,
        value: String,
        whose: String,
        limit: String,
    },
}

/// Checks a load point against the meter's ratings and the source's limits.
/// Voltage may go to Un·(1 + tolerance) — the no-load test's 1.15 Un for this
/// meter — and current to Imax.
pub fn check_load_point(
    point: &LoadPoint,
    meter: &Ratings,
    meter_name: &str,
    source: &SourceLimits,
) -> Result<(), SafetyError> {
    let beyond = |what, value: String, whose: String, limit: String| SafetyError::Beyond {
        point: point.to_string(),
        what,
        value,
        whose,
        limit,
    };
    let u_max = meter.u_max();
    if point.voltage.0 > u_max.0 + 1e-9 {
        return Err(beyond(
            "voltage",
            format!("{} V", point.voltage.0),
            format!("meter {meter_name}"),
            format!("{:.2} V (Un + {} %)", u_max.0, meter.un_tolerance_pct),
        ));
    }
    if point.voltage.0 > source.max_voltage.0 {
        return Err(beyond(
            "voltage",
            format!("{} V", point.voltage.0),
            "source".into(),
            format!("{} V", source.max_voltage.0),
        ));
    }
    if point.current.0 > meter.imax.0 + 1e-9 {
        return Err(beyond(
            "current",
            format!("{} A", point.current.0),
            format!("meter {meter_name}"),
            format!("{} A (Imax)", meter.imax.0),
        ));
    }
    if point.current.0 > source.max_current.0 {
        return Err(beyond(
            "current",
            format!("{} A", point.current.0),
            "source".into(),
            format!("{} A", source.max_current.0),
        ));
    }
    let f = point.frequency.0;
    if !meter
        .f_ranges
        .iter()
        .any(|(lo, hi)| f >= lo.0 * 0.98 - 1e-9 && f <= hi.0 * 1.02 + 1e-9)
    {
        // ±2 % beyond the permitted range is allowed for the frequency influence test.
        let ranges: Vec<String> = meter
            .f_ranges
            .iter()
            .map(|(a, b)| format!("{}..{} Hz", a.0, b.0))
            .collect();
        return Err(beyond(
            "frequency",
            format!("{f} Hz"),
            format!("meter {meter_name}"),
            format!("{} (±2 %)", ranges.join(" or ")),
        ));
    }
    if f < source.frequency.0.0 || f > source.frequency.1.0 {
        return Err(beyond(
            "frequency",
            format!("{f} Hz"),
            "source".into(),
            format!("{}..{} Hz", source.frequency.0.0, source.frequency.1.0),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::PowerFactor;

    fn ratings() -> Ratings {
        let p = crate::profile::parse_profile(
            include_str!("../../../fixtures/meters/legrand-412083.toml"),
            std::path::Path::new("legrand-412083.toml"),
        )
        .expect("fixture profile loads");
        p.ratings
    }

    const SOURCE: SourceLimits = SourceLimits {
        max_voltage: Volts(300.0),
        max_current: Amps(100.0),
        frequency: (Hertz(45.0), Hertz(65.0)),
    };

    #[test]
    fn rated_points_pass_and_beyond_fail() {
        let r = ratings();
        let ok = LoadPoint::new(Volts(264.5), Amps(63.0), PowerFactor::UNITY, Hertz(50.0));
        assert!(check_load_point(&ok, &r, "m", &SOURCE).is_ok());
        let hot = LoadPoint {
            current: Amps(64.0),
            ..ok
        };
        let err = check_load_point(&hot, &r, "m", &SOURCE).expect_err("beyond Imax");
        assert!(err.to_string().contains("Imax"), "{err}");
        let high = LoadPoint {
            voltage: Volts(270.0),
            ..ok
        };
        assert!(check_load_point(&high, &r, "m", &SOURCE).is_err());
        let small_source = SourceLimits {
            max_current: Amps(20.0),
            ..SOURCE
        };
        let err = check_load_point(&ok, &r, "m", &small_source).expect_err("beyond source");
        assert!(err.to_string().contains("source"), "{err}");
        let f = LoadPoint {
            frequency: Hertz(55.0),
            ..ok
        };
        assert!(check_load_point(&f, &r, "m", &SOURCE).is_err());
    }
}
