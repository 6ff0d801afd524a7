//! The SCPI instruments of a lab rig as the rig file describes them: where
//! they are, the command dialect as templates, how their answers parse, and
//! their own ranges. Every mistake is reported with its key and what is
//! allowed before anything is opened. `station` hands this module the
//! rig file's `[source.scpi]` and `[reference.scpi]` tables.

use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::files::{Checker, FileError};

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

/// The keys every SCPI table shares (`[source.scpi]`, `[reference.scpi]`),
/// read once for both.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScpiCommon {
    transport: ScpiTransport,
    timeout_ms: Option<u64>,
    error_query: Option<String>,
    identity_query: Option<String>,
    calibration_due: Option<NaiveDate>,
}

const COMMON_KEYS: [&str; 5] = [
    "transport",
    "timeout_ms",
    "error_query",
    "identity_query",
    "calibration_due",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScpiSource {
    apply: String,
    off: String,
    voltage_range_v: [f64; 2],
    current_range_a: [f64; 2],
    frequency_range_hz: [f64; 2],
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScpiReference {
    measure: String,
    measure_fields: Vec<String>,
    energy: String,
    energy_fields: Vec<String>,
    error_calculator: Option<RawErrorCalculator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrorCalculator {
    setup: String,
    start: String,
    stop: Option<String>,
    status: String,
    done: String,
    result: String,
    result_fields: Vec<String>,
    poll_ms: Option<u64>,
}

/// Deserialises one table of the rig file, naming it in the error.
fn table<T: serde::de::DeserializeOwned>(
    c: &Checker<'_>,
    key: &str,
    t: toml::Table,
) -> Result<T, FileError> {
    toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| FileError::Syntax {
            file: c.file.to_path_buf(),
            message: crate::files::clip(&format!("[{key}]: {}", e.message().trim_end())),
        })
}

/// Takes the shared keys out of `t` and checks them.
fn common(c: &Checker<'_>, prefix: &str, t: &mut toml::Table) -> Result<ScpiCommon, FileError> {
    let mut shared = toml::Table::new();
    for k in COMMON_KEYS {
        if let Some(v) = t.remove(k) {
            shared.insert(k.into(), v);
        }
    }
    let raw: RawScpiCommon = table(c, prefix, shared)?;
    let timeout_ms = c.count(
        format!("{prefix}.timeout_ms"),
        raw.timeout_ms.unwrap_or(2000),
        10..=60_000,
        "ms",
    )?;
    if let ScpiTransport::Serial { baud, .. } = &raw.transport {
        c.count(format!("{prefix}.transport.baud"), *baud, 300..=921_600, "")?;
    }
    Ok(ScpiCommon {
        transport: raw.transport,
        timeout: Duration::from_millis(timeout_ms),
        error_query: raw.error_query.unwrap_or_else(|| "SYST:ERR?".into()),
        identity_query: raw.identity_query.unwrap_or_else(|| "*IDN?".into()),
        calibration_due: raw.calibration_due,
    })
}

/// Why `template` is not a command with only `allowed` placeholders, all
/// closed; `None` if it is one.
pub fn check_template(template: &str, allowed: &[&str]) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Some("a template whose `{` are closed".into());
        };
        let name = &after[..close];
        if !allowed.contains(&name) {
            return Some(format!(
                "placeholders {}",
                allowed
                    .iter()
                    .map(|a| format!("{{{a}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    if template.trim().is_empty() {
        return Some("a command".into());
    }
    None
}

fn template(c: &Checker<'_>, key: &str, t: &str, allowed: &[&str]) -> Result<(), FileError> {
    match check_template(t, allowed) {
        None => Ok(()),
        Some(why) => Err(c.invalid(key, format!("\"{t}\""), why)),
    }
}

fn check_fields(
    c: &Checker<'_>,
    key: &str,
    fields: &[String],
    known: &[&str],
    required: &[&str],
) -> Result<(), FileError> {
    if fields.iter().any(|f| !known.contains(&f.as_str())) {
        return Err(c.invalid(
            key,
            format!("{fields:?}"),
            format!("names among {}", known.join(", ")),
        ));
    }
    if required.iter().any(|r| !fields.iter().any(|f| f == r)) {
        return Err(c.invalid(
            key,
            format!("{fields:?}"),
            format!("a list that names {}", required.join(", ")),
        ));
    }
    Ok(())
}

fn range(c: &Checker<'_>, key: &str, r: [f64; 2], max: f64) -> Result<(f64, f64), FileError> {
    if !(r[0] >= 0.0 && r[0] < r[1] && r[1] <= max) {
        return Err(c.invalid(
            key,
            format!("[{}, {}]", r[0], r[1]),
            format!("[low, high] with 0 <= low < high <= {max}"),
        ));
    }
    Ok((r[0], r[1]))
}

/// `[source.scpi]`.
pub fn source(c: &Checker<'_>, mut t: toml::Table) -> Result<ScpiSourceConfig, FileError> {
    let common = common(c, "source", &mut t)?;
    let raw: RawScpiSource = table(c, "source.scpi", t)?;
    template(c, "source.apply", &raw.apply, &["u", "i", "phi", "f"])?;
    template(c, "source.off", &raw.off, &[])?;
    Ok(ScpiSourceConfig {
        common,
        voltage_range: range(c, "source.voltage_range_v", raw.voltage_range_v, 1000.0)?,
        current_range: range(c, "source.current_range_a", raw.current_range_a, 200.0)?,
        frequency_range: range(
            c,
            "source.frequency_range_hz",
            raw.frequency_range_hz,
            1000.0,
        )?,
        apply: raw.apply,
        off: raw.off,
    })
}

/// `[reference.scpi]`.
pub fn reference(c: &Checker<'_>, mut t: toml::Table) -> Result<ScpiReferenceConfig, FileError> {
    let common = common(c, "reference", &mut t)?;
    let raw: RawScpiReference = table(c, "reference.scpi", t)?;
    template(c, "reference.measure", &raw.measure, &[])?;
    template(c, "reference.energy", &raw.energy, &[])?;
    check_fields(
        c,
        "reference.measure_fields",
        &raw.measure_fields,
        &MEASURE_FIELDS,
        &["u", "i", "f", "p"],
    )?;
    check_fields(
        c,
        "reference.energy_fields",
        &raw.energy_fields,
        &ENERGY_FIELDS,
        &["wh"],
    )?;
    let error_calculator = raw
        .error_calculator
        .map(|e| error_calculator(c, e))
        .transpose()?;
    Ok(ScpiReferenceConfig {
        common,
        measure: raw.measure,
        measure_fields: raw.measure_fields,
        energy: raw.energy,
        energy_fields: raw.energy_fields,
        error_calculator,
    })
}

/// `[reference.scpi.error_calculator]`.
fn error_calculator(
    c: &Checker<'_>,
    e: RawErrorCalculator,
) -> Result<ErrorCalculatorConfig, FileError> {
    let vars = ["input", "k", "n", "kind"];
    let key = |k: &str| format!("reference.error_calculator.{k}");
    template(c, &key("setup"), &e.setup, &vars)?;
    template(c, &key("start"), &e.start, &vars)?;
    template(c, &key("status"), &e.status, &vars)?;
    if let Some(stop) = &e.stop {
        template(c, &key("stop"), stop, &vars)?;
    }
    template(c, &key("result"), &e.result, &vars)?;
    check_fields(
        c,
        &key("result_fields"),
        &e.result_fields,
        &RESULT_FIELDS,
        &["error_pct", "reference_counts"],
    )?;
    let poll = c.count(key("poll_ms"), e.poll_ms.unwrap_or(200), 1..=10_000, "ms")?;
    Ok(ErrorCalculatorConfig {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_only_their_placeholders() {
        assert!(check_template("VOLT {u};CURR {i}", &["u", "i"]).is_none());
        let e = check_template("VOLT {v}", &["u", "i"]).expect("unknown");
        assert!(e.contains("{u}"), "{e:?}");
        assert!(check_template("VOLT {u", &["u"]).is_some());
        assert!(check_template("  ", &[]).is_some());
    }
}
