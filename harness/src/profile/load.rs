//! Reads a profile's TOML and validates it into a [`MeterProfile`].
//!
//! Every refusal names the file, the key and what is allowed: a lab editing a
//! map must see at once which line to fix.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::*;
use crate::quantity::{Amps, Celsius, Hertz, MeterConstant, PulseWeight, Volts};

/// A refused meter profile: the one input-file error (`crate::files`).
pub type ProfileError = crate::files::FileError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    meter: RawMeter,
    ratings: RawRatings,
    pulse: RawPulse,
    tariff: Option<RawTariff>,
    serial: Option<RawSerial>,
    modbus: Option<RawModbus>,
    #[serde(default)]
    registers: Vec<RawRegister>,
    #[serde(default)]
    settings: Vec<RawSetting>,
    test_mode: Option<RawTestMode>,
}

/// `[test_mode]`: the writes that enter and leave it, how long it lasts,
/// and the finer registers it shows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTestMode {
    enter: RawModeWrite,
    leave: RawModeWrite,
    #[serde(default)]
    protected: bool,
    lasts_min: f64,
    registers: Vec<RawRegister>,
}

/// `{ address = 0x2020, code = 1 }`: a holding register and the code written to it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModeWrite {
    address: i64,
    #[serde(default = "u16_kind")]
    kind: RegisterKind,
    code: f64,
}

fn u16_kind() -> RegisterKind {
    RegisterKind::U16
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeter {
    id: String,
    maker: String,
    model: String,
    variant: Variant,
    status: MapStatus,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRatings {
    un_v: f64,
    un_tolerance_pct: f64,
    fn_hz: Vec<f64>,
    f_ranges_hz: Vec<[f64; 2]>,
    iref_a: f64,
    imin_a: f64,
    imax_a: f64,
    ist_a: f64,
    itr_a: Option<f64>,
    active_class: String,
    reactive_class: Option<String>,
    #[serde(default = "one")]
    elements: u8,
    operating_temp_c: [f64; 2],
    energy_rollover_kwh: Option<f64>,
}

fn one() -> u8 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPulse {
    led_imp_per_kwh: f64,
    s0_weights_wh: Option<Vec<f64>>,
    s0_weight_default_wh: Option<f64>,
    s0_durations_ms: Option<Vec<u64>>,
    s0_duration_default_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariff {
    tariffs: u8,
    input_v: [f64; 2],
    debounce_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSerial {
    address_default: u8,
    address_range: [u8; 2],
    bauds: Vec<u32>,
    baud_default: u32,
    framings: Vec<Framing>,
    framing_default: Framing,
    response_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModbus {
    read_functions: Vec<u8>,
    write_functions: Vec<u8>,
    #[serde(default)]
    address_base: u16,
    max_read_registers: u16,
    max_write_registers: u16,
    #[serde(default)]
    odd_count_refused: bool,
    #[serde(default)]
    input_equals_holding: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlace {
    address: i64,
    table: Table,
    kind: RegisterKind,
    #[serde(default)]
    word_order: WordOrder,
    #[serde(default)]
    byte_order: ByteOrder,
    #[serde(default = "unit_scale")]
    scale: f64,
    #[serde(default)]
    unit: String,
    access: Access,
}

fn unit_scale() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    quantity: MeterQuantity,
    #[serde(flatten)]
    place: RawPlace,
    /// A finer register of the same counter (issue 20).
    high_resolution: Option<RawPlace>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetting {
    setting: MeterSetting,
    #[serde(flatten)]
    place: RawPlace,
    #[serde(default)]
    protected: bool,
    #[serde(default)]
    choices: Vec<RawChoice>,
    range: Option<[f64; 2]>,
    code: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    value: SettingValue,
    code: f64,
}

/// Loads and validates a profile file.
pub fn load_profile(path: &Path) -> Result<MeterProfile, ProfileError> {
    let text = crate::files::read_bounded(path, "meter profile")?;
    parse_profile(&text, path)
}

/// Validates a profile's text; `path` only names it in errors.
pub fn parse_profile(text: &str, path: &Path) -> Result<MeterProfile, ProfileError> {
    let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::syntax(path, &e))?;
    Checker { file: path }.profile(raw)
}

struct Checker<'a> {
    file: &'a Path,
}

impl Checker<'_> {
    fn c(&self) -> crate::files::Checker<'_> {
        crate::files::Checker::new(self.file)
    }

    fn bad(
        &self,
        key: impl Into<String>,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> ProfileError {
        ProfileError::Invalid {
            file: self.file.to_path_buf(),
            key: key.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// A finite number within `low..=high` (in `unit`), `low` above 0:
    /// every rating, constant and weight has a stated range (issue 16), so
    /// no period or gate computed from it is endless or below a nanosecond.
    fn positive(
        &self,
        key: &str,
        v: f64,
        range: std::ops::RangeInclusive<f64>,
        unit: &str,
    ) -> Result<f64, ProfileError> {
        self.c().within(key, v, range, unit)
    }

    fn profile(&self, raw: RawProfile) -> Result<MeterProfile, ProfileError> {
        if raw.meter.id.trim().is_empty() {
            return Err(self.bad("meter.id", "\"\"", "must name the profile"));
        }
        let ratings = self.ratings(&raw.ratings)?;
        let pulse = self.pulse(&raw.pulse)?;
        let tariff = raw.tariff.as_ref().map(|t| self.tariff(t)).transpose()?;
        let serial = raw.serial.as_ref().map(|s| self.serial(s)).transpose()?;
        let modbus = raw.modbus.as_ref().map(|m| self.modbus(m)).transpose()?;
        match raw.meter.variant {
            Variant::Modbus if serial.is_none() || modbus.is_none() => {
                return Err(self.bad(
                    "meter.variant",
                    "\"modbus\"",
                    "a Modbus meter needs [serial] and [modbus] sections",
                ));
            }
            Variant::Pulse if !raw.registers.is_empty() || !raw.settings.is_empty() => {
                return Err(self.bad(
                    "meter.variant",
                    "\"pulse\"",
                    "a pulse-only meter has no registers or settings",
                ));
            }
            _ => {}
        }
        let base = modbus.as_ref().map_or(0, |m| m.address_base);
        let mut registers = Vec::new();
        for (i, r) in raw.registers.iter().enumerate() {
            let key = format!("registers[{i}] ({})", r.quantity);
            if registers
                .iter()
                .any(|d: &RegisterDef| d.quantity == r.quantity)
            {
                return Err(self.bad(
                    format!("{key}.quantity"),
                    r.quantity,
                    "each quantity may appear once",
                ));
            }
            let place = self.place(
                &key,
                &r.place,
                r.quantity.dimension(),
                base,
                modbus.as_ref(),
            )?;
            let high_resolution = r
                .high_resolution
                .as_ref()
                .map(|h| {
                    self.finer(
                        &format!("{key}.high_resolution"),
                        r.quantity,
                        h,
                        &place,
                        base,
                        modbus.as_ref(),
                    )
                })
                .transpose()?;
            registers.push(RegisterDef {
                quantity: r.quantity,
                place,
                high_resolution,
            });
        }
        let mut settings = Vec::new();
        for (i, s) in raw.settings.iter().enumerate() {
            let key = format!("settings[{i}] ({})", s.setting);
            if settings.iter().any(|d: &SettingDef| d.setting == s.setting) {
                return Err(self.bad(
                    format!("{key}.setting"),
                    s.setting,
                    "each setting may appear once",
                ));
            }
            let place = self.place(&key, &s.place, s.setting.dimension(), base, modbus.as_ref())?;
            settings.push(self.setting(&key, s, place)?);
        }
        let test_mode = raw
            .test_mode
            .as_ref()
            .map(|t| self.test_mode(t, &registers, base, modbus.as_ref()))
            .transpose()?;
        if test_mode.as_ref().is_some_and(|t| t.protected)
            && !settings.iter().any(|d| d.setting == MeterSetting::Password)
        {
            return Err(self.bad(
                "test_mode.protected",
                "true",
                "a protected test mode needs the profile's `password` setting",
            ));
        }
        let profile = MeterProfile {
            id: raw.meter.id,
            maker: raw.meter.maker,
            model: raw.meter.model,
            variant: raw.meter.variant,
            status: raw.meter.status,
            source: raw.meter.source,
            file: self.file.to_path_buf(),
            ratings,
            pulse,
            tariff,
            serial,
            modbus,
            registers,
            settings,
            test_mode,
        };
        self.no_overlaps(&profile)?;
        Ok(profile)
    }

    fn ratings(&self, r: &RawRatings) -> Result<Ratings, ProfileError> {
        let un = self.positive("ratings.un_v", r.un_v, 1.0..=1000.0, "V")?;
        if !(0.0..=50.0).contains(&r.un_tolerance_pct) {
            return Err(self.bad(
                "ratings.un_tolerance_pct",
                r.un_tolerance_pct,
                "must lie within 0..=50",
            ));
        }
        let iref = self.positive("ratings.iref_a", r.iref_a, 0.001..=1000.0, "A")?;
        let imin = self.positive("ratings.imin_a", r.imin_a, 0.001..=1000.0, "A")?;
        let imax = self.positive("ratings.imax_a", r.imax_a, 0.001..=1000.0, "A")?;
        let ist = self.positive("ratings.ist_a", r.ist_a, 0.001..=1000.0, "A")?;
        let itr = match r.itr_a {
            Some(v) => self.positive("ratings.itr_a", v, 0.001..=1000.0, "A")?,
            None => iref / 10.0,
        };
        if ist >= imin {
            return Err(self.bad(
                "ratings.ist_a",
                ist,
                format!("must be below imin_a ({imin})"),
            ));
        }
        if imin >= itr {
            return Err(self.bad(
                "ratings.imin_a",
                imin,
                format!("must be below the transitional current ({itr})"),
            ));
        }
        if itr > iref {
            return Err(self.bad(
                "ratings.itr_a",
                itr,
                format!("must not exceed iref_a ({iref})"),
            ));
        }
        if iref >= imax {
            return Err(self.bad(
                "ratings.imax_a",
                imax,
                format!("must exceed iref_a ({iref})"),
            ));
        }
        if r.fn_hz.is_empty() || r.fn_hz.len() != r.f_ranges_hz.len() {
            return Err(self.bad(
                "ratings.f_ranges_hz",
                format!("{:?}", r.f_ranges_hz),
                "needs one [low, high] range for each nominal frequency in fn_hz",
            ));
        }
        for (i, (f, [lo, hi])) in r.fn_hz.iter().zip(&r.f_ranges_hz).enumerate() {
            self.positive(&format!("ratings.fn_hz[{i}]"), *f, 1.0..=1000.0, "Hz")?;
            if !(lo.is_finite() && *lo > 0.0 && lo < f && f < hi && *hi <= 1000.0) {
                return Err(self.bad(
                    format!("ratings.f_ranges_hz[{i}]"),
                    format!("[{lo}, {hi}]"),
                    format!("must enclose the nominal {f} Hz: 0 < low < {f} < high <= 1000 Hz"),
                ));
            }
        }
        if !matches!(r.active_class.as_str(), "A" | "B" | "C" | "0.5" | "1" | "2") {
            return Err(self.bad(
                "ratings.active_class",
                &r.active_class,
                "one of A, B, C (MID) or 0.5, 1, 2 (IEC)",
            ));
        }
        if r.elements == 0 || r.elements > 3 {
            return Err(self.bad(
                "ratings.elements",
                r.elements,
                "1, 2 or 3 measuring elements",
            ));
        }
        let [tlo, thi] = r.operating_temp_c;
        self.c()
            .within("ratings.operating_temp_c[0]", tlo, -100.0..=200.0, "°C")?;
        self.c()
            .within("ratings.operating_temp_c[1]", thi, -100.0..=200.0, "°C")?;
        if tlo >= thi {
            return Err(self.bad(
                "ratings.operating_temp_c",
                format!("[{tlo}, {thi}]"),
                "low must be below high",
            ));
        }
        Ok(Ratings {
            un: Volts(un),
            un_tolerance_pct: r.un_tolerance_pct,
            fn_hz: r.fn_hz.iter().map(|f| Hertz(*f)).collect(),
            f_ranges: r
                .f_ranges_hz
                .iter()
                .map(|[a, b]| (Hertz(*a), Hertz(*b)))
                .collect(),
            iref: Amps(iref),
            imin: Amps(imin),
            imax: Amps(imax),
            ist: Amps(ist),
            itr: Amps(itr),
            active_class: r.active_class.clone(),
            reactive_class: r.reactive_class.clone(),
            elements: r.elements,
            operating_temp: (Celsius(tlo), Celsius(thi)),
            energy_rollover_wh: match r.energy_rollover_kwh {
                None => None,
                Some(kwh) => Some(
                    self.c()
                        .within("ratings.energy_rollover_kwh", kwh, 1.0..=1e12, "kWh")?
                        * 1000.0,
                ),
            },
        })
    }

    fn pulse(&self, p: &RawPulse) -> Result<PulseSpec, ProfileError> {
        let led = self.positive(
            "pulse.led_imp_per_kwh",
            p.led_imp_per_kwh,
            1.0..=1e7,
            "imp/kWh",
        )?;
        let s0 = match (&p.s0_weights_wh, &p.s0_durations_ms) {
            (None, None) => None,
            (Some(weights), Some(durations)) => {
                for (i, w) in weights.iter().enumerate() {
                    self.positive(&format!("pulse.s0_weights_wh[{i}]"), *w, 0.001..=1e6, "Wh")?;
                }
                for (i, d) in durations.iter().enumerate() {
                    if *d == 0 || *d > 10_000 {
                        return Err(self.bad(
                            format!("pulse.s0_durations_ms[{i}]"),
                            d,
                            "must lie within 1..=10000 ms",
                        ));
                    }
                }
                let wd = p.s0_weight_default_wh.ok_or_else(|| {
                    self.bad(
                        "pulse.s0_weight_default_wh",
                        "missing",
                        "required when s0_weights_wh is given",
                    )
                })?;
                if !weights.contains(&wd) {
                    return Err(self.bad(
                        "pulse.s0_weight_default_wh",
                        wd,
                        format!("must be one of {weights:?}"),
                    ));
                }
                let dd = p.s0_duration_default_ms.ok_or_else(|| {
                    self.bad(
                        "pulse.s0_duration_default_ms",
                        "missing",
                        "required when s0_durations_ms is given",
                    )
                })?;
                if !durations.contains(&dd) {
                    return Err(self.bad(
                        "pulse.s0_duration_default_ms",
                        dd,
                        format!("must be one of {durations:?}"),
                    ));
                }
                Some(S0Spec {
                    weights: weights.iter().map(|w| PulseWeight(*w)).collect(),
                    weight_default: PulseWeight(wd),
                    durations: durations
                        .iter()
                        .map(|d| Duration::from_millis(*d))
                        .collect(),
                    duration_default: Duration::from_millis(dd),
                })
            }
            _ => {
                return Err(self.bad(
                    "pulse.s0_weights_wh",
                    "(one of weights/durations missing)",
                    "give both s0_weights_wh and s0_durations_ms, or neither",
                ));
            }
        };
        Ok(PulseSpec {
            led_constant: MeterConstant(led),
            s0,
        })
    }

    fn tariff(&self, t: &RawTariff) -> Result<TariffSpec, ProfileError> {
        if !(1..=4).contains(&t.tariffs) {
            return Err(self.bad("tariff.tariffs", t.tariffs, "must lie within 1..=4"));
        }
        let [lo, hi] = t.input_v;
        if !(lo > 0.0 && lo <= hi && hi <= 1000.0) {
            return Err(self.bad(
                "tariff.input_v",
                format!("[{lo}, {hi}]"),
                "0 < low <= high <= 1000 V",
            ));
        }
        if t.debounce_ms > 10_000 {
            return Err(self.bad(
                "tariff.debounce_ms",
                t.debounce_ms,
                "must lie within 0..=10000",
            ));
        }
        Ok(TariffSpec {
            tariffs: t.tariffs,
            input_voltage: (Volts(lo), Volts(hi)),
            debounce: Duration::from_millis(t.debounce_ms),
        })
    }

    fn serial(&self, s: &RawSerial) -> Result<SerialSpec, ProfileError> {
        let [lo, hi] = s.address_range;
        if lo == 0 || lo > hi {
            return Err(self.bad(
                "serial.address_range",
                format!("[{lo}, {hi}]"),
                "1 <= low <= high <= 255",
            ));
        }
        if !(lo..=hi).contains(&s.address_default) {
            return Err(self.bad(
                "serial.address_default",
                s.address_default,
                format!("must lie within {lo}..={hi}"),
            ));
        }
        const BAUDS: [u32; 9] = [
            1200, 2400, 4800, 9600, 19200, 38400, 57600, 115_200, 230_400,
        ];
        for (i, b) in s.bauds.iter().enumerate() {
            if !BAUDS.contains(b) {
                return Err(self.bad(format!("serial.bauds[{i}]"), b, format!("one of {BAUDS:?}")));
            }
        }
        if !s.bauds.contains(&s.baud_default) {
            return Err(self.bad(
                "serial.baud_default",
                s.baud_default,
                format!("must be one of {:?}", s.bauds),
            ));
        }
        if !s.framings.contains(&s.framing_default) {
            let names: Vec<String> = s.framings.iter().map(|f| f.to_string()).collect();
            return Err(self.bad(
                "serial.framing_default",
                s.framing_default,
                format!("must be one of {names:?}"),
            ));
        }
        if s.response_timeout_ms == 0 || s.response_timeout_ms > 10_000 {
            return Err(self.bad(
                "serial.response_timeout_ms",
                s.response_timeout_ms,
                "must lie within 1..=10000",
            ));
        }
        Ok(SerialSpec {
            address_default: s.address_default,
            address_range: (lo, hi),
            bauds: s.bauds.clone(),
            baud_default: s.baud_default,
            framings: s.framings.clone(),
            framing_default: s.framing_default,
            response_timeout: Duration::from_millis(s.response_timeout_ms),
        })
    }

    fn modbus(&self, m: &RawModbus) -> Result<ModbusSpec, ProfileError> {
        for (i, f) in m.read_functions.iter().enumerate() {
            if !matches!(f, 3 | 4) {
                return Err(self.bad(
                    format!("modbus.read_functions[{i}]"),
                    f,
                    "3 (holding) or 4 (input)",
                ));
            }
        }
        for (i, f) in m.write_functions.iter().enumerate() {
            if !matches!(f, 6 | 16) {
                return Err(self.bad(
                    format!("modbus.write_functions[{i}]"),
                    f,
                    "6 (single) or 16 (multiple)",
                ));
            }
        }
        if m.address_base > 1 {
            return Err(self.bad(
                "modbus.address_base",
                m.address_base,
                "0 (wire addresses) or 1 (register numbers)",
            ));
        }
        if !(1..=125).contains(&m.max_read_registers) {
            return Err(self.bad(
                "modbus.max_read_registers",
                m.max_read_registers,
                "must lie within 1..=125 (Modbus limit)",
            ));
        }
        if !(1..=123).contains(&m.max_write_registers) {
            return Err(self.bad(
                "modbus.max_write_registers",
                m.max_write_registers,
                "must lie within 1..=123 (Modbus limit)",
            ));
        }
        Ok(ModbusSpec {
            read_functions: m.read_functions.clone(),
            write_functions: m.write_functions.clone(),
            address_base: m.address_base,
            max_read_registers: m.max_read_registers,
            max_write_registers: m.max_write_registers,
            odd_count_refused: m.odd_count_refused,
            input_equals_holding: m.input_equals_holding,
        })
    }

    fn place(
        &self,
        key: &str,
        p: &RawPlace,
        dim: Dimension,
        base: u16,
        modbus: Option<&ModbusSpec>,
    ) -> Result<Placement, ProfileError> {
        let words = p.kind.words() as i64;
        let lowest = i64::from(base);
        if p.address < lowest || p.address > 0xFFFF + lowest - words + 1 {
            return Err(self.bad(
                format!("{key}.address"),
                p.address,
                format!(
                    "must lie within {lowest}..={} for a {}-word register",
                    0xFFFF + lowest - words + 1,
                    words
                ),
            ));
        }
        let unit_factor = dim
            .units()
            .iter()
            .find(|(u, _)| *u == p.unit)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let units: Vec<String> = dim
                    .units()
                    .iter()
                    .map(|(u, _)| format!("\"{u}\""))
                    .collect();
                self.bad(
                    format!("{key}.unit"),
                    format!("\"{}\"", p.unit),
                    format!("a {dim:?} value is in one of {}", units.join(", ")),
                )
            })?;
        if !(p.scale.is_finite() && p.scale >= 1e-9 && p.scale <= 1e9) {
            return Err(self.bad(format!("{key}.scale"), p.scale, "within 1e-9..=1e9"));
        }
        if p.kind.words() == 1 && p.word_order != WordOrder::HighFirst {
            return Err(self.bad(
                format!("{key}.word_order"),
                "\"low_first\"",
                "a one-word register has no word order",
            ));
        }
        if let Some(m) = modbus {
            let f = p.table.read_function();
            let readable_via = m.read_functions.contains(&f)
                || (m.input_equals_holding && m.read_functions.iter().any(|x| matches!(x, 3 | 4)));
            if p.access.readable() && !readable_via {
                return Err(self.bad(
                    format!("{key}.table"),
                    format!("{:?}", p.table).to_lowercase(),
                    format!(
                        "function {f} is not among modbus.read_functions {:?}",
                        m.read_functions
                    ),
                ));
            }
            if p.access.writable() && p.table == Table::Input {
                return Err(self.bad(
                    format!("{key}.access"),
                    "\"w\"",
                    "input registers cannot be written",
                ));
            }
        } else {
            return Err(self.bad(key, "a register", "registers need a [modbus] section"));
        }
        Ok(Placement {
            table: p.table,
            address: (p.address - lowest) as u16,
            coding: Coding {
                kind: p.kind,
                word_order: p.word_order,
                byte_order: p.byte_order,
            },
            scale: p.scale,
            unit: p.unit.clone(),
            unit_factor,
            access: p.access,
        })
    }

    /// A finer register of an energy counter (a `high_resolution` register
    /// or one a test mode shows): readable, and finer than the counter's own
    /// register, else the planner would never pick it and a lab has
    /// mistyped a scale.
    fn finer(
        &self,
        key: &str,
        quantity: MeterQuantity,
        p: &RawPlace,
        coarse: &Placement,
        base: u16,
        modbus: Option<&ModbusSpec>,
    ) -> Result<Placement, ProfileError> {
        let dim = quantity.dimension();
        if !matches!(dim, Dimension::ActiveEnergy | Dimension::ReactiveEnergy) {
            return Err(self.bad(
                key,
                quantity,
                "a finer register is declared for an energy counter only (active_* or reactive_* energy)",
            ));
        }
        let place = self.place(key, p, dim, base, modbus)?;
        if !place.access.readable() {
            return Err(self.bad(
                format!("{key}.access"),
                "\"w\"",
                "a finer register must be readable (\"r\" or \"rw\")",
            ));
        }
        let (fine, coarse_step) = (place.step(), coarse.step());
        if fine >= coarse_step {
            return Err(self.bad(
                format!("{key}.scale"),
                place.scale,
                format!(
                    "its step ({} {canon}) must be finer than `{quantity}`'s own ({} {canon})",
                    crate::quantity::trim_float(fine),
                    crate::quantity::trim_float(coarse_step),
                    canon = dim.canonical_unit()
                ),
            ));
        }
        Ok(place)
    }

    fn test_mode(
        &self,
        t: &RawTestMode,
        registers: &[RegisterDef],
        base: u16,
        modbus: Option<&ModbusSpec>,
    ) -> Result<TestMode, ProfileError> {
        let write = |key: &str, w: &RawModeWrite| -> Result<ModeWrite, ProfileError> {
            let raw = RawPlace {
                address: w.address,
                table: Table::Holding,
                kind: w.kind,
                word_order: WordOrder::HighFirst,
                byte_order: ByteOrder::default(),
                scale: 1.0,
                unit: String::new(),
                access: Access::W,
            };
            let place = self.place(key, &raw, Dimension::Dimensionless, base, modbus)?;
            if !w.code.is_finite() || w.code.fract() != 0.0 || place.coding.encode(w.code).is_err()
            {
                return Err(self.bad(
                    format!("{key}.code"),
                    crate::files::show(w.code),
                    format!("a whole number that fits a {} register", w.kind),
                ));
            }
            Ok(ModeWrite {
                place,
                code: w.code,
            })
        };
        let enter = write("test_mode.enter", &t.enter)?;
        let leave = write("test_mode.leave", &t.leave)?;
        if enter.place.address == leave.place.address && enter.code == leave.code {
            return Err(self.bad(
                "test_mode.leave.code",
                crate::files::show(leave.code),
                "must differ from test_mode.enter's write (the same write cannot enter and leave)",
            ));
        }
        let minutes = self
            .c()
            .within("test_mode.lasts_min", t.lasts_min, 1.0..=10_080.0, "min")?;
        if t.registers.is_empty() {
            return Err(self.bad(
                "test_mode.registers",
                "[]",
                "a test mode must show at least one finer energy register",
            ));
        }
        let mut out: Vec<RegisterDef> = Vec::new();
        for (i, r) in t.registers.iter().enumerate() {
            let key = format!("test_mode.registers[{i}] ({})", r.quantity);
            if out.iter().any(|d| d.quantity == r.quantity) {
                return Err(self.bad(
                    format!("{key}.quantity"),
                    r.quantity,
                    "each quantity may appear once",
                ));
            }
            if r.high_resolution.is_some() {
                return Err(self.bad(
                    format!("{key}.high_resolution"),
                    "a register",
                    "a test-mode register is the fine one: no high_resolution of its own",
                ));
            }
            let coarse = registers
                .iter()
                .find(|d| d.quantity == r.quantity)
                .ok_or_else(|| {
                    self.bad(
                        format!("{key}.quantity"),
                        r.quantity,
                        "must be a counter the profile's [[registers]] also list (its normal register)",
                    )
                })?;
            let place = self.finer(&key, r.quantity, &r.place, &coarse.place, base, modbus)?;
            out.push(RegisterDef {
                quantity: r.quantity,
                place,
                high_resolution: None,
            });
        }
        Ok(TestMode {
            enter,
            leave,
            protected: t.protected,
            lasts: Duration::from_secs_f64(minutes * 60.0),
            registers: out,
        })
    }

    fn setting(
        &self,
        key: &str,
        s: &RawSetting,
        place: Placement,
    ) -> Result<SettingDef, ProfileError> {
        if !place.access.writable() {
            return Err(self.bad(
                format!("{key}.access"),
                "\"r\"",
                "a setting must be writable (\"w\" or \"rw\")",
            ));
        }
        let mut choices = Vec::new();
        for (i, c) in s.choices.iter().enumerate() {
            if let SettingValue::Number(v) = c.value
                && !(v.is_finite() && v.abs() <= 1e9)
            {
                return Err(self.bad(
                    format!("{key}.choices[{i}].value"),
                    crate::files::show(v),
                    "a finite number within -1e9..=1e9",
                ));
            }
            if !c.code.is_finite()
                || place.coding.encode(c.code).is_err()
                || c.code.fract() != 0.0 && place.coding.kind != RegisterKind::F32
            {
                return Err(self.bad(
                    format!("{key}.choices[{i}].code"),
                    c.code,
                    format!("must fit a {:?} register", place.coding.kind),
                ));
            }
            if choices.iter().any(|x: &Choice| x.code == c.code) {
                return Err(self.bad(
                    format!("{key}.choices[{i}].code"),
                    c.code,
                    "codes must be distinct",
                ));
            }
            choices.push(Choice {
                value: c.value.clone(),
                code: c.code,
            });
        }
        let range = s.range.map(|[lo, hi]| (lo, hi));
        if let Some((lo, hi)) = range
            && !(lo.is_finite() && hi.is_finite() && lo <= hi)
        {
            return Err(self.bad(
                format!("{key}.range"),
                format!("[{lo}, {hi}]"),
                "finite [low, high] with low not above high",
            ));
        }
        let needs_code = s.setting.is_command() || s.setting == MeterSetting::Password;
        if needs_code && s.code.is_none() {
            return Err(self.bad(
                format!("{key}.code"),
                "missing",
                format!("{} needs the code to write", s.setting),
            ));
        }
        if let Some(code) = s.code
            && (!code.is_finite() || place.coding.encode(code).is_err())
        {
            return Err(self.bad(
                format!("{key}.code"),
                code,
                format!("must fit a {:?} register", place.coding.kind),
            ));
        }
        if !needs_code && choices.is_empty() && range.is_none() {
            return Err(self.bad(
                format!("{key}.range"),
                "missing",
                "a setting needs `choices` or a `range`",
            ));
        }
        Ok(SettingDef {
            setting: s.setting,
            place,
            protected: s.protected,
            choices,
            range,
            code: s.code,
        })
    }

    fn no_overlaps(&self, p: &MeterProfile) -> Result<(), ProfileError> {
        let same_table = p.modbus.as_ref().is_some_and(|m| m.input_equals_holding);
        let mut taken: BTreeMap<(Table, u16), String> = BTreeMap::new();
        let finer = p.registers.iter().filter_map(|r| {
            r.high_resolution
                .as_ref()
                .map(|h| (format!("{} high_resolution", r.quantity), h))
        });
        // The enter and leave writes may share one register (one address, two codes).
        let mode = p.test_mode.iter().flat_map(|t| {
            let leave = (t.leave.place.address != t.enter.place.address)
                .then(|| ("test_mode.leave".to_string(), &t.leave.place));
            std::iter::once(("test_mode.enter".to_string(), &t.enter.place))
                .chain(leave)
                .chain(
                    t.registers
                        .iter()
                        .map(|r| (format!("test_mode.registers ({})", r.quantity), &r.place)),
                )
        });
        for (name, place) in p.placements().chain(finer).chain(mode) {
            let table = if same_table {
                Table::Holding
            } else {
                place.table
            };
            for w in 0..place.words() {
                let addr = place.address + w;
                if let Some(other) = taken.insert((table, addr), name.clone()) {
                    return Err(self.bad(
                        format!("{name}.address"),
                        format!("0x{:04X}", place.address),
                        format!(
                            "overlaps `{other}` at wire address 0x{addr:04X} in the {table:?} table"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
