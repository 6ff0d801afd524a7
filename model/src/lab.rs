//! What ISO/IEC 17025 §7.8 asks a test report to carry beyond the results:
//! the laboratory's fixed facts (a lab file), the facts of one run (customer,
//! sample, operator, report number), the reference standard's calibration
//! certificate, and the environmental conditions each point was measured in
//! (EN 50470-3 §8 / Table 7: reference temperature and its tolerance).
//!
//! Record fields are a contract: every type here is written into the
//! journal's `run_started` header and the record, and read back by every
//! later metrig. Fields added later must be optional with serde defaults.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The laboratory's fixed facts, from `fixtures/labs/*.toml` (17025 §7.8.2.1 b, §7.8.2.1 k).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabInfo {
    /// The lab's legal name, as on its accreditation.
    pub name: String,
    /// The lab's address, one line per element.
    pub address: Vec<String>,
    /// "DAkkS D-PL-12345-01-00" — the accreditation body and number, if accredited.
    #[serde(default)]
    pub accreditation: Option<String>,
    /// The person who authorises the report (17025 §7.8.2.1 o).
    pub authoriser: String,
    /// Their function ("Head of the electricity metering laboratory").
    #[serde(default)]
    pub authoriser_role: Option<String>,
    /// The lab file's path and hash, so the record proves which one was used.
    #[serde(default)]
    pub file: Option<crate::events::FileRef>,
}

/// The facts of one run (17025 §7.8.2.1 c, e, f, g, h).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    /// Unique report number (17025 §7.8.2.1 c); printed on every page.
    #[serde(default)]
    pub report_number: Option<String>,
    /// The customer's name (and address) (§7.8.2.1 e).
    #[serde(default)]
    pub customer: Option<String>,
    /// Date the test item was received (§7.8.2.1 g, "date of receipt").
    #[serde(default)]
    pub received: Option<NaiveDate>,
    /// The person who ran the test.
    #[serde(default)]
    pub operator: Option<String>,
    /// The lab's identification of the test item (§7.8.2.1 f).
    #[serde(default)]
    pub sample_id: Option<String>,
}

impl RunFacts {
    /// The names (command-line flags without `--`) of the facts a type test
    /// needs and this run lacks, in a fixed order. `lab` is checked apart.
    pub fn missing(&self) -> Vec<&'static str> {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        let mut out = Vec::new();
        if blank(&self.report_number) {
            out.push("report-number");
        }
        if blank(&self.customer) {
            out.push("customer");
        }
        if self.received.is_none() {
            out.push("received");
        }
        if blank(&self.operator) {
            out.push("operator");
        }
        if blank(&self.sample_id) {
            out.push("sample-id");
        }
        out
    }

    /// `self`, each fact missing here taken from `other`.
    pub fn or(self, other: &RunFacts) -> RunFacts {
        RunFacts {
            report_number: self.report_number.or_else(|| other.report_number.clone()),
            customer: self.customer.or_else(|| other.customer.clone()),
            received: self.received.or(other.received),
            operator: self.operator.or_else(|| other.operator.clone()),
            sample_id: self.sample_id.or_else(|| other.sample_id.clone()),
        }
    }
}

/// A calibration certificate of an instrument (17025 §6.5 metrological
/// traceability; §7.8.2.1 asks for the equipment used to be identifiable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The instrument's role on the rig ("reference"), as in its identity.
    pub role: String,
    pub number: String,
    /// The laboratory that calibrated it.
    pub calibrating_lab: String,
    pub calibrated_on: NaiveDate,
    /// The chain to SI: "PTB via DAkkS D-K-15183-01-00".
    pub traceability: String,
}

/// What a point measured outside the reference conditions leads to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOutOfRange {
    /// Measure it and flag it in the record and the report.
    #[default]
    Flag,
    /// Stop the run: the point cannot be measured under the method.
    Refuse,
    /// Wait (rig time) for the conditions to come back, then flag if they did not.
    Wait,
}

impl OnOutOfRange {
    pub fn as_str(self) -> &'static str {
        match self {
            OnOutOfRange::Flag => "flag",
            OnOutOfRange::Refuse => "refuse",
            OnOutOfRange::Wait => "wait",
        }
    }
}

/// The plan's reference conditions (EN 50470-3 §8.1 / Table 7 for class B:
/// 23 °C ± 2 K; relative humidity is stated by the lab's method).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceConditions {
    pub temperature_c: f64,
    /// Half-width of the allowed temperature band, K.
    pub temperature_tolerance_k: f64,
    #[serde(default)]
    pub humidity_min_pct: Option<f64>,
    #[serde(default)]
    pub humidity_max_pct: Option<f64>,
    pub on_out_of_range: OnOutOfRange,
    /// How long `wait` waits at most, s of rig time.
    #[serde(default)]
    pub max_wait_s: f64,
    /// The clause the conditions come from ("EN 50470-3 §8.1, Table 7").
    pub clause: String,
}

impl ReferenceConditions {
    /// Why `reading` lies outside these conditions, or `None` if within.
    pub fn outside(&self, reading: &ClimateReading) -> Option<String> {
        let mut why = Vec::new();
        let dt = reading.temperature_c - self.temperature_c;
        // NaN is outside: only a number within the band is within.
        let within = dt.abs() <= self.temperature_tolerance_k;
        if !within {
            why.push(format!(
                "temperature {:.2} °C outside {} °C ± {} K",
                reading.temperature_c, self.temperature_c, self.temperature_tolerance_k
            ));
        }
        if let Some(lo) = self.humidity_min_pct
            && reading
                .humidity_pct
                .partial_cmp(&lo)
                .is_none_or(|o| o.is_lt())
        {
            why.push(format!(
                "relative humidity {:.1} % below {lo} %",
                reading.humidity_pct
            ));
        }
        if let Some(hi) = self.humidity_max_pct
            && reading
                .humidity_pct
                .partial_cmp(&hi)
                .is_none_or(|o| o.is_gt())
        {
            why.push(format!(
                "relative humidity {:.1} % above {hi} %",
                reading.humidity_pct
            ));
        }
        (!why.is_empty()).then(|| why.join(", "))
    }

    /// "23 °C ± 2 K, 30–75 % RH".
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} °C ± {} K",
            self.temperature_c, self.temperature_tolerance_k
        );
        match (self.humidity_min_pct, self.humidity_max_pct) {
            (Some(lo), Some(hi)) => s.push_str(&format!(", {lo}–{hi} % RH")),
            (Some(lo), None) => s.push_str(&format!(", at least {lo} % RH")),
            (None, Some(hi)) => s.push_str(&format!(", at most {hi} % RH")),
            (None, None) => {}
        }
        s
    }
}

/// One reading of the climate sensor, taken as a point starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClimateReading {
    /// Rig time of the reading, s.
    pub at_s: f64,
    pub temperature_c: f64,
    pub humidity_pct: f64,
    /// Set when the reading lies outside the plan's reference conditions: why.
    #[serde(default)]
    pub outside: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond() -> ReferenceConditions {
        ReferenceConditions {
            temperature_c: 23.0,
            temperature_tolerance_k: 2.0,
            humidity_min_pct: None,
            humidity_max_pct: Some(75.0),
            on_out_of_range: OnOutOfRange::Flag,
            max_wait_s: 0.0,
            clause: "EN 50470-3 §8.1".into(),
        }
    }

    fn at(t: f64, h: f64) -> ClimateReading {
        ClimateReading {
            at_s: 0.0,
            temperature_c: t,
            humidity_pct: h,
            outside: None,
        }
    }

    #[test]
    fn the_band_is_inclusive_and_nan_is_outside() {
        let c = cond();
        assert_eq!(c.outside(&at(25.0, 50.0)), None);
        assert_eq!(c.outside(&at(21.0, 50.0)), None);
        assert!(
            c.outside(&at(25.01, 50.0))
                .expect("outside")
                .contains("25.01 °C")
        );
        assert!(c.outside(&at(f64::NAN, 50.0)).is_some());
        assert!(
            c.outside(&at(23.0, 80.0))
                .expect("outside")
                .contains("above 75 %")
        );
    }

    #[test]
    fn missing_facts_are_named_in_order() {
        let f = RunFacts {
            customer: Some("ACME".into()),
            operator: Some("  ".into()),
            ..RunFacts::default()
        };
        assert_eq!(
            f.missing(),
            vec!["report-number", "received", "operator", "sample-id"]
        );
    }
}
