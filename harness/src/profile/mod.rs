//! Meter profiles: a meter's ratings, pulse outputs, serial defaults and
//! register map, loaded from `fixtures/meters/*.toml`.
//!
//! Maps are data, never code (register-maps.md): a lab corrects a map or adds a
//! meter without a rebuild. Each profile says how sure its map is.
//!
//! Owns: [`MeterProfile`] and its section-by-section loader; every number is
//! finite and within a stated range when the file loads. A counter may have a
//! finer register (`high_resolution`) and the meter a factory test mode
//! (`[test_mode]`) that shows finer ones (issue 20); each register's
//! resolution is [`Placement::step_at`]. May import: `quantity`, `files`.

mod codec;
mod load;
mod names;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use codec::{ByteOrder, CodecError, Coding, RegisterKind, WordOrder};
pub use load::{ProfileError, load_profile, parse_profile};
pub use names::{Dimension, MeterQuantity, MeterSetting};

use crate::quantity::{Amps, Celsius, Hertz, MeterConstant, PulseWeight, Volts};

/// How far a register map can be trusted (register-maps.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapStatus {
    /// From the maker's own table.
    Official,
    /// From public integration code that cites the maker's document.
    Community,
    /// Inferred; to be replaced by the official table or a capture.
    Unverified,
}

/// As the profile file writes it (`status = "official"`).
impl std::fmt::Display for MapStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MapStatus::Official => "official",
            MapStatus::Community => "community",
            MapStatus::Unverified => "unverified",
        })
    }
}

/// Whether the meter talks Modbus or only pulses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    Modbus,
    Pulse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterProfile {
    pub id: String,
    pub maker: String,
    pub model: String,
    pub variant: Variant,
    pub status: MapStatus,
    /// Where the map and ratings come from.
    pub source: String,
    pub file: PathBuf,
    pub ratings: Ratings,
    pub pulse: PulseSpec,
    pub tariff: Option<TariffSpec>,
    pub serial: Option<SerialSpec>,
    pub modbus: Option<ModbusSpec>,
    pub registers: Vec<RegisterDef>,
    pub settings: Vec<SettingDef>,
    /// A factory test mode that exposes finer energy registers for a
    /// limited time (`[test_mode]`, issue 20); `None`: the meter has none
    /// the profile knows of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mode: Option<TestMode>,
}

/// Ratings as MID Annex V and EN 50470-1 name them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratings {
    /// Nominal voltage Un.
    pub un: Volts,
    /// Voltage range the meter is specified over, ± percent of Un.
    pub un_tolerance_pct: f64,
    /// Nominal frequencies.
    pub fn_hz: Vec<Hertz>,
    /// Permitted frequency ranges, one per nominal frequency.
    pub f_ranges: Vec<(Hertz, Hertz)>,
    pub iref: Amps,
    pub imin: Amps,
    pub imax: Amps,
    /// Starting current.
    pub ist: Amps,
    /// Transitional current; Iref/10 for direct connection (EN 50470-3 §3.5.x).
    pub itr: Amps,
    /// Active energy class (MID: A, B, C).
    pub active_class: String,
    pub reactive_class: Option<String>,
    /// Number of measuring elements m.
    pub elements: u8,
    pub operating_temp: (Celsius, Celsius),
    /// Where the energy counters go back to zero, Wh (`energy_rollover_kwh`;
    /// datasheet display maximum plus one step). The register method undoes
    /// one roll-over during a dwell with it; `None`: the profile does not say.
    pub energy_rollover_wh: Option<f64>,
}

impl Ratings {
    pub fn u_max(&self) -> Volts {
        self.un * (1.0 + self.un_tolerance_pct / 100.0)
    }

    pub fn u_min(&self) -> Volts {
        self.un * (1.0 - self.un_tolerance_pct / 100.0)
    }

    pub fn fn_default(&self) -> Hertz {
        self.fn_hz[0]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulseSpec {
    /// Metrological LED constant (active).
    pub led_constant: MeterConstant,
    pub s0: Option<S0Spec>,
}

/// The S0 output's settings (IEC 62053-31).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S0Spec {
    pub weights: Vec<PulseWeight>,
    pub weight_default: PulseWeight,
    pub durations: Vec<Duration>,
    pub duration_default: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TariffSpec {
    pub tariffs: u8,
    pub input_voltage: (Volts, Volts),
    /// How long the input must hold a level before the meter switches tariff.
    pub debounce: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// A serial character format: data bits, parity, stop bits ("8E1").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Framing {
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl Framing {
    /// Bits on the wire per character: start + data + parity + stop.
    /// Modbus over serial line V1.02 §2.5.1 requires 11.
    pub fn bits_per_char(self) -> u32 {
        1 + self.data_bits as u32 + u32::from(self.parity != Parity::None) + self.stop_bits as u32
    }
}

impl TryFrom<String> for Framing {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let b = s.as_bytes();
        let bad = || {
            format!("`{s}` is not a framing: write data bits, parity N/E/O, stop bits, e.g. 8E1")
        };
        if b.len() != 3 {
            return Err(bad());
        }
        let data_bits = match b[0] {
            b'7' => 7,
            b'8' => 8,
            _ => return Err(bad()),
        };
        let parity = match b[1].to_ascii_uppercase() {
            b'N' => Parity::None,
            b'E' => Parity::Even,
            b'O' => Parity::Odd,
            _ => return Err(bad()),
        };
        let stop_bits = match b[2] {
            b'1' => 1,
            b'2' => 2,
            _ => return Err(bad()),
        };
        Ok(Self {
            data_bits,
            parity,
            stop_bits,
        })
    }
}

impl From<Framing> for String {
    fn from(f: Framing) -> String {
        f.to_string()
    }
}

impl std::fmt::Display for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        write!(f, "{}{}{}", self.data_bits, p, self.stop_bits)
    }
}

/// What the meter's serial port offers and how it leaves the factory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SerialSpec {
    pub address_default: u8,
    pub address_range: (u8, u8),
    pub bauds: Vec<u32>,
    pub baud_default: u32,
    pub framings: Vec<Framing>,
    pub framing_default: Framing,
    /// The maker's promised response time.
    pub response_timeout: Duration,
}

/// Line settings: what a client and a meter must agree on to talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineSettings {
    pub baud: u32,
    pub framing: Framing,
}

impl std::fmt::Display for LineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.baud, self.framing)
    }
}

impl SerialSpec {
    pub fn factory_line(&self) -> LineSettings {
        LineSettings {
            baud: self.baud_default,
            framing: self.framing_default,
        }
    }
}

/// Protocol behaviour and quirks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModbusSpec {
    pub read_functions: Vec<u8>,
    pub write_functions: Vec<u8>,
    /// 0 when the profile lists wire addresses, 1 when it lists the maker's
    /// "register numbers" (wire address + 1).
    pub address_base: u16,
    pub max_read_registers: u16,
    pub max_write_registers: u16,
    /// Reads or writes of an odd number of registers are refused (Eastron).
    pub odd_count_refused: bool,
    /// Functions 03 and 04 read the same table (Carlo Gavazzi).
    pub input_equals_holding: bool,
}

/// The register table a value sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    /// Read with function 03, written with 06/16.
    Holding,
    /// Read with function 04.
    Input,
}

impl Table {
    pub fn read_function(self) -> u8 {
        match self {
            Table::Holding => 3,
            Table::Input => 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    R,
    W,
    Rw,
}

impl Access {
    pub fn readable(self) -> bool {
        matches!(self, Access::R | Access::Rw)
    }
    pub fn writable(self) -> bool {
        matches!(self, Access::W | Access::Rw)
    }
}

/// Where a value lives and how to turn its words into the canonical unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub table: Table,
    /// Wire (protocol) address of the first word.
    pub address: u16,
    pub coding: Coding,
    /// Raw × scale = value in `unit`.
    pub scale: f64,
    pub unit: String,
    /// Value in `unit` × unit_factor = value in the dimension's canonical unit.
    pub unit_factor: f64,
    pub access: Access,
}

impl Placement {
    pub fn words(&self) -> u16 {
        self.coding.kind.words() as u16
    }

    /// The smallest change the register shows, in canonical units, as the
    /// rig-time planner sizes a dwell with it: [`Placement::step_planned`]
    /// without a declared roll-over (a FLOAT32 counter at
    /// [`FLOAT_PLANNING_COUNT`] of its unit). With the profile at hand,
    /// `MeterProfile::register_step` takes its roll-over into account.
    pub fn step(&self) -> f64 {
        self.step_planned(None)
    }

    /// The planning step: one scale step for an integer register. A FLOAT32
    /// counter shows its value to the float's last bit, and that bit grows
    /// with the count, so it is planned at the largest count the counter
    /// holds before it rolls over (`rollover`, canonical units;
    /// [`FLOAT_PLANNING_COUNT`] of the register's unit when `None`): the
    /// worst the register shows on that meter. A FLOAT32 instantaneous value
    /// is taken as 0.01 of its unit (meters display to 0.01; its last bit is
    /// finer).
    pub fn step_planned(&self, rollover: Option<f64>) -> f64 {
        match self.coding.kind {
            RegisterKind::F32 if self.is_counter() => {
                let count =
                    rollover.unwrap_or(FLOAT_PLANNING_COUNT * self.unit_factor * self.scale);
                self.step_at(count)
            }
            RegisterKind::F32 => 0.01 * self.unit_factor,
            _ => self.scale * self.unit_factor,
        }
    }

    /// The register's resolution at `canonical` (the value it shows now), in
    /// canonical units: one scale step for an integer register, one unit in
    /// the last place of the f32 that holds `canonical` for a float one.
    /// What the register method's quantisation uncertainty is taken from.
    pub fn step_at(&self, canonical: f64) -> f64 {
        match self.coding.kind {
            RegisterKind::F32 => {
                let raw = canonical / self.unit_factor / self.scale;
                f32_ulp(raw) * self.scale * self.unit_factor
            }
            _ => self.scale * self.unit_factor,
        }
    }

    /// Whether the unit is one of a counter's (energy, time).
    fn is_counter(&self) -> bool {
        [Dimension::ActiveEnergy, Dimension::ReactiveEnergy]
            .iter()
            .any(|d| d.units().iter().any(|(u, _)| *u == self.unit))
            && !self.unit.is_empty()
    }

    /// Raw register number for a canonical value. Counters (energy, time) show
    /// completed resolution steps, so they floor; instantaneous values round.
    pub fn raw_for(&self, canonical: f64, counter: bool) -> f64 {
        let raw = canonical / self.unit_factor / self.scale;
        if self.coding.kind == RegisterKind::F32 {
            raw
        } else if counter {
            // A hair of tolerance so 10.0 Wh stored as 9.9999999 still shows 1 step.
            (raw + 1e-9).floor()
        } else {
            raw.round()
        }
    }

    pub fn encode(&self, canonical: f64, counter: bool) -> Result<Vec<u16>, CodecError> {
        self.coding.encode(self.raw_for(canonical, counter))
    }

    /// Like `encode`, but a value beyond the register's range saturates, as a
    /// meter's display does.
    pub fn encode_saturating(&self, canonical: f64, counter: bool) -> Vec<u16> {
        let mut raw = self.raw_for(canonical, counter);
        if let Some((min, max)) = self.coding.kind.raw_range() {
            raw = raw.clamp(min, max);
        }
        if !raw.is_finite() {
            raw = 0.0;
        }
        self.coding
            .encode(raw)
            .unwrap_or_else(|_| vec![0; self.coding.kind.words()])
    }

    pub fn decode(&self, words: &[u16]) -> Result<f64, CodecError> {
        Ok(self.coding.decode(words)? * self.scale * self.unit_factor)
    }
}

/// The count a FLOAT32 energy register is planned at when the profile
/// declares no roll-over (`ratings.energy_rollover_kwh`): 10⁶ of its unit
/// (1 000 000 kWh), where an f32's last place is 1/16 of the unit. An
/// assumption, stated in the method the dry-run prints; the record takes the
/// resolution at the counts actually read.
pub const FLOAT_PLANNING_COUNT: f64 = 1.0e6;

/// One unit in the last place of the f32 nearest `x`: the gap to the next
/// float away from zero (IEEE 754 binary32, 24-bit significand), so 2⁻²³ of
/// the value's power of two; the smallest subnormal at 0.
pub fn f32_ulp(x: f64) -> f64 {
    let v = (x as f32).abs();
    if !v.is_finite() {
        return f64::INFINITY;
    }
    let next = f32::from_bits(v.to_bits() + 1);
    f64::from(next) - f64::from(v)
}

/// A named quantity's register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterDef {
    pub quantity: MeterQuantity,
    pub place: Placement,
    /// A finer register of the same counter (`high_resolution = { … }`,
    /// issue 20): the register method reads it instead when the planner
    /// finds it cheaper. Energy counters only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_resolution: Option<Placement>,
}

/// A write that switches the meter's test mode: `code` to `place`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeWrite {
    pub place: Placement,
    pub code: f64,
}

/// A factory test mode (`[test_mode]`, issue 20): entered by one write, left
/// by another (or by itself after `lasts`), and while it is on the meter
/// shows finer energy registers. The register method enters it before a
/// dial and leaves it after, on every exit path, like the source is
/// switched off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestMode {
    pub enter: ModeWrite,
    pub leave: ModeWrite,
    /// The writes need the password first.
    pub protected: bool,
    /// How long the meter stays in the mode before it leaves by itself: no
    /// dial in the mode may last longer.
    pub lasts: Duration,
    /// The finer registers the mode exposes, one per energy quantity.
    pub registers: Vec<RegisterDef>,
}

impl TestMode {
    pub fn register(&self, q: MeterQuantity) -> Option<&RegisterDef> {
        self.registers.iter().find(|r| r.quantity == q)
    }
}

/// A value a setting can take, as the profile writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Number(n) => f.write_str(&crate::quantity::trim_float(*n)),
            SettingValue::Text(t) => f.write_str(t),
        }
    }
}

/// One allowed value of an enumerated setting and the raw code that selects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: SettingValue,
    pub code: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingDef {
    pub setting: MeterSetting,
    pub place: Placement,
    /// Needs the password written first.
    pub protected: bool,
    /// Enumerated values; empty when the setting is numeric within `range`.
    pub choices: Vec<Choice>,
    /// Allowed numeric range in the setting's unit, for numeric settings.
    pub range: Option<(f64, f64)>,
    /// For commands and the password: the code to write.
    pub code: Option<f64>,
}

impl SettingDef {
    /// The raw code for a value, or why it is not allowed.
    pub fn code_for(&self, value: &SettingValue) -> Result<f64, String> {
        if !self.choices.is_empty() {
            return self
                .choices
                .iter()
                .find(|c| setting_values_match(&c.value, value))
                .map(|c| c.code)
                .ok_or_else(|| {
                    let allowed: Vec<String> =
                        self.choices.iter().map(|c| c.value.to_string()).collect();
                    format!(
                        "{} = {value} is not offered; allowed: {}",
                        self.setting,
                        allowed.join(", ")
                    )
                });
        }
        match value {
            SettingValue::Number(n) => {
                if let Some((lo, hi)) = self.range
                    && (*n < lo || *n > hi)
                {
                    return Err(format!("{} = {n} is outside {lo}..={hi}", self.setting));
                }
                Ok(self.place.raw_for(*n * self.place.unit_factor, false))
            }
            SettingValue::Text(t) => Err(format!("{} takes a number, not `{t}`", self.setting)),
        }
    }

    /// The value a raw code stands for.
    pub fn value_for(&self, code: f64) -> Option<SettingValue> {
        if self.choices.is_empty() {
            Some(SettingValue::Number(code * self.place.scale))
        } else {
            self.choices
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.value.clone())
        }
    }
}

fn setting_values_match(a: &SettingValue, b: &SettingValue) -> bool {
    match (a, b) {
        (SettingValue::Number(x), SettingValue::Number(y)) => {
            (x - y).abs() < 1e-9 * x.abs().max(1.0)
        }
        (SettingValue::Text(x), SettingValue::Text(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

impl MeterProfile {
    /// The function that reads `table` on this meter: the table's own, or
    /// the first one the meter accepts when it answers input and holding
    /// reads alike.
    pub fn read_function(&self, table: Table) -> u8 {
        let f = table.read_function();
        match self.modbus.as_ref() {
            Some(m) if !m.read_functions.contains(&f) && m.input_equals_holding => {
                m.read_functions[0]
            }
            _ => f,
        }
    }

    pub fn register(&self, q: MeterQuantity) -> Option<&RegisterDef> {
        self.registers.iter().find(|r| r.quantity == q)
    }

    /// The planning step of `q`'s register ([`Placement::step_planned`] at
    /// the profile's roll-over), canonical units; `None`: no such register.
    pub fn register_step(&self, q: MeterQuantity) -> Option<f64> {
        self.register(q)
            .map(|r| r.place.step_planned(self.ratings.energy_rollover_wh))
    }

    pub fn setting(&self, s: MeterSetting) -> Option<&SettingDef> {
        self.settings.iter().find(|d| d.setting == s)
    }

    /// Every readable named quantity, in map order.
    pub fn readable(&self) -> impl Iterator<Item = &RegisterDef> {
        self.registers.iter().filter(|r| r.place.access.readable())
    }

    pub fn has_modbus(&self) -> bool {
        self.modbus.is_some()
    }

    /// Every placement in the map, registers and settings, with its name.
    pub fn placements(&self) -> impl Iterator<Item = (String, &Placement)> {
        self.registers
            .iter()
            .map(|r| (r.quantity.to_string(), &r.place))
            .chain(
                self.settings
                    .iter()
                    .map(|s| (s.setting.to_string(), &s.place)),
            )
    }
}
