//! The names a profile gives to what a meter's registers hold.
//!
//! Suites ask the meter for a *named* quantity ("active_import_total"); the
//! profile says where it lives and how it is coded. The names are a contract
//! with the TOML profiles: serde spells them in snake_case and refuses any
//! other, listing the allowed ones.

use serde::{Deserialize, Serialize};

/// The physical dimension of a named quantity, which fixes the units its
/// registers may be declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Voltage,
    Current,
    Frequency,
    ActivePower,
    ReactivePower,
    ApparentPower,
    ActiveEnergy,
    ReactiveEnergy,
    Time,
    Angle,
    Dimensionless,
}

impl Dimension {
    /// Units a register of this dimension may be declared in, with the factor
    /// that takes a value in that unit to the canonical one (the first).
    pub fn units(self) -> &'static [(&'static str, f64)] {
        match self {
            Dimension::Voltage => &[("V", 1.0), ("mV", 1e-3), ("kV", 1e3)],
            Dimension::Current => &[("A", 1.0), ("mA", 1e-3)],
            Dimension::Frequency => &[("Hz", 1.0)],
            Dimension::ActivePower => &[("W", 1.0), ("kW", 1e3)],
            Dimension::ReactivePower => &[("var", 1.0), ("kvar", 1e3)],
            Dimension::ApparentPower => &[("VA", 1.0), ("kVA", 1e3)],
            Dimension::ActiveEnergy => &[("Wh", 1.0), ("kWh", 1e3)],
            Dimension::ReactiveEnergy => &[("varh", 1.0), ("kvarh", 1e3)],
            Dimension::Time => &[("s", 1.0), ("min", 60.0), ("h", 3600.0), ("ms", 1e-3)],
            Dimension::Angle => &[("deg", 1.0)],
            Dimension::Dimensionless => &[("", 1.0)],
        }
    }

    pub fn canonical_unit(self) -> &'static str {
        self.units()[0].0
    }

    /// Counters show completed resolution steps; instantaneous values round.
    pub fn is_counter(self) -> bool {
        matches!(
            self,
            Dimension::ActiveEnergy | Dimension::ReactiveEnergy | Dimension::Time
        )
    }
}

macro_rules! named {
    ($(#[$doc:meta])* $enum:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal : $dim:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $enum {
            $($(#[$vdoc])* $variant),*
        }

        impl $enum {
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $text),*
                }
            }

            pub fn dimension(self) -> Dimension {
                match self {
                    $($enum::$variant => Dimension::$dim),*
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($enum::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named!(
    /// A quantity a meter reports.
    MeterQuantity {
        Voltage = "voltage": Voltage,
        Current = "current": Current,
        Frequency = "frequency": Frequency,
        ActivePower = "active_power": ActivePower,
        ReactivePower = "reactive_power": ReactivePower,
        ApparentPower = "apparent_power": ApparentPower,
        /// |cos φ|; its sector (inductive/capacitive) is `pf_sector`.
        PowerFactor = "power_factor": Dimensionless,
        PhaseAngle = "phase_angle": Angle,
        /// 0 when active power is imported, 1 when exported (IME style).
        ActivePowerSign = "active_power_sign": Dimensionless,
        /// 0 when reactive power is positive (Q1, Q2), 1 when negative.
        ReactivePowerSign = "reactive_power_sign": Dimensionless,
        /// 0 inductive, 1 capacitive.
        PfSector = "pf_sector": Dimensionless,
        /// 1 or 2.
        ActiveTariff = "active_tariff": Dimensionless,
        ActiveImportTotal = "active_import_total": ActiveEnergy,
        ActiveExportTotal = "active_export_total": ActiveEnergy,
        /// Import plus export, as some meters (SDM120, EM111) also report.
        ActiveSumTotal = "active_sum_total": ActiveEnergy,
        ActiveImportPartial = "active_import_partial": ActiveEnergy,
        ActiveExportPartial = "active_export_partial": ActiveEnergy,
        ActiveImportT1 = "active_import_t1": ActiveEnergy,
        ActiveImportT2 = "active_import_t2": ActiveEnergy,
        ActiveExportT1 = "active_export_t1": ActiveEnergy,
        ActiveExportT2 = "active_export_t2": ActiveEnergy,
        /// Quadrants I + II.
        ReactiveImportTotal = "reactive_import_total": ReactiveEnergy,
        /// Quadrants III + IV.
        ReactiveExportTotal = "reactive_export_total": ReactiveEnergy,
        ReactiveSumTotal = "reactive_sum_total": ReactiveEnergy,
        ReactiveImportPartial = "reactive_import_partial": ReactiveEnergy,
        ReactiveExportPartial = "reactive_export_partial": ReactiveEnergy,
        ReactiveImportT1 = "reactive_import_t1": ReactiveEnergy,
        ReactiveImportT2 = "reactive_import_t2": ReactiveEnergy,
        ReactiveQ1Total = "reactive_q1_total": ReactiveEnergy,
        ReactiveQ2Total = "reactive_q2_total": ReactiveEnergy,
        ReactiveQ3Total = "reactive_q3_total": ReactiveEnergy,
        ReactiveQ4Total = "reactive_q4_total": ReactiveEnergy,
        /// Moving average of active power over the configured window.
        AveragePower = "average_power": ActivePower,
        AveragePowerMax = "average_power_max": ActivePower,
        /// Resettable operating-time counter.
        HourMeter = "hour_meter": Time,
        ModelId = "model_id": Dimensionless,
        SerialNumber = "serial_number": Dimensionless,
        FirmwareVersion = "firmware_version": Dimensionless,
    }
);

named!(
    /// A setting a suite may change (and must restore).
    MeterSetting {
        /// Unlocks protected settings when written with the profile's code.
        Password = "password": Dimensionless,
        Address = "address": Dimensionless,
        Baud = "baud": Dimensionless,
        /// Data bits, parity and stop bits as one word: "8N1", "8E1", "8O1", "8N2".
        Framing = "framing": Dimensionless,
        S0Weight = "s0_weight": ActiveEnergy,
        S0Duration = "s0_duration": Time,
        AverageWindow = "average_window": Time,
        HourMeterThreshold = "hour_meter_threshold": ActivePower,
        /// A command: writing its code clears the partial counters.
        PartialReset = "partial_reset": Dimensionless,
        HourMeterReset = "hour_meter_reset": Dimensionless,
        AverageMaxReset = "average_max_reset": Dimensionless,
        /// Factory test mode: presets the total active import counter, so that
        /// roll-over past 9 999 999.99 kWh can be checked without 600 000 h at Imax.
        EnergyPreset = "energy_preset": ActiveEnergy,
    }
);

impl MeterSetting {
    /// Commands are written, never read back.
    pub fn is_command(self) -> bool {
        matches!(
            self,
            MeterSetting::PartialReset
                | MeterSetting::HourMeterReset
                | MeterSetting::AverageMaxReset
        )
    }
}
