//! The simulated meter's register map: the profile, served.
//!
//! The same profile that the link uses to decode is used here to encode, so
//! a profile is checked end to end over real Modbus. The rules are those a
//! careful meter follows: a read must start and end on whole values and touch
//! only mapped, readable addresses (else exception 02); settings are written
//! whole, with protected ones refused until the password is written.

use std::collections::BTreeMap;

use tokio_modbus::ExceptionCode;

use super::meter_model::{MeterModel, Refusal};
use crate::profile::{
    MeterProfile, MeterQuantity, MeterSetting, Placement, SettingValue, Table, TestMode,
};

#[derive(Debug, Clone, Copy)]
enum Entry {
    Register(usize),
    /// `registers[i]`'s `high_resolution` register.
    Finer(usize),
    /// `test_mode.registers[i]`: served only while the mode is on.
    TestMode(usize),
    Setting(usize),
    /// The test mode's enter (and leave, when at the same address) register.
    ModeSwitch,
}

/// Wire address → the value that starts there.
#[derive(Debug, Default)]
pub struct RegisterIndex {
    starts: BTreeMap<(Table, u16), Entry>,
    same_table: bool,
}

impl RegisterIndex {
    pub fn new(profile: &MeterProfile) -> Self {
        let same_table = profile
            .modbus
            .as_ref()
            .is_some_and(|m| m.input_equals_holding);
        let table = |t: Table| if same_table { Table::Holding } else { t };
        let mut starts = BTreeMap::new();
        for (i, r) in profile.registers.iter().enumerate() {
            starts.insert((table(r.place.table), r.place.address), Entry::Register(i));
        }
        for (i, r) in profile.registers.iter().enumerate() {
            if let Some(h) = &r.high_resolution {
                starts.insert((table(h.table), h.address), Entry::Finer(i));
            }
        }
        for (i, s) in profile.settings.iter().enumerate() {
            starts.insert((table(s.place.table), s.place.address), Entry::Setting(i));
        }
        if let Some(t) = &profile.test_mode {
            for (i, r) in t.registers.iter().enumerate() {
                starts.insert((table(r.place.table), r.place.address), Entry::TestMode(i));
            }
            for w in [&t.enter, &t.leave] {
                starts.insert((Table::Holding, w.place.address), Entry::ModeSwitch);
            }
        }
        Self { starts, same_table }
    }

    fn table(&self, t: Table) -> Table {
        if self.same_table { Table::Holding } else { t }
    }

    /// Reads `count` words from `addr` in `table`.
    pub fn read(
        &self,
        profile: &MeterProfile,
        model: &MeterModel,
        table: Table,
        addr: u16,
        count: u16,
    ) -> Result<Vec<u16>, ExceptionCode> {
        let table = self.table(table);
        let end = addr as u32 + count as u32;
        let mut out = Vec::with_capacity(count as usize);
        let mut a = addr as u32;
        while a < end {
            let entry = self
                .starts
                .get(&(table, a as u16))
                .ok_or(ExceptionCode::IllegalDataAddress)?;
            let (place, words) = match *entry {
                Entry::Register(i) => {
                    let r = &profile.registers[i];
                    serve(model, r.quantity, &r.place)?
                }
                Entry::Finer(i) => {
                    let r = &profile.registers[i];
                    let place = r
                        .high_resolution
                        .as_ref()
                        .ok_or(ExceptionCode::IllegalDataAddress)?;
                    serve(model, r.quantity, place)?
                }
                Entry::TestMode(i) => {
                    // Outside the mode the meter does not show them (exception 02).
                    if !model.in_test_mode() {
                        return Err(ExceptionCode::IllegalDataAddress);
                    }
                    let r = profile
                        .test_mode
                        .as_ref()
                        .and_then(|t| t.registers.get(i))
                        .ok_or(ExceptionCode::IllegalDataAddress)?;
                    serve(model, r.quantity, &r.place)?
                }
                Entry::ModeSwitch => return Err(ExceptionCode::IllegalDataAddress),
                Entry::Setting(i) => {
                    let s = &profile.settings[i];
                    if !s.place.access.readable() {
                        return Err(ExceptionCode::IllegalDataAddress);
                    }
                    let value = model
                        .setting_value(s.setting)
                        .ok_or(ExceptionCode::IllegalDataAddress)?;
                    let in_unit = to_unit(&value, &s.place);
                    let code = s
                        .code_for(&in_unit)
                        .map_err(|_| ExceptionCode::ServerDeviceFailure)?;
                    (
                        &s.place,
                        s.place
                            .coding
                            .encode(code)
                            .map_err(|_| ExceptionCode::ServerDeviceFailure)?,
                    )
                }
            };
            if a + place.words() as u32 > end {
                // The read would split a multi-word value.
                return Err(ExceptionCode::IllegalDataAddress);
            }
            out.extend_from_slice(&words);
            a += place.words() as u32;
        }
        Ok(out)
    }

    /// Writes `words` from `addr` (holding table).
    pub fn write(
        &self,
        profile: &MeterProfile,
        model: &mut MeterModel,
        addr: u16,
        words: &[u16],
    ) -> Result<(), ExceptionCode> {
        if let Some(t) = &profile.test_mode
            && matches!(
                self.starts.get(&(Table::Holding, addr)),
                Some(Entry::ModeSwitch)
            )
        {
            return switch_test_mode(t, model, addr, words);
        }
        // Validate the whole request before applying any of it.
        let mut plan: Vec<(usize, f64)> = Vec::new();
        let mut a = addr as usize;
        let end = addr as usize + words.len();
        while a < end {
            let Some(Entry::Setting(i)) = self.starts.get(&(Table::Holding, a as u16)).copied()
            else {
                return Err(ExceptionCode::IllegalDataAddress);
            };
            let s = &profile.settings[i];
            let n = s.place.words() as usize;
            if a + n > end || !s.place.access.writable() {
                return Err(ExceptionCode::IllegalDataAddress);
            }
            let off = a - addr as usize;
            let code = s
                .place
                .coding
                .decode(&words[off..off + n])
                .map_err(|_| ExceptionCode::IllegalDataValue)?;
            plan.push((i, code));
            a += n;
        }
        // Check every value, as if applied in order (a password earlier in
        // the request unlocks what follows), before applying any: a refused
        // write changes nothing, not even the lock (exception 03).
        let mut unlocked = model.is_unlocked();
        let mut apply: Vec<(MeterSetting, SettingValue)> = Vec::new();
        for (i, code) in plan {
            let s = &profile.settings[i];
            if s.setting == MeterSetting::Password {
                if s.code != Some(code) {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                unlocked = true;
                apply.push((s.setting, SettingValue::Number(code)));
                continue;
            }
            if s.protected && !unlocked {
                return Err(ExceptionCode::IllegalDataValue);
            }
            let value = if let Some(expected) = s.code {
                if code != expected {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                SettingValue::Number(1.0)
            } else {
                let v = s.value_for(code).ok_or(ExceptionCode::IllegalDataValue)?;
                // Numeric settings must also lie in the profile's range.
                s.code_for(&v)
                    .map_err(|_| ExceptionCode::IllegalDataValue)?;
                from_unit(&v, &s.place)
            };
            model
                .check_setting(s.setting, &value)
                .map_err(|_| ExceptionCode::IllegalDataValue)?;
            apply.push((s.setting, value));
        }
        for (setting, value) in apply {
            if setting == MeterSetting::Password {
                model.enter_password(true);
                continue;
            }
            model.apply_setting(setting, &value).map_err(|r| match r {
                Refusal::Locked | Refusal::BadValue(_) => ExceptionCode::IllegalDataValue,
            })?;
        }
        Ok(())
    }
}

/// A counter or value as `place` shows it.
fn serve<'p>(
    model: &MeterModel,
    quantity: MeterQuantity,
    place: &'p Placement,
) -> Result<(&'p Placement, Vec<u16>), ExceptionCode> {
    if !place.access.readable() {
        return Err(ExceptionCode::IllegalDataAddress);
    }
    let counter = quantity.dimension().is_counter();
    let mut value = model.quantity(quantity);
    if place
        .coding
        .kind
        .raw_range()
        .is_some_and(|(lo, _)| lo >= 0.0)
    {
        // Unsigned registers hold the magnitude; the sign has its own register.
        value = value.abs();
    }
    Ok((place, place.encode_saturating(value, counter)))
}

/// A write to the test mode's switch: the enter code enters it (after the
/// password when the profile marks it protected), the leave code leaves it;
/// any other write there is refused (exception 03) and changes nothing.
fn switch_test_mode(
    t: &TestMode,
    model: &mut MeterModel,
    addr: u16,
    words: &[u16],
) -> Result<(), ExceptionCode> {
    let code_at = |w: &crate::profile::ModeWrite| {
        (w.place.address == addr && words.len() == w.place.words() as usize)
            .then(|| w.place.coding.decode(words).ok())
            .flatten()
    };
    if code_at(&t.enter) == Some(t.enter.code) {
        if t.protected && !model.is_unlocked() {
            return Err(ExceptionCode::IllegalDataValue);
        }
        model.enter_test_mode();
        return Ok(());
    }
    if code_at(&t.leave) == Some(t.leave.code) {
        model.leave_test_mode();
        return Ok(());
    }
    Err(ExceptionCode::IllegalDataValue)
}

fn to_unit(v: &SettingValue, place: &Placement) -> SettingValue {
    match v {
        SettingValue::Number(n) => SettingValue::Number(n / place.unit_factor),
        t => t.clone(),
    }
}

fn from_unit(v: &SettingValue, place: &Placement) -> SettingValue {
    match v {
        SettingValue::Number(n) => SettingValue::Number(n * place.unit_factor),
        t => t.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::sim::faults::Faults;
    use crate::sim::meter_model::SimIdentity;

    fn meter() -> (Arc<MeterProfile>, MeterModel, RegisterIndex) {
        let (profile, model) = crate::sim::meter_model::test_meter(Faults::default(), 1);
        let index = RegisterIndex::new(&profile);
        (profile, model, index)
    }

    /// Password 0x2000, address 0x2001, baud code 0x2002 (0..=3).
    #[test]
    fn a_refused_write_changes_nothing() {
        let (p, mut m, idx) = meter();
        let address = m.settings().address;
        // Password right, address right, baud code wrong: refused whole.
        assert_eq!(
            idx.write(&p, &mut m, 0x2000, &[1000, 7, 9]),
            Err(ExceptionCode::IllegalDataValue)
        );
        assert_eq!(m.settings().address, address, "the address was applied");
        assert!(!m.is_unlocked(), "the password was applied");
        // A wrong password ahead of a setting: refused, the lock as it was.
        idx.write(&p, &mut m, 0x2000, &[1000]).expect("unlocked");
        assert!(m.is_unlocked());
        assert!(idx.write(&p, &mut m, 0x2000, &[1234, 8]).is_err());
        assert!(m.is_unlocked(), "a refused write relocked the meter");
        assert_eq!(m.settings().address, address);
        // The same write, all of it right, applies all of it.
        idx.write(&p, &mut m, 0x2000, &[1000, 7, 1])
            .expect("written");
        assert_eq!(m.settings().address, 7);
    }

    /// The example profile's test mode: 1 to 0x2020 enters (after the
    /// password), 0 leaves; its registers at 0x3000.. only while it is on.
    #[test]
    fn the_test_mode_is_entered_only_after_the_password_and_shows_its_registers() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/meters/examples/example-test-mode.toml");
        let p = Arc::new(crate::profile::load_profile(&path).expect("profile"));
        let identity = SimIdentity {
            model_id: 1,
            serial_number: 1,
            firmware: "1.00".into(),
        };
        let mut m = MeterModel::new(p.clone(), identity, Faults::default(), 1);
        let idx = RegisterIndex::new(&p);
        let read = |m: &MeterModel| idx.read(&p, m, Table::Holding, 0x3008, 2);
        assert_eq!(read(&m), Err(ExceptionCode::IllegalDataAddress));
        assert_eq!(
            idx.write(&p, &mut m, 0x2020, &[1]),
            Err(ExceptionCode::IllegalDataValue),
            "protected: refused without the password"
        );
        assert!(!m.in_test_mode());
        idx.write(&p, &mut m, 0x2000, &[1000]).expect("password");
        assert_eq!(
            idx.write(&p, &mut m, 0x2020, &[7]),
            Err(ExceptionCode::IllegalDataValue),
            "neither code"
        );
        idx.write(&p, &mut m, 0x2020, &[1]).expect("entered");
        assert!(m.in_test_mode() && m.test_mode_entries() == 1);
        assert_eq!(read(&m).expect("shown").len(), 2);
        idx.write(&p, &mut m, 0x2020, &[0]).expect("left");
        assert!(!m.in_test_mode());
        assert_eq!(read(&m), Err(ExceptionCode::IllegalDataAddress));
        // The switch itself is not a readable register.
        assert_eq!(
            idx.read(&p, &m, Table::Holding, 0x2020, 1),
            Err(ExceptionCode::IllegalDataAddress)
        );
    }

    #[test]
    fn a_protected_write_without_the_password_changes_nothing() {
        let (p, mut m, idx) = meter();
        let address = m.settings().address;
        assert!(idx.write(&p, &mut m, 0x2001, &[9, 1]).is_err());
        assert_eq!(m.settings().address, address);
    }
}
