//! The rig's metrology, declared in the rig file's `[metrology]` table from
//! the reference standard's calibration certificate and the bench's own
//! reproducibility study.
//!
//! One number chosen by |cos φ| cannot stand for every quantity (issue 15,
//! item 3): a phase error δφ of the reference hurts active energy by
//! δP/P = δφ·tan φ and reactive energy by δQ/Q = δφ·cot φ (differentiate
//! P = UI cos φ and Q = UI sin φ), so reactive energy near sin φ → 0 is where
//! it hurts most; U, I and S have their own certificate lines; f and PF are
//! absolute figures (Hz, PF units), not percent.
//!
//! ```toml
//! [metrology]
//! reproducibility = { u_pct = 0.02, dof = 19 }
//! [metrology.reference]
//! active_energy = { u_pct = 0.02, phase_urad = 100 }
//! reactive_energy = { u_pct = 0.04, phase_urad = 100 }
//! voltage_pct = 0.02
//! current_pct = 0.02
//! apparent_power_pct = 0.03
//! frequency_hz = 0.001
//! power_factor = 0.0005
//! ```
//! Every U is expanded at k = 2, as certificates state them.

use serde::Deserialize;

use crate::stats::Reproducibility;

/// U of an energy (or power) at the in-phase condition, and the phase error
/// that grows it away from there.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyModel {
    /// U (k = 2) at φ = 0 (active) or φ = ±90° (reactive), percent.
    pub u_pct: f64,
    /// U (k = 2) of the reference's phase angle, microradians.
    pub phase_urad: f64,
}

/// The quantity a reference figure is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceQuantity {
    ActiveEnergy,
    ReactiveEnergy,
    Voltage,
    Current,
    ApparentPower,
    /// Absolute, Hz.
    Frequency,
    /// Absolute, PF units.
    PowerFactor,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceModel {
    pub active_energy: EnergyModel,
    pub reactive_energy: EnergyModel,
    pub voltage_pct: f64,
    pub current_pct: f64,
    pub apparent_power_pct: f64,
    pub frequency_hz: f64,
    pub power_factor: f64,
}

/// `[metrology] reproducibility`: the floor under type A and where it came
/// from. `studied` and `study` are optional, so rig files written before
/// them still load; a floor without `studied` is an assumed one, and the
/// record says so (`declared_floor_statement`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredReproducibility {
    /// s of a point's mean over the study's set-ups, percent.
    pub u_pct: f64,
    /// The study's degrees of freedom (set-ups − 1).
    pub dof: f64,
    /// The day the study was run (`metrig study reproducibility` prints it).
    #[serde(default, deserialize_with = "study_date")]
    pub studied: Option<chrono::NaiveDate>,
    /// Where the study's record (its raw gates and means) is kept.
    pub study: Option<String>,
}

/// `studied = "YYYY-MM-DD"`, with an error that says so.
fn study_date<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::NaiveDate>, D::Error> {
    let text = String::deserialize(d)?;
    chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "`studied` = \"{text}\": the study's date as \"YYYY-MM-DD\" ({e})"
            ))
        })
}

impl DeclaredReproducibility {
    /// The figure type A uses.
    pub fn floor(&self) -> Reproducibility {
        Reproducibility {
            u_pct: self.u_pct,
            dof: self.dof,
        }
    }

    /// What the record says of the floor: "floor … studied on DATE" or
    /// "… declared without a study".
    pub fn statement(&self) -> String {
        match self.studied {
            Some(d) => format!(
                "type A floor (rig reproducibility) {} %, {} dof, studied on {d}{}",
                self.u_pct,
                self.dof,
                self.study
                    .as_deref()
                    .map(|p| format!(" (study record: {p})"))
                    .unwrap_or_default()
            ),
            None => format!(
                "type A floor (rig reproducibility) {} %, {} dof, declared without a study",
                self.u_pct, self.dof
            ),
        }
    }
}

/// What a run does with the rig's floor before its first point: the record's
/// statement (`Ok`, with whether the floor was studied) or the refusal.
///
/// A type A floor nobody measured is an assumption a notified body cannot
/// check: ISO/IEC 17025 §7.6.1 asks that the contributions to uncertainty
/// be identified and evaluated, and §7.2.2 that a method be validated by
/// studying its performance. So a `kind = "type-test"` plan on a lab rig
/// whose floor has no study date (or that declares none) is refused unless
/// the plan or the command line says why (recorded, as for an overdue
/// calibration). Other plans, and the simulated rig, run and say so.
pub fn floor_precondition(
    declared: Option<&DeclaredReproducibility>,
    lab_rig: bool,
    type_test: bool,
    reason: Option<&str>,
) -> Result<Option<(String, bool)>, String> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let studied = declared.is_some_and(|d| d.studied.is_some());
    let text = declared.map(DeclaredReproducibility::statement);
    if studied || !(lab_rig && type_test) {
        return Ok(text.map(|t| (t, studied)));
    }
    let what = text.unwrap_or_else(|| "no type A floor (rig reproducibility) declared".into());
    match reason {
        Some(r) => Ok(Some((
            format!("{what}; the type test went on because: {r}"),
            false,
        ))),
        None => Err(format!(
            "{what}: a type test needs the bench's reproducibility measured. Run `metrig study reproducibility --rig RIG` and paste its line under [metrology], or say why the run may go on: `[preconditions] floor_unstudied = \"reason\"` in the plan, or `metrig run --floor-unstudied \"reason\"`"
        )),
    }
}

/// `[metrology]` of a rig file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RigMetrology {
    /// The bench's reproducibility of a point's mean error: the floor under
    /// type A (`stats::type_a`).
    pub reproducibility: Option<DeclaredReproducibility>,
    /// The reference's uncertainty per quantity; without it, one derived from
    /// `[reference] uncertainty_pct` / `uncertainty_low_pf_pct`
    /// ([`ReferenceModel::from_two_figures`]).
    pub reference: Option<ReferenceModel>,
}

/// A figure of `[metrology]` outside its range: key, value, allowed range.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfRange {
    pub key: String,
    pub value: f64,
    pub allowed: &'static str,
}

fn within(
    key: &str,
    value: f64,
    lo: f64,
    hi: f64,
    allowed: &'static str,
) -> Result<(), OutOfRange> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(OutOfRange {
            key: format!("metrology.{key}"),
            value,
            allowed,
        })
    }
}

impl RigMetrology {
    /// Every figure within the range a real certificate can state.
    pub fn validate(&self) -> Result<(), OutOfRange> {
        if let Some(r) = &self.reproducibility {
            within("reproducibility.u_pct", r.u_pct, 0.0, 1.0, "0 ..= 1 %")?;
            within("reproducibility.dof", r.dof, 1.0, 1.0e4, "1 ..= 10000")?;
        }
        if let Some(m) = &self.reference {
            for (key, e) in [
                ("reference.active_energy", m.active_energy),
                ("reference.reactive_energy", m.reactive_energy),
            ] {
                within(
                    &format!("{key}.u_pct"),
                    e.u_pct,
                    1e-4,
                    1.0,
                    "0.0001 ..= 1 %",
                )?;
                within(
                    &format!("{key}.phase_urad"),
                    e.phase_urad,
                    0.0,
                    10_000.0,
                    "0 ..= 10000 µrad",
                )?;
            }
            for (key, v) in [
                ("reference.voltage_pct", m.voltage_pct),
                ("reference.current_pct", m.current_pct),
                ("reference.apparent_power_pct", m.apparent_power_pct),
            ] {
                within(key, v, 1e-4, 1.0, "0.0001 ..= 1 %")?;
            }
            within(
                "reference.frequency_hz",
                m.frequency_hz,
                1e-6,
                0.1,
                "0.000001 ..= 0.1 Hz",
            )?;
            within(
                "reference.power_factor",
                m.power_factor,
                1e-6,
                0.05,
                "0.000001 ..= 0.05",
            )?;
        }
        Ok(())
    }
}

impl ReferenceModel {
    /// The model implied by the two figures a rig file gave before
    /// `[metrology]` existed: U at PF 1 and at PF 0.5 (or 0.8) for active
    /// energy. The phase error is the one that explains the growth at PF 0.5
    /// (tan 60° = √3); U, I and S take the PF 1 figure; f and PF take
    /// 0.001 Hz and 0.0005, the figures class 0.02–0.05 reference standards'
    /// certificates state (a tenth and a twentieth of the IEC 61557-12
    /// class 1 limits); a rig whose certificate says otherwise declares
    /// `[metrology.reference]`.
    pub fn from_two_figures(u_pf1_pct: f64, u_low_pf_pct: f64) -> Self {
        let extra = (u_low_pf_pct.powi(2) - u_pf1_pct.powi(2)).max(0.0).sqrt();
        let phase_urad = extra / 100.0 / 3f64.sqrt() * 1e6;
        let e = EnergyModel {
            u_pct: u_pf1_pct,
            phase_urad,
        };
        Self {
            active_energy: e,
            reactive_energy: e,
            voltage_pct: u_pf1_pct,
            current_pct: u_pf1_pct,
            apparent_power_pct: u_pf1_pct,
            frequency_hz: 0.001,
            power_factor: 0.0005,
        }
    }

    /// U (k = 2) of `q` at phase angle `phase_deg` (φ of current against
    /// voltage): percent for energies, U, I and S; Hz for f; PF units for PF.
    pub fn expanded(&self, q: ReferenceQuantity, phase_deg: f64) -> f64 {
        let phi = phase_deg.to_radians();
        let grow = |e: EnergyModel, factor: f64| {
            let phase_pct = e.phase_urad * 1e-6 * factor * 100.0;
            (e.u_pct.powi(2) + phase_pct.powi(2)).sqrt()
        };
        match q {
            // δP/P = δφ·|tan φ|; capped at 89.9° where P itself vanishes.
            ReferenceQuantity::ActiveEnergy => grow(self.active_energy, phi.tan().abs().min(573.0)),
            // δQ/Q = δφ·|cot φ|.
            ReferenceQuantity::ReactiveEnergy => {
                let s = phi.sin().abs().max(1.745e-3);
                grow(self.reactive_energy, phi.cos().abs() / s)
            }
            ReferenceQuantity::Voltage => self.voltage_pct,
            ReferenceQuantity::Current => self.current_pct,
            ReferenceQuantity::ApparentPower => self.apparent_power_pct,
            ReferenceQuantity::Frequency => self.frequency_hz,
            // PF = cos φ: δPF = |sin φ|·δφ on top of the stated figure.
            ReferenceQuantity::PowerFactor => {
                let phase = self.active_energy.phase_urad * 1e-6 * phi.sin().abs();
                (self.power_factor.powi(2) + phase.powi(2)).sqrt()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ReferenceModel {
        ReferenceModel {
            active_energy: EnergyModel {
                u_pct: 0.02,
                phase_urad: 100.0,
            },
            reactive_energy: EnergyModel {
                u_pct: 0.04,
                phase_urad: 100.0,
            },
            voltage_pct: 0.02,
            current_pct: 0.02,
            apparent_power_pct: 0.03,
            frequency_hz: 0.001,
            power_factor: 0.0005,
        }
    }

    #[test]
    fn the_phase_error_hurts_where_the_derivative_says() {
        let m = model();
        // Active at PF 1: the in-phase figure alone.
        assert!((m.expanded(ReferenceQuantity::ActiveEnergy, 0.0) - 0.02).abs() < 1e-12);
        // Active at PF 0.5 (60°): 100 µrad · √3 = 0.01732 %, in quadrature with 0.02 %.
        let want = (0.02f64.powi(2) + 0.017_320_5f64.powi(2)).sqrt();
        assert!((m.expanded(ReferenceQuantity::ActiveEnergy, 60.0) - want).abs() < 1e-6);
        // Reactive at sin φ = 0.5 (30°): cot 30° = √3, same growth on 0.04 %.
        let want = (0.04f64.powi(2) + 0.017_320_5f64.powi(2)).sqrt();
        assert!((m.expanded(ReferenceQuantity::ReactiveEnergy, 30.0) - want).abs() < 1e-6);
        // Reactive at sin φ = 0.1 hurts far more than active at PF 0.1 would not.
        assert!(
            m.expanded(ReferenceQuantity::ReactiveEnergy, 5.74)
                > 5.0 * m.expanded(ReferenceQuantity::ActiveEnergy, 5.74)
        );
        // f and PF are absolute.
        assert_eq!(m.expanded(ReferenceQuantity::Frequency, 60.0), 0.001);
        assert!(m.expanded(ReferenceQuantity::PowerFactor, 60.0) > 0.0005);
    }

    #[test]
    fn the_two_old_figures_imply_a_phase_error() {
        let m = ReferenceModel::from_two_figures(0.02, 0.04);
        assert!((m.expanded(ReferenceQuantity::ActiveEnergy, 60.0) - 0.04).abs() < 1e-9);
        assert!((m.expanded(ReferenceQuantity::ActiveEnergy, 0.0) - 0.02).abs() < 1e-12);
    }

    #[test]
    fn out_of_range_figures_name_their_key() {
        let mut bad = RigMetrology {
            reproducibility: Some(DeclaredReproducibility {
                u_pct: 0.02,
                dof: 0.0,
                studied: None,
                study: None,
            }),
            reference: None,
        };
        let e = bad.validate().expect_err("dof 0");
        assert_eq!(e.key, "metrology.reproducibility.dof");
        bad.reproducibility = None;
        let mut m = model();
        m.frequency_hz = 5.0;
        bad.reference = Some(m);
        let e = bad.validate().expect_err("5 Hz");
        assert_eq!(e.key, "metrology.reference.frequency_hz");
        assert!(e.allowed.contains("Hz"));
        let parsed: RigMetrology = toml::from_str(
            "reproducibility = { u_pct = 0.02, dof = 19 }\n[reference]\nactive_energy = { u_pct = 0.02, phase_urad = 100 }\nreactive_energy = { u_pct = 0.04, phase_urad = 100 }\nvoltage_pct = 0.02\ncurrent_pct = 0.02\napparent_power_pct = 0.03\nfrequency_hz = 0.001\npower_factor = 0.0005\n",
        )
        .expect("parses");
        assert!(parsed.validate().is_ok());
        assert!(toml::from_str::<RigMetrology>("reproducibilty = 1").is_err());
    }

    #[test]
    fn a_type_test_on_a_lab_rig_wants_a_studied_floor_or_a_reason() {
        let assumed: RigMetrology =
            toml::from_str("reproducibility = { u_pct = 0.05, dof = 19 }").expect("parses");
        let studied: RigMetrology = toml::from_str(
            "reproducibility = { u_pct = 0.05, dof = 19, studied = \"2026-12-01\" }",
        )
        .expect("parses");
        let a = assumed.reproducibility.as_ref();
        let refusal = floor_precondition(a, true, true, None).expect_err("refused");
        assert!(
            refusal.contains("metrig study reproducibility"),
            "{refusal}"
        );
        assert!(refusal.contains("--floor-unstudied"), "{refusal}");
        assert!(floor_precondition(None, true, true, Some("  ")).is_err());
        let (why, ok) = floor_precondition(a, true, true, Some("study booked for Monday"))
            .expect("a reason")
            .expect("recorded");
        assert!(!ok && why.contains("study booked for Monday") && why.contains("without a study"));
        // Not a type test, or the simulated rig: it runs, and says so.
        let (t, ok) = floor_precondition(a, true, false, None)
            .expect("runs")
            .expect("said");
        assert!(!ok && t.contains("declared without a study"));
        assert!(floor_precondition(a, false, true, None).is_ok());
        assert_eq!(floor_precondition(None, false, true, None), Ok(None));
        let (t, ok) = floor_precondition(studied.reproducibility.as_ref(), true, true, None)
            .expect("studied")
            .expect("said");
        assert!(ok && t.contains("studied on 2026-12-01"), "{t}");
    }

    /// A study's line (`StudyFigures::rig_line`) loads with its date and
    /// record; an older line without them still loads, as an assumed floor.
    #[test]
    fn a_studied_floor_says_when_and_an_assumed_one_says_so() {
        let studied: RigMetrology = toml::from_str(
            "reproducibility = { u_pct = 0.0731, dof = 19, studied = \"2026-12-01\", study = \"reports/out/s.json\" }",
        )
        .expect("parses");
        let r = studied.reproducibility.expect("floor");
        assert_eq!(r.floor().u_pct, 0.0731);
        assert!(
            r.statement().contains("studied on 2026-12-01"),
            "{}",
            r.statement()
        );
        assert!(r.statement().contains("reports/out/s.json"));
        let old: RigMetrology =
            toml::from_str("reproducibility = { u_pct = 0.05, dof = 19 }").expect("parses");
        let r = old.reproducibility.expect("floor");
        assert!(r.statement().contains("declared without a study"));
        assert!(
            toml::from_str::<RigMetrology>(
                "reproducibility = { u_pct = 0.05, dof = 19, studied = \"yesterday\" }"
            )
            .is_err()
        );
    }
}
