//! Rig files (`fixtures/rigs/*.toml`): which instruments make up the bench,
//! their limits, and for a simulated bench, each meter's identity and faults.
//! A lab runs the same plan on its own bench by swapping this file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::RigError;
use super::safety::SourceLimits;
use crate::profile::{Framing, LineSettings, MeterProfile, Variant, load_profile};
use crate::quantity::{Amps, Hertz, MeterConstant, Percent, Volts};
use crate::sim::faults::Faults;
use crate::sim::meter_model::SimIdentity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RigKind {
    /// The built-in simulated rig.
    Sim,
    /// Real instruments.
    Lab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstrumentKind {
    Sim,
    /// A real instrument spoken to in SCPI (`[source.scpi]`, `[reference.scpi]`).
    Scpi,
    /// No controllable instrument (a meter energised by hand, read only).
    None,
}

#[derive(Debug, Clone)]
pub struct RigConfig {
    pub file: PathBuf,
    pub name: String,
    pub kind: RigKind,
    pub seed: u64,
    /// Whether `--load` may energise a real rig from the command line.
    pub manual_energising: bool,
    /// When the simulated RTU line paces characters at its baud.
    pub line_pacing: crate::modbus::LinePacing,
    pub source: SourceConfig,
    pub reference: ReferenceConfig,
    pub positions: Vec<PositionConfig>,
    /// `[metrology]`: the reference model per quantity and the type A floor.
    pub metrology: super::reference_model::RigMetrology,
}

impl RigConfig {
    /// The bench's declared reproducibility of a point's mean (type A floor).
    pub fn reproducibility(&self) -> Option<crate::stats::Reproducibility> {
        self.metrology.reproducibility
    }

    /// The reference's uncertainty model per quantity: the declared one, or
    /// the one the two `[reference]` figures imply.
    pub fn reference_model(&self) -> super::reference_model::ReferenceModel {
        self.metrology.reference.unwrap_or_else(|| {
            super::reference_model::ReferenceModel::from_two_figures(
                self.reference.uncertainty_pf1.0,
                self.reference.uncertainty_low_pf.0,
            )
        })
    }
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub kind: InstrumentKind,
    pub limits: SourceLimits,
    pub scpi: Option<super::scpi_config::ScpiSourceConfig>,
}

#[derive(Debug, Clone)]
pub struct ReferenceConfig {
    pub kind: InstrumentKind,
    pub uncertainty_pf1: Percent,
    pub uncertainty_low_pf: Percent,
    pub constant: MeterConstant,
    pub scpi: Option<super::scpi_config::ScpiReferenceConfig>,
}

#[derive(Debug, Clone)]
pub struct PositionConfig {
    pub index: usize,
    pub meter_file: PathBuf,
    pub profile: Arc<MeterProfile>,
    pub link: LinkConfig,
    /// Modbus address override (else the profile's default).
    pub address: Option<u8>,
    /// Per-request timeout (else the profile's response time + 50 %).
    pub timeout: Duration,
    pub sim: Option<SimMeterConfig>,
    /// Pulse capture on a lab rig.
    pub pulses: Option<crate::drivers::gpio_pulse_input::GpioPulseConfig>,
    /// Tariff output on a lab rig.
    pub tariff: Option<TariffConfig>,
    pub retry: super::retry::RetryPolicy,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkConfig {
    None,
    /// The simulated meter on RS485: alone on its own line, or on the line
    /// named `bus` with every other position that names it.
    SimRtu {
        bus: Option<String>,
    },
    SimTcp,
    Rtu {
        device: PathBuf,
        line: Option<LineSettings>,
        /// Silence before each request after a reply (default t3.5 of the line).
        inter_frame: Option<Duration>,
    },
    Tcp {
        address: SocketAddr,
    },
    /// RTU frames through a transparent RS485-to-Ethernet gateway.
    RtuOverTcp {
        address: SocketAddr,
    },
}

#[derive(Debug, Clone)]
pub struct SimMeterConfig {
    pub identity: SimIdentity,
    pub faults: Faults,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRig {
    rig: RawRigHead,
    source: RawSource,
    reference: RawReference,
    positions: Vec<RawPosition>,
    #[serde(default)]
    metrology: super::reference_model::RigMetrology,
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
    line_pacing: Option<crate::modbus::LinePacing>,
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
    scpi: Option<super::scpi_config::RawScpiSource>,
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
    scpi: Option<super::scpi_config::RawScpiReference>,
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
    on_lost: Option<super::retry::OnLost>,
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

/// Where a lab position's tariff input is driven from.
#[derive(Debug, Clone, PartialEq)]
pub enum TariffConfig {
    Gpio {
        chip: PathBuf,
        line: u32,
        active_low: bool,
    },
    ModbusCoil {
        address: SocketAddr,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSim {
    model_id: Option<u32>,
    serial_number: Option<u32>,
    firmware: Option<String>,
    #[serde(default)]
    faults: Faults,
}

/// Loads a rig file and every meter profile it names.
pub fn load_rig(path: &Path) -> Result<RigConfig, RigError> {
    let text = std::fs::read_to_string(path).map_err(|source| RigError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse_rig(&text, path)
}

/// Validates a rig file's text; `path` names it in errors and anchors the
/// meter paths, which are relative to the rig file.
pub fn parse_rig(text: &str, path: &Path) -> Result<RigConfig, RigError> {
    let mut raw: RawRig = toml::from_str(text).map_err(|e| RigError::Syntax {
        file: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let bad = |key: String, value: String, allowed: String| RigError::Invalid {
        file: path.to_path_buf(),
        key,
        value,
        allowed,
    };
    let raw_source_scpi = raw.source.scpi.take();
    let raw_reference_scpi = raw.reference.scpi.take();
    let s = &raw.source;
    if !(s.max_voltage_v > 0.0 && s.max_voltage_v <= 1000.0) {
        return Err(bad(
            "source.max_voltage_v".into(),
            s.max_voltage_v.to_string(),
            "within 0 (exclusive)..=1000 V".into(),
        ));
    }
    if !(s.max_current_a > 0.0 && s.max_current_a <= 200.0) {
        return Err(bad(
            "source.max_current_a".into(),
            s.max_current_a.to_string(),
            "within 0 (exclusive)..=200 A".into(),
        ));
    }
    let [flo, fhi] = s.frequency_hz;
    if !(flo > 0.0 && flo < fhi && fhi <= 1000.0) {
        return Err(bad(
            "source.frequency_hz".into(),
            format!("[{flo}, {fhi}]"),
            "[low, high] with 0 < low < high <= 1000 Hz".into(),
        ));
    }
    let r = &raw.reference;
    for (key, v) in [
        ("reference.uncertainty_pct", r.uncertainty_pct),
        ("reference.uncertainty_low_pf_pct", r.uncertainty_low_pf_pct),
    ] {
        if !(v > 0.0 && v <= 1.0) {
            return Err(bad(
                key.into(),
                v.to_string(),
                "an expanded uncertainty within 0 (exclusive)..=1 %".into(),
            ));
        }
    }
    if !(r.constant_imp_per_kwh > 0.0 && r.constant_imp_per_kwh.is_finite()) {
        return Err(bad(
            "reference.constant_imp_per_kwh".into(),
            r.constant_imp_per_kwh.to_string(),
            "a positive constant".into(),
        ));
    }
    let kind = raw.rig.kind;
    for (key, k) in [("source.kind", s.kind), ("reference.kind", r.kind)] {
        let ok = match kind {
            RigKind::Sim => k == InstrumentKind::Sim,
            RigKind::Lab => matches!(k, InstrumentKind::None | InstrumentKind::Scpi),
        };
        if !ok {
            let allowed = match kind {
                RigKind::Sim => "\"sim\" on a simulated rig",
                RigKind::Lab => {
                    "\"scpi\" or \"none\" on a lab rig (none: the meter is energised by hand and only read)"
                }
            };
            return Err(bad(
                key.into(),
                format!("{k:?}").to_lowercase(),
                allowed.into(),
            ));
        }
    }
    let mistake = |(k, v, a): super::scpi_config::Mistake| bad(k, v, a);
    let source_scpi = match (s.kind, raw_source_scpi) {
        (InstrumentKind::Scpi, Some(raw_scpi)) => {
            Some(super::scpi_config::source(raw_scpi).map_err(mistake)?)
        }
        (InstrumentKind::Scpi, None) => {
            return Err(bad(
                "source.scpi".into(),
                "(missing)".into(),
                "a [source.scpi] table: transport, apply, off and the instrument's ranges".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(bad(
                "source.scpi".into(),
                "(a table)".into(),
                "only with source.kind = \"scpi\"".into(),
            ));
        }
        (_, None) => None,
    };
    if let Some(sc) = &source_scpi {
        // The rig's limits must lie within what the instrument can do.
        for (key, value, hi) in [
            ("source.max_voltage_v", s.max_voltage_v, sc.voltage_range.1),
            ("source.max_current_a", s.max_current_a, sc.current_range.1),
            ("source.frequency_hz", flo.max(fhi), sc.frequency_range.1),
        ] {
            if value > hi {
                return Err(bad(
                    key.into(),
                    value.to_string(),
                    format!("at most the instrument's range, {hi} (source.scpi)"),
                ));
            }
        }
        if flo < sc.frequency_range.0 {
            return Err(bad(
                "source.frequency_hz".into(),
                flo.to_string(),
                format!(
                    "at least the instrument's range, {} (source.scpi.frequency_range_hz)",
                    sc.frequency_range.0
                ),
            ));
        }
    }
    let reference_scpi = match (r.kind, raw_reference_scpi) {
        (InstrumentKind::Scpi, Some(raw_scpi)) => {
            Some(super::scpi_config::reference(raw_scpi).map_err(mistake)?)
        }
        (InstrumentKind::Scpi, None) => {
            return Err(bad(
                "reference.scpi".into(),
                "(missing)".into(),
                "a [reference.scpi] table: transport, measure, energy and their fields".into(),
            ));
        }
        (_, Some(_)) => {
            return Err(bad(
                "reference.scpi".into(),
                "(a table)".into(),
                "only with reference.kind = \"scpi\"".into(),
            ));
        }
        (_, None) => None,
    };
    if raw.positions.is_empty() || raw.positions.len() > 64 {
        return Err(bad(
            "positions".into(),
            raw.positions.len().to_string(),
            "1..=64 positions".into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut positions = Vec::new();
    for (i, p) in raw.positions.into_iter().enumerate() {
        let key = |k: &str| format!("positions[{i}].{k}");
        let meter_file = base.join(&p.meter);
        let profile =
            Arc::new(
                load_profile(&meter_file).map_err(|source| RigError::MeterProfile {
                    file: path.to_path_buf(),
                    key: key("meter"),
                    source: Box::new(source),
                })?,
            );
        let link = match p.link {
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
                    Some(ms) if (0.0..=1000.0).contains(&ms) => {
                        Some(Duration::from_secs_f64(ms / 1000.0))
                    }
                    Some(ms) => {
                        return Err(bad(
                            key("link.inter_frame_delay_ms"),
                            ms.to_string(),
                            "0..=1000 ms (default: t3.5 of the line)".into(),
                        ));
                    }
                };
                let line = match (&profile.serial, baud, framing) {
                    (Some(s), b, f) => Some(LineSettings {
                        baud: b.unwrap_or(s.baud_default),
                        framing: f.unwrap_or(s.framing_default),
                    }),
                    (None, _, _) => None,
                };
                LinkConfig::Rtu {
                    device,
                    line,
                    inter_frame,
                }
            }
            RawLink::Tcp { address } => LinkConfig::Tcp {
                address: socket(&key("link.address"), &address)
                    .map_err(|(k, v, a)| bad(k, v, a))?,
            },
            RawLink::RtuOverTcp { address } => LinkConfig::RtuOverTcp {
                address: socket(&key("link.address"), &address)
                    .map_err(|(k, v, a)| bad(k, v, a))?,
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
            return Err(bad(
                key("link.kind"),
                format!("\"{link_name}\""),
                format!(
                    "one of {allowed_links:?} for a {:?} meter on a {kind:?} rig",
                    profile.variant
                )
                .to_lowercase(),
            ));
        }
        if let (Some(a), Some(serial)) = (p.address, &profile.serial) {
            let (lo, hi) = serial.address_range;
            if a < lo || a > hi {
                return Err(bad(
                    key("address"),
                    a.to_string(),
                    format!("within {lo}..={hi} (profile {})", profile.id),
                ));
            }
        }
        let timeout = match p.timeout_ms {
            Some(ms) if (1..=60_000).contains(&ms) => Duration::from_millis(ms),
            Some(ms) => {
                return Err(bad(
                    key("timeout_ms"),
                    ms.to_string(),
                    "within 1..=60000 ms".into(),
                ));
            }
            None => profile
                .serial
                .as_ref()
                .map_or(Duration::from_millis(300), |s| s.response_timeout * 3 / 2),
        };
        let sim = match (kind, p.sim) {
            (RigKind::Sim, raw_sim) => {
                let raw_sim = raw_sim.unwrap_or(RawSim {
                    model_id: None,
                    serial_number: None,
                    firmware: None,
                    faults: Faults::default(),
                });
                raw_sim
                    .faults
                    .validate()
                    .map_err(|(k, v, a)| bad(format!("positions[{i}].sim.faults.{k}"), v, a))?;
                let default_model = profile
                    .model
                    .chars()
                    .filter(|c| c.is_ascii_digit())
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0);
                Some(SimMeterConfig {
                    identity: SimIdentity {
                        model_id: raw_sim.model_id.unwrap_or(default_model),
                        serial_number: raw_sim.serial_number.unwrap_or(i as u32 + 1),
                        firmware: raw_sim.firmware.unwrap_or_else(|| "1.00".into()),
                    },
                    faults: raw_sim.faults,
                })
            }
            (RigKind::Lab, Some(_)) => {
                return Err(bad(
                    key("sim"),
                    "a table".into(),
                    "only positions on a simulated rig have a [positions.sim] table".into(),
                ));
            }
            (RigKind::Lab, None) => None,
        };
        if kind == RigKind::Sim && (p.pulses.is_some() || p.tariff.is_some()) {
            return Err(bad(
                key(if p.pulses.is_some() {
                    "pulses"
                } else {
                    "tariff"
                }),
                "(a table)".into(),
                "only on a lab rig: the simulated rig captures pulses and drives tariffs itself"
                    .into(),
            ));
        }
        let pulses = match p.pulses {
            None => None,
            Some(RawPulses::Gpio {
                chip,
                led,
                s0,
                debounce_us,
                active_low,
            }) => {
                let mut lines = Vec::new();
                if let Some(l) = led {
                    lines.push((crate::rig::pulse_input::PulseChannel::Led, l));
                }
                if let Some(l) = s0 {
                    lines.push((crate::rig::pulse_input::PulseChannel::S0, l));
                }
                if lines.is_empty() || led.is_some() && led == s0 {
                    return Err(bad(
                        key("pulses"),
                        format!("led = {led:?}, s0 = {s0:?}"),
                        "one or two distinct GPIO line offsets (led, s0)".into(),
                    ));
                }
                if debounce_us > 100_000 {
                    return Err(bad(
                        key("pulses.debounce_us"),
                        debounce_us.to_string(),
                        "0..=100000 µs (an S0 pulse lasts at least 30 ms)".into(),
                    ));
                }
                Some(crate::drivers::gpio_pulse_input::GpioPulseConfig {
                    chip,
                    lines,
                    debounce: Duration::from_micros(debounce_us),
                    active_low,
                })
            }
        };
        let tariff = match p.tariff {
            None => None,
            Some(RawTariff::Gpio {
                chip,
                line,
                active_low,
            }) => Some(TariffConfig::Gpio {
                chip,
                line,
                active_low,
            }),
            Some(RawTariff::ModbusCoil {
                address,
                unit,
                coil,
            }) => Some(TariffConfig::ModbusCoil {
                address: socket(&key("tariff.address"), &address)
                    .map_err(|(k, v, a)| bad(k, v, a))?,
                unit,
                coil,
            }),
        };
        let mut retry = super::retry::RetryPolicy::default();
        if let Some(r) = p.retry {
            if let Some(a) = r.attempts {
                if !(1..=10).contains(&a) {
                    return Err(bad(key("retry.attempts"), a.to_string(), "1..=10".into()));
                }
                retry.attempts = a;
            }
            if let Some(b) = r.backoff_ms {
                if b > 10_000 {
                    return Err(bad(
                        key("retry.backoff_ms"),
                        b.to_string(),
                        "0..=10000 ms".into(),
                    ));
                }
                retry.backoff = Duration::from_millis(b);
            }
            if let Some(o) = r.on_lost {
                retry.on_lost = o;
            }
            if let Some(w) = r.wait_for_meter_s {
                if w > 3600 {
                    return Err(bad(
                        key("retry.wait_for_meter_s"),
                        w.to_string(),
                        "0..=3600 s".into(),
                    ));
                }
                retry.wait_for_meter = Duration::from_secs(w);
            }
        }
        positions.push(PositionConfig {
            index: i,
            meter_file,
            profile,
            link,
            address: p.address,
            timeout,
            sim,
            pulses,
            tariff,
            retry,
        });
    }
    check_shared_lines(path, &positions)?;
    raw.metrology
        .validate()
        .map_err(|e| bad(e.key, e.value.to_string(), e.allowed.into()))?;
    if kind == RigKind::Lab && raw.rig.line_pacing.is_some() {
        return Err(bad(
            "rig.line_pacing".into(),
            format!("{:?}", raw.rig.line_pacing),
            "only on a simulated rig (a real line is paced by its wire)".into(),
        ));
    }
    Ok(RigConfig {
        file: path.to_path_buf(),
        name: raw.rig.name,
        kind,
        seed: raw.rig.seed,
        manual_energising: raw.rig.manual_energising,
        line_pacing: raw.rig.line_pacing.unwrap_or_default(),
        source: SourceConfig {
            kind: s.kind,
            limits: SourceLimits {
                max_voltage: Volts(s.max_voltage_v),
                max_current: Amps(s.max_current_a),
                frequency: (Hertz(flo), Hertz(fhi)),
            },
            scpi: source_scpi,
        },
        reference: ReferenceConfig {
            kind: r.kind,
            uncertainty_pf1: Percent(r.uncertainty_pct),
            uncertainty_low_pf: Percent(r.uncertainty_low_pf_pct),
            constant: MeterConstant(r.constant_imp_per_kwh),
            scpi: reference_scpi,
        },
        positions,
        metrology: raw.metrology,
    })
}

impl PositionConfig {
    /// The RS485 line this position's meter shares with others, if any: a
    /// named simulated bus, or a lab serial device.
    pub fn shared_line(&self) -> Option<String> {
        match &self.link {
            LinkConfig::SimRtu { bus: Some(b) } => Some(format!("bus \"{b}\"")),
            LinkConfig::Rtu { device, .. } => Some(device.display().to_string()),
            _ => None,
        }
    }

    /// The Modbus address the meter is reached at.
    pub fn unit(&self) -> u8 {
        self.address.unwrap_or_else(|| {
            self.profile
                .serial
                .as_ref()
                .map_or(1, |s| s.address_default)
        })
    }
}

/// Meters on one RS485 line need distinct addresses, and the one line one
/// set of line settings (V1.02 §2.1: one master, each slave its own address).
fn check_shared_lines(path: &Path, positions: &[PositionConfig]) -> Result<(), RigError> {
    let mut seen: std::collections::BTreeMap<(String, u8), usize> = Default::default();
    let mut lines: std::collections::BTreeMap<String, (usize, Option<LineSettings>)> =
        Default::default();
    for p in positions {
        let Some(line) = p.shared_line() else {
            continue;
        };
        let unit = p.unit();
        if let Some(first) = seen.insert((line.clone(), unit), p.index) {
            return Err(RigError::Invalid {
                file: path.to_path_buf(),
                key: format!("positions[{}].address", p.index),
                value: unit.to_string(),
                allowed: format!(
                    "an address no other meter on {line} has (position {} is at {unit}); 1..=247",
                    first + 1
                ),
            });
        }
        let settings = match &p.link {
            LinkConfig::Rtu { line, .. } => *line,
            _ => p.profile.serial.as_ref().map(|s| s.factory_line()),
        };
        if let Some((first, other)) = lines.get(&line)
            && *other != settings
        {
            return Err(RigError::Invalid {
                file: path.to_path_buf(),
                key: format!("positions[{}].link", p.index),
                value: settings.map_or("none".into(), |s| s.to_string()),
                allowed: format!(
                    "the line settings of the other meters on {line} ({}, position {})",
                    other.map_or("none".into(), |s| s.to_string()),
                    first + 1
                ),
            });
        }
        lines.entry(line).or_insert((p.index, settings));
    }
    Ok(())
}

/// A `host:port` address, or the mistake naming `key`.
fn socket(key: &str, address: &str) -> Result<SocketAddr, (String, String, String)> {
    address.parse().map_err(|_| {
        (
            key.to_string(),
            format!("\"{address}\""),
            "host:port, e.g. \"127.0.0.1:5020\"".into(),
        )
    })
}
