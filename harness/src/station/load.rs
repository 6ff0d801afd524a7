//! The rig file, section by section (as `profile::load` reads a profile):
//! `[rig]`, `[source]`, `[reference]`, then each `[[positions]]` with its
//! link, retry, simulated meter, pulse capture and tariff output, then the
//! RS485 lines the positions share. Each section is checked on its own; every
//! number is finite and within a stated range, and every refusal names the
//! file, the key, the value and what is allowed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::RigFile;
use crate::drivers::gpio_pulse_input::GpioPulseConfig;
use crate::drivers::scpi::config::{self as scpi, ScpiSourceConfig};
use crate::drivers::{LabInstruments, LabPosition, TariffConfig};
use crate::files::{Checker, FileError};
use crate::profile::{Framing, LineSettings, MeterProfile, Variant, load_profile};
use crate::quantity::{Amps, Hertz, MeterConstant, Percent, Volts};
use crate::rig::config::{
    InstrumentKind, LinkConfig, PositionConfig, ReferenceConfig, RigConfig, RigKind, SourceConfig,
};
use crate::rig::pulse_input::PulseChannel;
use crate::rig::retry::{OnLost, RetryPolicy};
use crate::rig::safety::SourceLimits;
use crate::sim::LinePacing;
use crate::sim::SimMeterConfig;
use crate::sim::faults::Faults;
use crate::sim::meter_model::SimIdentity;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRig {
    rig: RawRigHead,
    source: RawSource,
    reference: RawReference,
    positions: Vec<RawPosition>,
    #[serde(default)]
    metrology: crate::rig::reference_model::RigMetrology,
    climate: Option<RawClimate>,
}

/// `[climate]`: the bench's climate sensor (issue 19).
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum RawClimate {
    Sim {
        temperature_c: f64,
        humidity_pct: f64,
        #[serde(default)]
        temperature_drift_k_per_h: f64,
        #[serde(default)]
        humidity_drift_pct_per_h: f64,
    },
    ModbusTcp {
        address: String,
        #[serde(default = "default_unit")]
        unit: u8,
        temperature_register: u16,
        temperature_scale: f64,
        humidity_register: u16,
        humidity_scale: f64,
        #[serde(default = "default_climate_timeout")]
        timeout_ms: u64,
        maker: String,
        model: String,
        serial: String,
        calibration_due: Option<chrono::NaiveDate>,
    },
}

fn default_unit() -> u8 {
    1
}
fn default_climate_timeout() -> u64 {
    500
}

/// `[reference.certificate]`: the reference's calibration certificate.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertificate {
    number: String,
    calibrating_lab: String,
    calibrated_on: chrono::NaiveDate,
    traceability: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRigHead {
    name: String,
    kind: RigKind,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    manual_energising: bool,
    line_pacing: Option<LinePacing>,
}

fn default_seed() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    kind: InstrumentKind,
    max_voltage_v: f64,
    max_current_a: f64,
    frequency_hz: [f64; 2],
    scpi: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    kind: InstrumentKind,
    #[serde(default = "default_u")]
    uncertainty_pct: f64,
    #[serde(default = "default_u_low")]
    uncertainty_low_pf_pct: f64,
    #[serde(default = "default_k")]
    constant_imp_per_kwh: f64,
    scpi: Option<toml::Table>,
    certificate: Option<RawCertificate>,
}

fn default_u() -> f64 {
    0.02
}
fn default_u_low() -> f64 {
    0.04
}
fn default_k() -> f64 {
    1_000_000.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPosition {
    meter: PathBuf,
    link: RawLink,
    address: Option<u8>,
    timeout_ms: Option<u64>,
    sim: Option<RawSim>,
    pulses: Option<RawPulses>,
    tariff: Option<RawTariff>,
    retry: Option<RawRetry>,
}

/// `[positions.retry]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    attempts: Option<u32>,
    backoff_ms: Option<u64>,
    on_lost: Option<OnLost>,
    wait_for_meter_s: Option<u64>,
}

/// A lab position's pulse capture.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum RawPulses {
    Gpio {
        chip: PathBuf,
        led: Option<u32>,
        s0: Option<u32>,
        #[serde(default)]
        debounce_us: u64,
        #[serde(default)]
        active_low: bool,
    },
}

/// A lab position's tariff output.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum RawTariff {
    Gpio {
        chip: PathBuf,
        line: u32,
        #[serde(default)]
        active_low: bool,
    },
    ModbusCoil {
        address: String,
        unit: u8,
        coil: u16,
    },
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum RawLink {
    None,
    SimRtu {
        bus: Option<String>,
    },
    SimTcp,
    Rtu {
        device: PathBuf,
        baud: Option<u32>,
        framing: Option<Framing>,
        inter_frame_delay_ms: Option<f64>,
    },
    Tcp {
        address: String,
    },
    RtuOverTcp {
        address: String,
    },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSim {
    model_id: Option<u32>,
    serial_number: Option<u32>,
    firmware: Option<String>,
    #[serde(default)]
    faults: Faults,
}

/// The whole file: each section in turn.
pub(super) fn parse(text: &str, path: &Path) -> Result<RigFile, FileError> {
    let raw: RawRig = toml::from_str(text).map_err(|e| FileError::syntax(path, &e))?;
    let c = Checker::new(path);
    let kind = raw.rig.kind;
    let (source, source_scpi) = source(&c, kind, raw.source)?;
    let (reference, reference_scpi) = reference(&c, kind, raw.reference)?;
    let count = raw.positions.len();
    c.count("positions", count, 1..=64, "positions")?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut positions = Vec::new();
    let mut sims = Vec::new();
    let mut lab_positions = Vec::new();
    for (i, p) in raw.positions.into_iter().enumerate() {
        let (position, sim, lab) = position(&c, kind, base, i, p)?;
        positions.push(position);
        sims.extend(sim);
        lab_positions.push(lab);
    }
    check_shared_lines(&c, &positions)?;
    raw.metrology
        .validate()
        .map_err(|e| c.invalid(e.key, crate::files::show(e.value), e.allowed))?;
    if kind == RigKind::Lab && raw.rig.line_pacing.is_some() {
        return Err(c.invalid(
            "rig.line_pacing",
            format!("{:?}", raw.rig.line_pacing),
            "only on a simulated rig (a real line is paced by its wire)",
        ));
    }
    Ok(RigFile {
        config: RigConfig {
            file: path.to_path_buf(),
            name: raw.rig.name,
            kind,
            seed: raw.rig.seed,
            manual_energising: raw.rig.manual_energising,
            source,
            reference,
            positions,
            metrology: raw.metrology,
        },
        climate: raw.climate.map(|r| climate(&c, kind, r)).transpose()?,
        line_pacing: raw.rig.line_pacing.unwrap_or_default(),
        sims,
        lab: LabInstruments {
            source: source_scpi,
            reference: reference_scpi,
            positions: lab_positions,
        },
    })
}

/// Whether an instrument of `k` belongs on a rig of `kind`.
fn instrument_kind(
    c: &Checker<'_>,
    key: &str,
    kind: RigKind,
    k: InstrumentKind,
) -> Result<(), FileError> {
    let (ok, allowed) = match kind {
        RigKind::Sim => (k == InstrumentKind::Sim, "\"sim\" on a simulated rig"),
        RigKind::Lab => (
            matches!(k, InstrumentKind::None | InstrumentKind::Scpi),
            "\"scpi\" or \"none\" on a lab rig (none: the meter is energised by hand and only read)",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(c.invalid(key, format!("{k:?}").to_lowercase(), allowed))
    }
}

/// A `[section.scpi]` table: present exactly when `kind = "scpi"`.
fn scpi_table(
    c: &Checker<'_>,
    section: &str,
    k: InstrumentKind,
    table: Option<toml::Table>,
    missing: &str,
) -> Result<Option<toml::Table>, FileError> {
    match (k, table) {
        (InstrumentKind::Scpi, Some(t)) => Ok(Some(t)),
        (InstrumentKind::Scpi, None) => {
            Err(c.invalid(format!("{section}.scpi"), "(missing)", missing))
        }
        (_, Some(_)) => Err(c.invalid(
            format!("{section}.scpi"),
            "(a table)",
            format!("only with {section}.kind = \"scpi\""),
        )),
        (_, None) => Ok(None),
    }
}

/// `[source]`: the rig's own safety limits, within what the instrument can do.
fn source(
    c: &Checker<'_>,
    kind: RigKind,
    s: RawSource,
) -> Result<(SourceConfig, Option<ScpiSourceConfig>), FileError> {
    let max_v = c.above("source.max_voltage_v", s.max_voltage_v, 0.0, 1000.0, "V")?;
    let max_a = c.above("source.max_current_a", s.max_current_a, 0.0, 200.0, "A")?;
    let [flo, fhi] = s.frequency_hz;
    if !(flo > 0.0 && flo < fhi && fhi <= 1000.0) {
        return Err(c.invalid(
            "source.frequency_hz",
            format!("[{flo}, {fhi}]"),
            "[low, high] with 0 < low < high <= 1000 Hz",
        ));
    }
    instrument_kind(c, "source.kind", kind, s.kind)?;
    let table = scpi_table(
        c,
        "source",
        s.kind,
        s.scpi,
        "a [source.scpi] table: transport, apply, off and the instrument's ranges",
    )?;
    let scpi = table.map(|t| scpi::source(c, t)).transpose()?;
    if let Some(sc) = &scpi {
        for (key, value, hi) in [
            ("source.max_voltage_v", max_v, sc.voltage_range.1),
            ("source.max_current_a", max_a, sc.current_range.1),
            ("source.frequency_hz", flo.max(fhi), sc.frequency_range.1),
        ] {
            if value > hi {
                return Err(c.invalid(
                    key,
                    value,
                    format!("at most the instrument's range, {hi} (source.scpi)"),
                ));
            }
        }
        if flo < sc.frequency_range.0 {
            return Err(c.invalid(
                "source.frequency_hz",
                flo,
                format!(
                    "at least the instrument's range, {} (source.scpi.frequency_range_hz)",
                    sc.frequency_range.0
                ),
            ));
        }
    }
    let config = SourceConfig {
        kind: s.kind,
        limits: SourceLimits {
            max_voltage: Volts(max_v),
            max_current: Amps(max_a),
            frequency: (Hertz(flo), Hertz(fhi)),
        },
    };
    Ok((config, scpi))
}

/// `[reference]`: its calibrated uncertainty and pulse constant.
fn reference(
    c: &Checker<'_>,
    kind: RigKind,
    r: RawReference,
) -> Result<(ReferenceConfig, Option<scpi::ScpiReferenceConfig>), FileError> {
    let allowed = "an expanded uncertainty within 0 (exclusive)..=1 %";
    for (key, v) in [
        ("reference.uncertainty_pct", r.uncertainty_pct),
        ("reference.uncertainty_low_pf_pct", r.uncertainty_low_pf_pct),
    ] {
        if !(v > 0.0 && v <= 1.0) {
            return Err(c.invalid(key, crate::files::show(v), allowed));
        }
    }
    let constant = c.within(
        "reference.constant_imp_per_kwh",
        r.constant_imp_per_kwh,
        1.0..=1e10,
        "imp/kWh",
    )?;
    instrument_kind(c, "reference.kind", kind, r.kind)?;
    let table = scpi_table(
        c,
        "reference",
        r.kind,
        r.scpi,
        "a [reference.scpi] table: transport, measure, energy and their fields",
    )?;
    let scpi = table.map(|t| scpi::reference(c, t)).transpose()?;
    let config = ReferenceConfig {
        kind: r.kind,
        uncertainty_pf1: Percent(r.uncertainty_pct),
        uncertainty_low_pf: Percent(r.uncertainty_low_pf_pct),
        constant: MeterConstant(constant),
        certificate: r.certificate.map(|cert| certificate(c, cert)).transpose()?,
    };
    Ok((config, scpi))
}

/// `[reference.certificate]`: every text filled in.
fn certificate(c: &Checker<'_>, r: RawCertificate) -> Result<model::lab::Certificate, FileError> {
    for (key, v) in [
        ("reference.certificate.number", &r.number),
        ("reference.certificate.calibrating_lab", &r.calibrating_lab),
        ("reference.certificate.traceability", &r.traceability),
    ] {
        if v.trim().is_empty() {
            return Err(c.invalid(key, "\"\"", "a non-empty text"));
        }
    }
    Ok(model::lab::Certificate {
        role: "reference".into(),
        number: r.number,
        calibrating_lab: r.calibrating_lab,
        calibrated_on: r.calibrated_on,
        traceability: r.traceability,
    })
}

/// `[climate]`: a simulated room on a simulated rig, a Modbus TCP sensor
/// on a lab rig; every figure within a physical range.
fn climate(
    c: &Checker<'_>,
    kind: RigKind,
    r: RawClimate,
) -> Result<super::ClimateConfig, FileError> {
    use super::ClimateConfig;
    use crate::drivers::modbus_climate::ModbusClimateConfig;
    match (kind, r) {
        (
            RigKind::Sim,
            RawClimate::Sim {
                temperature_c,
                humidity_pct,
                temperature_drift_k_per_h,
                humidity_drift_pct_per_h,
            },
        ) => Ok(ClimateConfig::Sim {
            temperature_c: c.within("climate.temperature_c", temperature_c, -40.0..=85.0, "°C")?,
            humidity_pct: c.within("climate.humidity_pct", humidity_pct, 0.0..=100.0, "%")?,
            temperature_drift_k_per_h: c.within(
                "climate.temperature_drift_k_per_h",
                temperature_drift_k_per_h,
                -50.0..=50.0,
                "K/h",
            )?,
            humidity_drift_pct_per_h: c.within(
                "climate.humidity_drift_pct_per_h",
                humidity_drift_pct_per_h,
                -100.0..=100.0,
                "%/h",
            )?,
        }),
        (
            RigKind::Lab,
            RawClimate::ModbusTcp {
                address,
                unit,
                temperature_register,
                temperature_scale,
                humidity_register,
                humidity_scale,
                timeout_ms,
                maker,
                model,
                serial,
                calibration_due,
            },
        ) => Ok(ClimateConfig::Modbus(ModbusClimateConfig {
            address: address.parse().map_err(|_| {
                c.invalid(
                    "climate.address",
                    format!("\"{address}\""),
                    "host:port, an IP address and port (192.168.1.50:502)",
                )
            })?,
            unit: c.count("climate.unit", unit, 1..=247, "")?,
            temperature_register,
            temperature_scale: c.above(
                "climate.temperature_scale",
                temperature_scale,
                0.0,
                100.0,
                "°C per count",
            )?,
            humidity_register,
            humidity_scale: c.above(
                "climate.humidity_scale",
                humidity_scale,
                0.0,
                100.0,
                "% per count",
            )?,
            timeout: Duration::from_millis(c.count(
                "climate.timeout_ms",
                timeout_ms,
                1..=60_000,
                "ms",
            )?),
            maker,
            model,
            serial,
            calibration_due,
        })),
        (RigKind::Sim, _) => Err(c.invalid(
            "climate.kind",
            "\"modbus-tcp\"",
            "\"sim\" on a simulated rig",
        )),
        (RigKind::Lab, _) => {
            Err(c.invalid("climate.kind", "\"sim\"", "\"modbus-tcp\" on a lab rig"))
        }
    }
}

/// One `[[positions]]` entry: the bench's view of it, its simulated meter
/// (simulated rigs) and its capture hardware (lab rigs).
fn position(
    c: &Checker<'_>,
    kind: RigKind,
    base: &Path,
    i: usize,
    p: RawPosition,
) -> Result<(PositionConfig, Option<SimMeterConfig>, LabPosition), FileError> {
    let key = |k: &str| format!("positions[{i}].{k}");
    let meter_file = base.join(&p.meter);
    let profile = Arc::new(
        load_profile(&meter_file).map_err(|source| FileError::Named {
            file: c.file.to_path_buf(),
            key: key("meter"),
            source: Box::new(source),
        })?,
    );
    let link = link(c, kind, &profile, i, p.link)?;
    if let (Some(a), Some(serial)) = (p.address, &profile.serial) {
        let (lo, hi) = serial.address_range;
        if a < lo || a > hi {
            return Err(c.invalid(
                key("address"),
                a,
                format!("within {lo}..={hi} (profile {})", profile.id),
            ));
        }
    }
    let timeout = match p.timeout_ms {
        Some(ms) => Duration::from_millis(c.count(key("timeout_ms"), ms, 1..=60_000, "ms")?),
        None => profile
            .serial
            .as_ref()
            .map_or(Duration::from_millis(300), |s| s.response_timeout * 3 / 2),
    };
    let sim = sim(c, kind, &profile, i, p.sim)?;
    if kind == RigKind::Sim && (p.pulses.is_some() || p.tariff.is_some()) {
        return Err(c.invalid(
            key(if p.pulses.is_some() {
                "pulses"
            } else {
                "tariff"
            }),
            "(a table)",
            "only on a lab rig: the simulated rig captures pulses and drives tariffs itself",
        ));
    }
    let lab = LabPosition {
        pulses: p.pulses.map(|raw| pulses(c, i, raw)).transpose()?,
        tariff: p.tariff.map(|raw| tariff(c, i, raw)).transpose()?,
    };
    let retry = retry(c, i, p.retry)?;
    let position = PositionConfig {
        index: i,
        meter_file,
        profile,
        link,
        address: p.address,
        timeout,
        retry,
    };
    Ok((position, sim, lab))
}

/// `positions[i].link`: a kind this rig and this meter can have.
fn link(
    c: &Checker<'_>,
    kind: RigKind,
    profile: &MeterProfile,
    i: usize,
    raw: RawLink,
) -> Result<LinkConfig, FileError> {
    let key = |k: &str| format!("positions[{i}].{k}");
    let link = match raw {
        RawLink::None => LinkConfig::None,
        RawLink::SimRtu { bus } => LinkConfig::SimRtu { bus },
        RawLink::SimTcp => LinkConfig::SimTcp,
        RawLink::Rtu {
            device,
            baud,
            framing,
            inter_frame_delay_ms,
        } => {
            let inter_frame = match inter_frame_delay_ms {
                None => None,
                Some(ms) => Some(Duration::from_secs_f64(
                    c.within(
                        key("link.inter_frame_delay_ms"),
                        ms,
                        0.0..=1000.0,
                        "ms (default: t3.5 of the line)",
                    )? / 1000.0,
                )),
            };
            let line = profile.serial.as_ref().map(|s| LineSettings {
                baud: baud.unwrap_or(s.baud_default),
                framing: framing.unwrap_or(s.framing_default),
            });
            LinkConfig::Rtu {
                device,
                line,
                inter_frame,
            }
        }
        RawLink::Tcp { address } => LinkConfig::Tcp {
            address: socket(c, &key("link.address"), &address)?,
        },
        RawLink::RtuOverTcp { address } => LinkConfig::RtuOverTcp {
            address: socket(c, &key("link.address"), &address)?,
        },
    };
    let link_name = match &link {
        LinkConfig::None => "none",
        LinkConfig::SimRtu { .. } => "sim-rtu",
        LinkConfig::SimTcp => "sim-tcp",
        LinkConfig::Rtu { .. } => "rtu",
        LinkConfig::Tcp { .. } => "tcp",
        LinkConfig::RtuOverTcp { .. } => "rtu-over-tcp",
    };
    let allowed_links: &[&str] = match (kind, profile.variant) {
        (_, Variant::Pulse) => &["none"],
        (RigKind::Sim, Variant::Modbus) => &["sim-rtu", "sim-tcp"],
        (RigKind::Lab, Variant::Modbus) => &["rtu", "tcp", "rtu-over-tcp", "none"],
    };
    if !allowed_links.contains(&link_name) {
        return Err(c.invalid(
            key("link.kind"),
            format!("\"{link_name}\""),
            format!(
                "one of {allowed_links:?} for a {:?} meter on a {kind:?} rig",
                profile.variant
            )
            .to_lowercase(),
        ));
    }
    Ok(link)
}

/// `[positions.sim]`: the simulated meter's identity and faults; only on a
/// simulated rig, where a position without one gets a good meter.
fn sim(
    c: &Checker<'_>,
    kind: RigKind,
    profile: &MeterProfile,
    i: usize,
    raw: Option<RawSim>,
) -> Result<Option<SimMeterConfig>, FileError> {
    let raw = match (kind, raw) {
        (RigKind::Sim, raw) => raw.unwrap_or_default(),
        (RigKind::Lab, Some(_)) => {
            return Err(c.invalid(
                format!("positions[{i}].sim"),
                "a table",
                "only positions on a simulated rig have a [positions.sim] table",
            ));
        }
        (RigKind::Lab, None) => return Ok(None),
    };
    raw.faults
        .validate(c, &format!("positions[{i}].sim.faults."))?;
    let default_model = profile
        .model
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    Ok(Some(SimMeterConfig {
        identity: SimIdentity {
            model_id: raw.model_id.unwrap_or(default_model),
            serial_number: raw.serial_number.unwrap_or(i as u32 + 1),
            firmware: raw.firmware.unwrap_or_else(|| "1.00".into()),
        },
        faults: raw.faults,
    }))
}

/// `[positions.pulses]`: GPIO lines for the LED and S0 outputs.
fn pulses(c: &Checker<'_>, i: usize, raw: RawPulses) -> Result<GpioPulseConfig, FileError> {
    let key = |k: &str| format!("positions[{i}].{k}");
    let RawPulses::Gpio {
        chip,
        led,
        s0,
        debounce_us,
        active_low,
    } = raw;
    let mut lines = Vec::new();
    if let Some(l) = led {
        lines.push((PulseChannel::Led, l));
    }
    if let Some(l) = s0 {
        lines.push((PulseChannel::S0, l));
    }
    if lines.is_empty() || led.is_some() && led == s0 {
        return Err(c.invalid(
            key("pulses"),
            format!("led = {led:?}, s0 = {s0:?}"),
            "one or two distinct GPIO line offsets (led, s0)",
        ));
    }
    let debounce_us = c.count(
        key("pulses.debounce_us"),
        debounce_us,
        0..=100_000,
        "µs (an S0 pulse lasts at least 30 ms)",
    )?;
    Ok(GpioPulseConfig {
        chip,
        lines,
        debounce: Duration::from_micros(debounce_us),
        active_low,
    })
}

/// `[positions.tariff]`: a GPIO line or a Modbus coil.
fn tariff(c: &Checker<'_>, i: usize, raw: RawTariff) -> Result<TariffConfig, FileError> {
    Ok(match raw {
        RawTariff::Gpio {
            chip,
            line,
            active_low,
        } => TariffConfig::Gpio {
            chip,
            line,
            active_low,
        },
        RawTariff::ModbusCoil {
            address,
            unit,
            coil,
        } => TariffConfig::ModbusCoil {
            address: socket(c, &format!("positions[{i}].tariff.address"), &address)?,
            unit,
            coil,
        },
    })
}

/// `[positions.retry]`: how a lost exchange is retried.
fn retry(c: &Checker<'_>, i: usize, raw: Option<RawRetry>) -> Result<RetryPolicy, FileError> {
    let key = |k: &str| format!("positions[{i}].retry.{k}");
    let mut retry = RetryPolicy::default();
    let Some(r) = raw else {
        return Ok(retry);
    };
    if let Some(a) = r.attempts {
        retry.attempts = c.count(key("attempts"), a, 1..=10, "")?;
    }
    if let Some(b) = r.backoff_ms {
        retry.backoff = Duration::from_millis(c.count(key("backoff_ms"), b, 0..=10_000, "ms")?);
    }
    if let Some(o) = r.on_lost {
        retry.on_lost = o;
    }
    if let Some(w) = r.wait_for_meter_s {
        retry.wait_for_meter =
            Duration::from_secs(c.count(key("wait_for_meter_s"), w, 0..=3600, "s")?);
    }
    Ok(retry)
}

/// Meters on one RS485 line need distinct addresses, and the one line one
/// set of line settings (V1.02 §2.1: one master, each slave its own address).
fn check_shared_lines(c: &Checker<'_>, positions: &[PositionConfig]) -> Result<(), FileError> {
    let mut seen: std::collections::BTreeMap<(String, u8), usize> = Default::default();
    let mut lines: std::collections::BTreeMap<String, (usize, Option<LineSettings>)> =
        Default::default();
    for p in positions {
        let Some(line) = p.shared_line() else {
            continue;
        };
        let unit = p.unit();
        if let Some(first) = seen.insert((line.clone(), unit), p.index) {
            return Err(c.invalid(
                format!("positions[{}].address", p.index),
                unit,
                format!(
                    "an address no other meter on {line} has (position {} is at {unit}); 1..=247",
                    first + 1
                ),
            ));
        }
        let settings = match &p.link {
            LinkConfig::Rtu { line, .. } => *line,
            _ => p.profile.serial.as_ref().map(|s| s.factory_line()),
        };
        if let Some((first, other)) = lines.get(&line)
            && *other != settings
        {
            return Err(c.invalid(
                format!("positions[{}].link", p.index),
                settings.map_or("none".into(), |s| s.to_string()),
                format!(
                    "the line settings of the other meters on {line} ({}, position {})",
                    other.map_or("none".into(), |s| s.to_string()),
                    first + 1
                ),
            ));
        }
        lines.entry(line).or_insert((p.index, settings));
    }
    Ok(())
}

/// A `host:port` address.
fn socket(c: &Checker<'_>, key: &str, address: &str) -> Result<SocketAddr, FileError> {
    address.parse().map_err(|_| {
        c.invalid(
            key,
            format!("\"{address}\""),
            "host:port, e.g. \"127.0.0.1:5020\"",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped rig file's text without its `[metrology]` floor.
    fn shipped() -> (PathBuf, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rigs/sim.toml");
        let text = std::fs::read_to_string(&path).expect("fixtures/rigs/sim.toml");
        (path, text.replace(SHIPPED_FLOOR, ""))
    }

    const SHIPPED_FLOOR: &str = "[metrology]\nreproducibility = { u_pct = 0.0, dof = 19, studied = \"2026-12-01\", study = \"fixtures/rigs/studies/sim-reproducibility-2026-12-01.json\" }\n";

    /// Issue 15: `[metrology]` reaches `RigConfig`; without it the reference
    /// model is the one the two `[reference]` figures imply.
    #[test]
    fn the_metrology_section_reaches_the_rig_config() {
        let (path, text) = shipped();
        let file = std::fs::read_to_string(&path).expect("shipped rig");
        assert!(
            file.contains(SHIPPED_FLOOR),
            "the shipped rig declares its floor"
        );
        let declared = parse(&file, &path).expect("shipped rig");
        let floor = declared.config.reproducibility().expect("floor");
        assert_eq!(
            (floor.u_pct, floor.dof),
            (0.0, 19.0),
            "measured by its study"
        );
        let declared_floor = declared.config.metrology.reproducibility.as_ref();
        assert_eq!(
            declared_floor.and_then(|d| d.studied),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        );
        let plain = parse(&text, &path).expect("shipped rig without [metrology]");
        assert_eq!(plain.config.reproducibility(), None);
        let implied = plain.config.reference_model();
        assert_eq!(
            implied.active_energy.u_pct,
            plain.config.reference.uncertainty_pf1.0
        );
        let with = format!("{text}\n[metrology.reproducibility]\nu_pct = 0.004\ndof = 9\n");
        let rig = parse(&with, &path).expect("rig with [metrology]");
        let r = rig.config.reproducibility().expect("floor");
        assert_eq!((r.u_pct, r.dof), (0.004, 9.0));
    }

    /// A `[metrology]` figure out of range is refused naming file, key and range.
    #[test]
    fn a_metrology_figure_out_of_range_names_file_key_and_range() {
        let (path, text) = shipped();
        let bad = format!("{text}\n[metrology.reproducibility]\nu_pct = 5\ndof = 9\n");
        match parse(&bad, &path) {
            Err(FileError::Invalid {
                file, key, allowed, ..
            }) => {
                assert_eq!(file, path);
                assert_eq!(key, "metrology.reproducibility.u_pct");
                assert!(allowed.contains("0 ..= 1 %"), "{allowed}");
            }
            other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
        }
    }
}
