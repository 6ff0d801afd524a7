//! The simulated bench: one clock, one source output seen by every meter in
//! the series circuit, and the true energy the reference integrates.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::meter_model::MeterModel;
use crate::rig::RigInstant;
use crate::rig::pulse_input::PulseChannel;
use crate::rig::simulated::{HeldBench, MeterSettings, SimulatedBench};
use crate::rig::source::SourceState;

/// True energy delivered through the current circuit since the rig opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct Truth {
    pub active_wh: f64,
    pub reactive_varh: f64,
}

#[derive(Debug)]
pub struct SimWorld {
    now: RigInstant,
    source: SourceState,
    meters: Vec<Arc<Mutex<MeterModel>>>,
    truth: Truth,
}

pub type SharedWorld = Arc<Mutex<SimWorld>>;

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimWorld {
    pub fn new(meters: Vec<Arc<Mutex<MeterModel>>>) -> Self {
        Self {
            now: RigInstant::ZERO,
            source: SourceState::Off,
            meters,
            truth: Truth::default(),
        }
    }

    pub fn now(&self) -> RigInstant {
        self.now
    }

    pub fn source(&self) -> SourceState {
        self.source
    }

    pub fn truth(&self) -> Truth {
        self.truth
    }

    pub fn meter(&self, position: usize) -> Option<&Arc<Mutex<MeterModel>>> {
        self.meters.get(position)
    }

    /// Moves every meter and the truth forward to `t` with the source held.
    pub fn advance_to(&mut self, t: RigInstant) {
        if t <= self.now {
            return;
        }
        if let SourceState::On(lp) = self.source {
            let d = t.since(self.now);
            self.truth.active_wh += lp.active_power().over(d).0;
            self.truth.reactive_varh += lp.reactive_power().over(d).0;
        }
        for m in &self.meters {
            lock(m).advance_to(t);
        }
        self.now = t;
    }

    pub fn advance(&mut self, d: Duration) {
        let t = self.now + d;
        self.advance_to(t);
    }

    /// Reseeds every meter's noise (position i gets `seed + i`).
    pub fn reseed(&mut self, seed: u64) {
        for (i, m) in self.meters.iter().enumerate() {
            lock(m).reseed(seed.wrapping_add(i as u64));
        }
    }

    /// Switches the source output; every meter sees it at once.
    pub fn set_source(&mut self, state: SourceState) {
        self.source = state;
        let input = match state {
            SourceState::On(lp) => Some(lp),
            SourceState::Off => None,
        };
        for m in &self.meters {
            lock(m).set_input(input);
        }
    }

    /// Advances until `position` has captured `rising` rising edges on
    /// `channel` (not yet taken), or until `deadline`. True if they came.
    pub fn advance_until_pulses(
        &mut self,
        position: usize,
        channel: PulseChannel,
        rising: usize,
        deadline: RigInstant,
    ) -> bool {
        let Some(meter) = self.meters.get(position).cloned() else {
            return false;
        };
        loop {
            let next = {
                let m = lock(&meter);
                if m.captured_rising(channel) >= rising {
                    return true;
                }
                if self.now >= deadline {
                    return false;
                }
                m.next_event(deadline)
            };
            self.advance_to(next.min(deadline));
        }
    }
}

impl HeldBench for SimWorld {
    fn now(&self) -> RigInstant {
        self.now
    }

    fn pulses(
        &self,
        position: usize,
        channel: PulseChannel,
        rising: usize,
        deadline: RigInstant,
    ) -> Option<(bool, RigInstant)> {
        let m = lock(self.meters.get(position)?);
        Some((m.captured_rising(channel) >= rising, m.next_event(deadline)))
    }

    fn advance_to(&mut self, t: RigInstant) {
        SimWorld::advance_to(self, t);
    }
}

/// The simulated world as the rig sees it (`rig::SimulatedBench`).
#[derive(Debug, Clone)]
pub struct SimBench(pub SharedWorld);

impl SimulatedBench for SimBench {
    fn hold(&self, f: &mut dyn FnMut(&mut dyn HeldBench)) {
        let mut w = lock(&self.0);
        f(&mut *w);
    }

    fn reseed(&self, seed: u64) {
        lock(&self.0).reseed(seed);
    }

    fn source(&self) -> SourceState {
        lock(&self.0).source()
    }

    fn switch_off_now(&self) {
        lock(&self.0).set_source(SourceState::Off);
    }

    fn settings(&self, position: usize) -> Option<MeterSettings> {
        let meter = lock(&self.0).meter(position)?.clone();
        let settings = lock(&meter).settings().clone();
        Some(settings)
    }
}
