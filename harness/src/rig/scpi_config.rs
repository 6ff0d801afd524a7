//! The SCPI instruments of a lab rig as the rig file describes them: where
//! they are, the command dialect as templates, how their answers parse, and
//! their own ranges. Every mistake is reported with its key and what is
//! allowed before anything is opened.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

/// Where an SCPI instrument is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScpiTransport {
    /// Raw socket, port 5025 style: `{ tcp = "192.168.1.20:5025" }`.
    Tcp(String),
    /// A serial port: `{ serial = "/dev/ttyUSB1", baud = 9600 }`.
    #[serde(untagged)]
    Serial { serial: PathBuf, baud: u32 },
}

impl std::fmt::Display for ScpiTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScpiTransport::Tcp(a) => write!(f, "tcp {a}"),
            ScpiTransport::Serial { serial, baud } => {
                write!(f, "serial {} {baud}", serial.display())
            }
        }
    }
}

/// What every SCPI instrument shares.
#[derive(Debug, Clone, PartialEq)]
pub struct ScpiCommon {
    pub transport: ScpiTransport,
    pub timeout: Duration,
    /// Read after every command; `0,"No error"` means none.
    pub error_query: String,
    pub identity_query: String,
    pub calibration_due: Option<NaiveDate>,
}

/// The source's dialect and its own ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct ScpiSourceConfig {
    pub common: ScpiCommon,
    /// With `{u}` V, `{i}` A, `{phi}` degrees, `{f}` Hz.
    pub apply: String,
    pub off: String,
    pub voltage_range: (f64, f64),
    pub current_range: (f64, f64),
    pub frequency_range: (f64, f64),
}

/// A reading field a reference's answer may hold.
pub const MEASURE_FIELDS: [&str; 7] = ["u", "i", "f", "p", "q", "s", "pf"];
pub const ENERGY_FIELDS: [&str; 2] = ["wh", "varh"];
pub const RESULT_FIELDS: [&str; 5] = [
    "error_pct",
    "reference_counts",
    "meter_pulses",
    "std_dev_pct",
    "skip",
];

#[derive(Debug, Clone, PartialEq)]
pub struct ScpiReferenceConfig {
    pub common: ScpiCommon,
    pub measure: String,
    pub measure_fields: Vec<String>,
    pub energy: String,
    pub energy_fields: Vec<String>,
    pub error_calculator: Option<ErrorCalculatorConfig>,
}

/// The reference's error calculator: templates with `{input}` (scanning
/// head, position + 1), `{k}` meter constant imp/kWh, `{n}` pulses,
/// `{kind}` ACT or REAC.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCalculatorConfig {
    pub setup: String,
    pub start: String,
    /// Sent when a gate times out, so the instrument does not keep counting.
    pub stop: Option<String>,
    pub status: String,
    /// What `status` answers once the gate is complete.
    pub done: String,
    pub result: String,
    pub result_fields: Vec<String>,
    pub poll: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScpiSource {
    pub transport: ScpiTransport,
    pub timeout_ms: Option<u64>,
    pub error_query: Option<String>,
    pub identity_query: Option<String>,
    pub calibration_due: Option<NaiveDate>,
    pub apply: String,
    pub off: String,
    pub voltage_range_v: [f64; 2],
    pub current_range_a: [f64; 2],
    pub frequency_range_hz: [f64; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScpiReference {
    pub transport: ScpiTransport,
    pub timeout_ms: Option<u64>,
    pub error_query: Option<String>,
    pub identity_query: Option<String>,
    pub calibration_due: Option<NaiveDate>,
    pub measure: String,
    pub measure_fields: Vec<String>,
    pub energy: String,
    pub energy_fields: Vec<String>,
    pub error_calculator: Option<RawErrorCalculator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawErrorCalculator {
    pub setup: String,
    pub start: String,
    pub stop: Option<String>,
    pub status: String,
    pub done: String,
    pub result: String,
    pub result_fields: Vec<String>,
    pub poll_ms: Option<u64>,
}

/// (key, value, allowed) of the first mistake.
pub(crate) type Mistake = (String, String, String);

fn common(
    prefix: &str,
    transport: ScpiTransport,
    timeout_ms: Option<u64>,
    error_query: Option<String>,
    identity_query: Option<String>,
    calibration_due: Option<NaiveDate>,
) -> Result<ScpiCommon, Mistake> {
    let timeout_ms = timeout_ms.unwrap_or(2000);
    if !(10..=60_000).contains(&timeout_ms) {
        return Err((
            format!("{prefix}.timeout_ms"),
            timeout_ms.to_string(),
            "10..=60000 ms".into(),
        ));
    }
    if let ScpiTransport::Serial { baud, .. } = &transport
        && !(300..=921_600).contains(baud)
    {
        return Err((
            format!("{prefix}.transport.baud"),
            baud.to_string(),
            "300..=921600".into(),
        ));
    }
    Ok(ScpiCommon {
        transport,
        timeout: Duration::from_millis(timeout_ms),
        error_query: error_query.unwrap_or_else(|| "SYST:ERR?".into()),
        identity_query: identity_query.unwrap_or_else(|| "*IDN?".into()),
        calibration_due,
    })
}

/// Checks that `template` uses only `allowed` placeholders, all closed.
pub fn check_template(key: &str, template: &str, allowed: &[&str]) -> Result<(), Mistake> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err((
                key.into(),
                format!("\"{template}\""),
                "a template whose `{` are closed".into(),
            ));
        };
        let name = &after[..close];
        if !allowed.contains(&name) {
            return Err((
                key.into(),
                format!("\"{template}\""),
                format!(
                    "placeholders {}",
                    allowed
                        .iter()
                        .map(|a| format!("{{{a}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    if template.trim().is_empty() {
        return Err((key.into(), "\"\"".into(), "a command".into()));
    }
    Ok(())
}

fn check_fields(
    key: &str,
    fields: &[String],
    known: &[&str],
    required: &[&str],
) -> Result<(), Mistake> {
    for f in fields {
        if !known.contains(&f.as_str()) {
            return Err((
                key.into(),
                format!("{fields:?}"),
                format!("names among {}", known.join(", ")),
            ));
        }
    }
    for r in required {
        if !fields.iter().any(|f| f == r) {
            return Err((
                key.into(),
                format!("{fields:?}"),
                format!("a list that names {}", required.join(", ")),
            ));
        }
    }
    Ok(())
}

fn range(key: &str, r: [f64; 2], max: f64) -> Result<(f64, f64), Mistake> {
    if !(r[0] >= 0.0 && r[0] < r[1] && r[1] <= max) {
        return Err((
            key.into(),
            format!("[{}, {}]", r[0], r[1]),
            format!("[low, high] with 0 <= low < high <= {max}"),
        ));
    }
    Ok((r[0], r[1]))
}

pub(crate) fn source(raw: RawScpiSource) -> Result<ScpiSourceConfig, Mistake> {
    check_template("source.apply", &raw.apply, &["u", "i", "phi", "f"])?;
    check_template("source.off", &raw.off, &[])?;
    Ok(ScpiSourceConfig {
        common: common(
            "source",
            raw.transport,
            raw.timeout_ms,
            raw.error_query,
            raw.identity_query,
            raw.calibration_due,
        )?,
        voltage_range: range("source.voltage_range_v", raw.voltage_range_v, 1000.0)?,
        current_range: range("source.current_range_a", raw.current_range_a, 200.0)?,
        frequency_range: range("source.frequency_range_hz", raw.frequency_range_hz, 1000.0)?,
        apply: raw.apply,
        off: raw.off,
    })
}

pub(crate) fn reference(raw: RawScpiReference) -> Result<ScpiReferenceConfig, Mistake> {
    check_template("reference.measure", &raw.measure, &[])?;
    check_template("reference.energy", &raw.energy, &[])?;
    check_fields(
        "reference.measure_fields",
        &raw.measure_fields,
        &MEASURE_FIELDS,
        &["u", "i", "f", "p"],
    )?;
    check_fields(
        "reference.energy_fields",
        &raw.energy_fields,
        &ENERGY_FIELDS,
        &["wh"],
    )?;
    let error_calculator = match raw.error_calculator {
        None => None,
        Some(e) => {
            let vars = ["input", "k", "n", "kind"];
            check_template("reference.error_calculator.setup", &e.setup, &vars)?;
            check_template("reference.error_calculator.start", &e.start, &vars)?;
            check_template("reference.error_calculator.status", &e.status, &vars)?;
            if let Some(stop) = &e.stop {
                check_template("reference.error_calculator.stop", stop, &vars)?;
            }
            check_template("reference.error_calculator.result", &e.result, &vars)?;
            check_fields(
                "reference.error_calculator.result_fields",
                &e.result_fields,
                &RESULT_FIELDS,
                &["error_pct", "reference_counts"],
            )?;
            let poll = e.poll_ms.unwrap_or(200);
            if !(1..=10_000).contains(&poll) {
                return Err((
                    "reference.error_calculator.poll_ms".into(),
                    poll.to_string(),
                    "1..=10000 ms".into(),
                ));
            }
            Some(ErrorCalculatorConfig {
                setup: e.setup,
                start: e.start,
                stop: e.stop,
                status: e.status,
                done: e.done,
                result: e.result,
                result_fields: e.result_fields,
                poll: Duration::from_millis(poll),
            })
        }
    };
    Ok(ScpiReferenceConfig {
        common: common(
            "reference",
            raw.transport,
            raw.timeout_ms,
            raw.error_query,
            raw.identity_query,
            raw.calibration_due,
        )?,
        measure: raw.measure,
        measure_fields: raw.measure_fields,
        energy: raw.energy,
        energy_fields: raw.energy_fields,
        error_calculator,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_only_their_placeholders() {
        assert!(check_template("k", "VOLT {u};CURR {i}", &["u", "i"]).is_ok());
        let e = check_template("k", "VOLT {v}", &["u", "i"]).expect_err("unknown");
        assert!(e.2.contains("{u}"), "{e:?}");
        assert!(check_template("k", "VOLT {u", &["u"]).is_err());
        assert!(check_template("k", "  ", &[]).is_err());
    }
}
