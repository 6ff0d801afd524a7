//! Shared dwells (issue 20): what a point needs from the dwell it runs in,
//! so that points of different suites that need the same load at the same
//! time and cannot notice each other run in one dwell — the source set
//! once, their measurements concurrent, the rig time counted once.
//!
//! A suite declares, per point, what it drives on its meter or the bench
//! (the tariff input, the pulse input's capture, a setting it writes) and
//! what it only reads. Two points on one position conflict when one drives
//! what the other drives or reads; a point that declares nothing (it
//! switches the source off, reboots the meter, changes the bus, or was
//! never reviewed) runs alone. The source itself is the lockstep bench's
//! (`rig::lockstep`): it changes only when every point still measuring in
//! the dwell asks for the same load, so a point's second load waits for the
//! others to finish at the first.

use std::time::Duration;

use crate::profile::MeterSetting;

/// Something on a position a point drives or reads during its dwell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The meter's tariff input (the rig's tariff output selects T1/T2).
    TariffInput,
    /// The position's pulse input: a capture is started and taken.
    PulseInput,
    /// A meter setting or command written over Modbus.
    Setting(MeterSetting),
    /// The meter's energy registers (total, T1, T2), read over Modbus.
    EnergyRegisters,
}

/// What a point needs from a dwell it may share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DwellUse {
    /// What the point changes: nothing else in the dwell may drive or read it.
    pub drives: Vec<Resource>,
    /// What the point only reads: others may read it too, none may drive it.
    pub reads: Vec<Resource>,
}

impl DwellUse {
    pub fn drives(mut self, r: Resource) -> Self {
        self.drives.push(r);
        self
    }

    pub fn reads(mut self, r: Resource) -> Self {
        self.reads.push(r);
        self
    }

    /// Whether `self` and `other`, on one position, would notice each other.
    pub fn conflicts(&self, other: &DwellUse) -> bool {
        let touches = |u: &DwellUse, r: &Resource| u.drives.contains(r) || u.reads.contains(r);
        self.drives.iter().any(|r| touches(other, r))
            || other.drives.iter().any(|r| touches(self, r))
    }
}

/// The rig time a dwell shared by `members` takes. A point with one load
/// holds the dwell's first load for its whole time; a point with several
/// is taken to spend an equal share at each (the hour meter's hour below
/// and hour above), and its later loads wait until every point still at
/// the first load has finished (the lockstep source). So: the longest time
/// at the first load, plus the longest remainder after it.
///
/// `members`: each point's number of loads and its rig time.
pub fn shared_time(members: impl IntoIterator<Item = (usize, Duration)>) -> Duration {
    let mut first = Duration::ZERO;
    let mut rest = Duration::ZERO;
    for (loads, rig_time) in members {
        let n = loads.max(1) as u32;
        let at_first = if n > 1 { rig_time / n } else { rig_time };
        first = first.max(at_first);
        rest = rest.max(rig_time.saturating_sub(at_first));
    }
    first + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_driven_resource_conflicts_with_any_use_of_it_and_reads_share() {
        let tariff = DwellUse::default()
            .drives(Resource::TariffInput)
            .reads(Resource::EnergyRegisters);
        let led = DwellUse::default().drives(Resource::PulseInput);
        let partial = DwellUse::default().drives(Resource::EnergyRegisters);
        let reader = DwellUse::default().reads(Resource::EnergyRegisters);
        assert!(!tariff.conflicts(&led));
        assert!(!tariff.conflicts(&reader), "two readers share");
        assert!(tariff.conflicts(&partial) && partial.conflicts(&tariff));
        assert!(tariff.conflicts(&tariff.clone()));
        assert!(led.conflicts(&led.clone()), "one capture a pulse input");
    }
}
