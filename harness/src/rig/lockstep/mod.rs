//! Many positions measured at once on one source: the bench in lockstep.
//!
//! A real test bench holds many meters in one series current circuit (and
//! one voltage in parallel); the source applies one load point to all of
//! them, and each position's error is measured from its own pulses against
//! the one reference standard (EN 50470-1 §7: test-output method on a
//! multi-position bench). So a point is measured on every position at once:
//! the source changes only when every position still measuring asks for the
//! same load, and each position's gate starts and ends on its own pulses.
//!
//! On a real rig time passes for everyone; only the source is a barrier. On
//! the simulated rig, time is simulated: it moves only when every position
//! is waiting (a dwell, a pulse gate, a load change), and then exactly to the
//! next instant one of them is waiting for — each position's pulses arrive at
//! the instants the meter model emits them, and the reference is read there.
//!
//! Owns: the source barrier, the shared clock and pulse waits, one view of
//! the rig per position. May import: the rest of `rig` (its traits and
//! `SimulatedBench`), quantities and load points; never `sim` or `drivers`.

mod clock;
mod link;
mod pulses;
mod shared;
mod source;
pub mod views;

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

pub use clock::LockstepClock;
pub use link::{SharedLink, SharedTariff};
pub use pulses::LockstepPulses;
pub use shared::{SharedErrorCalculator, SharedReference};
pub use source::LockstepSource;

use super::pulse_input::PulseChannel;
use super::simulated::{HeldBench, SimulatedBench};
use super::source::{Source, SourceState};
use super::{RigClock, RigError, RigInstant};

/// What one position's measurement is doing, as the bench sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Running,
    /// Waiting for rig time to reach the instant (simulated rig only).
    Dwell(RigInstant),
    /// Waiting for `rising` captured edges, or the deadline (simulated rig only).
    Pulses {
        position: usize,
        channel: PulseChannel,
        rising: usize,
        deadline: RigInstant,
    },
    /// Waiting for the source to be switched to this state.
    Source(SourceState),
    Done,
}

#[derive(Debug)]
struct State {
    slots: Vec<Slot>,
    /// The outcome of the last source change, for the positions that asked for it.
    answers: Vec<Option<Result<(), String>>>,
    /// What the source was last set to through the bench.
    output: Option<SourceState>,
    stepping: bool,
}

/// The coordinator every position's view of the rig shares.
pub struct Lockstep {
    state: Mutex<State>,
    wake: Vec<Notify>,
    source: tokio::sync::Mutex<Option<Box<dyn Source>>>,
    clock: Arc<dyn RigClock>,
    /// The simulated bench, whose time lockstep moves; `None` on a real rig.
    world: Option<Arc<dyn SimulatedBench>>,
}

impl std::fmt::Debug for Lockstep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockstep")
            .field("participants", &self.wake.len())
            .field("simulated", &self.world.is_some())
            .finish()
    }
}

impl Lockstep {
    /// A bench of `participants` positions sharing `source` (taken back with
    /// [`Lockstep::into_source`]) and `clock`.
    pub fn new(
        participants: usize,
        source: Option<Box<dyn Source>>,
        clock: Arc<dyn RigClock>,
        world: Option<Arc<dyn SimulatedBench>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                slots: vec![Slot::Running; participants],
                answers: vec![None; participants],
                output: None,
                stepping: false,
            }),
            wake: (0..participants).map(|_| Notify::new()).collect(),
            source: tokio::sync::Mutex::new(source),
            clock,
            world,
        })
    }

    /// The source back, once no view is using it.
    pub fn take_source(&self) -> Option<Box<dyn Source>> {
        self.source.try_lock().ok().and_then(|mut s| s.take())
    }

    pub fn is_simulated(&self) -> bool {
        self.world.is_some()
    }

    pub fn now(&self) -> RigInstant {
        self.clock.now()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Participant `me` lets `d` of rig time pass.
    pub async fn dwell(&self, me: usize, d: std::time::Duration) {
        if self.world.is_none() {
            self.clock.dwell(d).await;
            return;
        }
        let until = self.now() + d;
        self.block(me, Slot::Dwell(until)).await;
    }

    /// Participant `me` waits (simulated rig) until `position` has captured
    /// `rising` edges on `channel`, or `deadline` has come.
    pub async fn wait_pulses(
        &self,
        me: usize,
        position: usize,
        channel: PulseChannel,
        rising: usize,
        deadline: RigInstant,
    ) {
        self.block(
            me,
            Slot::Pulses {
                position,
                channel,
                rising,
                deadline,
            },
        )
        .await;
    }

    /// Participant `me` asks for the source in `want`: at once if it is so
    /// already, else when every position still measuring asks for it.
    pub async fn set_source(&self, me: usize, want: SourceState) -> Result<(), RigError> {
        if self.state().output == Some(want) {
            return Ok(());
        }
        self.block(me, Slot::Source(want)).await;
        let answer = self.state().answers[me].take();
        match answer {
            Some(Err(m)) => Err(RigError::instrument("source", m)),
            _ => Ok(()),
        }
    }

    pub async fn source_state(&self) -> Result<SourceState, RigError> {
        match self.source.lock().await.as_mut() {
            Some(s) => s.state().await,
            None => Err(RigError::instrument(
                "source",
                "this rig has no controllable source",
            )),
        }
    }

    /// Participant `me` has finished its point.
    pub async fn finish(&self, me: usize) {
        self.state().slots[me] = Slot::Done;
        self.step().await;
    }

    async fn block(&self, me: usize, slot: Slot) {
        self.state().slots[me] = slot;
        self.step().await;
        loop {
            let woken = self.wake[me].notified();
            if self.state().slots[me] == Slot::Running {
                return;
            }
            woken.await;
        }
    }

    fn wake(&self, st: &mut State, i: usize) {
        st.slots[i] = Slot::Running;
        self.wake[i].notify_one();
    }

    /// When no position is running, moves the bench on until one can run:
    /// time first (a position mid-gate is never disturbed), then the source.
    async fn step(&self) {
        loop {
            let want = {
                let mut st = self.state();
                if st.stepping
                    || st.slots.contains(&Slot::Running)
                    || st.slots.iter().all(|s| *s == Slot::Done)
                {
                    return;
                }
                let waiting_on_time = st
                    .slots
                    .iter()
                    .any(|s| matches!(s, Slot::Dwell(_) | Slot::Pulses { .. }));
                if waiting_on_time && let Some(world) = &self.world {
                    self.advance(&mut st, world);
                    continue;
                }
                let Some(want) = st.slots.iter().find_map(|s| match s {
                    Slot::Source(w) => Some(*w),
                    _ => None,
                }) else {
                    return;
                };
                st.stepping = true;
                want
            };
            let result = match self.source.lock().await.as_mut() {
                None => Err("this rig has no controllable source".to_string()),
                Some(s) => match want {
                    SourceState::On(lp) => s.apply(lp).await,
                    SourceState::Off => s.off().await,
                }
                .map_err(|e| e.to_string()),
            };
            let mut st = self.state();
            st.stepping = false;
            st.output = result.is_ok().then_some(want);
            for i in 0..st.slots.len() {
                if st.slots[i] == Slot::Source(want) {
                    st.answers[i] = Some(result.clone());
                    self.wake(&mut st, i);
                }
            }
        }
    }

    /// Moves simulated time to the next instant a waiting position wants,
    /// waking it (and any other whose wait ends there).
    fn advance(&self, st: &mut State, world: &Arc<dyn SimulatedBench>) {
        world.hold(&mut |w| self.advance_held(st, w));
    }

    fn advance_held(&self, st: &mut State, w: &mut dyn HeldBench) {
        loop {
            let now = w.now();
            let mut woke = false;
            let mut next: Option<RigInstant> = None;
            for i in 0..st.slots.len() {
                let ready = match st.slots[i] {
                    Slot::Dwell(t) => {
                        next = Some(next.map_or(t, |n| n.min(t)));
                        now >= t
                    }
                    Slot::Pulses {
                        position,
                        channel,
                        rising,
                        deadline,
                    } => {
                        let (got, event) = w
                            .pulses(position, channel, rising, deadline)
                            .unwrap_or((true, deadline));
                        let t = event.min(deadline);
                        next = Some(next.map_or(t, |n| n.min(t)));
                        got || now >= deadline
                    }
                    _ => false,
                };
                if ready {
                    self.wake(st, i);
                    woke = true;
                }
            }
            match next {
                Some(t) if !woke => w.advance_to(t.max(now)),
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::load_point::LoadPoint;
    use crate::quantity::{Amps, Hertz, PowerFactor, Volts};
    use crate::rig::{Identity, WallClock};

    /// A source that notes every change it is asked for.
    #[derive(Debug, Default)]
    struct Noting(Arc<StdMutex<Vec<SourceState>>>);

    #[async_trait]
    impl Source for Noting {
        fn identity(&self) -> Identity {
            Identity::device("source", "test", "noting source", "1")
        }
        async fn apply(&mut self, point: LoadPoint) -> Result<(), RigError> {
            self.0.lock().expect("lock").push(SourceState::On(point));
            Ok(())
        }
        async fn off(&mut self) -> Result<(), RigError> {
            self.0.lock().expect("lock").push(SourceState::Off);
            Ok(())
        }
        async fn state(&mut self) -> Result<SourceState, RigError> {
            Ok(self
                .0
                .lock()
                .expect("lock")
                .last()
                .copied()
                .unwrap_or(SourceState::Off))
        }
    }

    fn load(i: f64) -> SourceState {
        SourceState::On(LoadPoint::new(
            Volts(230.0),
            Amps(i),
            PowerFactor::UNITY,
            Hertz(50.0),
        ))
    }

    #[tokio::test]
    async fn the_source_changes_only_when_every_position_still_measuring_asks() {
        let noted = Arc::new(StdMutex::new(Vec::new()));
        let bench = Lockstep::new(
            2,
            Some(Box::new(Noting(noted.clone()))),
            Arc::new(WallClock::new()),
            None,
        );
        let (a, b) = (bench.clone(), bench.clone());
        let first = async move {
            a.set_source(0, load(5.0)).await.expect("applied");
            a.set_source(0, load(10.0)).await.expect("applied");
            a.finish(0).await;
        };
        let noted_b = noted.clone();
        let second = async move {
            b.set_source(1, load(5.0)).await.expect("applied");
            // Still measuring at 5 A: the other position's 10 A must wait.
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(noted_b.lock().expect("lock").as_slice(), [load(5.0)]);
            b.finish(1).await;
        };
        tokio::join!(first, second);
        assert_eq!(
            noted.lock().expect("lock").as_slice(),
            [load(5.0), load(10.0)],
            "5 A once for both, then 10 A once the second position had finished"
        );
        assert!(bench.take_source().is_some(), "the source comes back");
    }

    #[tokio::test]
    async fn a_failed_change_reaches_every_position_that_asked_for_it() {
        #[derive(Debug)]
        struct Refusing;
        #[async_trait]
        impl Source for Refusing {
            fn identity(&self) -> Identity {
                Identity::device("source", "test", "refusing source", "1")
            }
            async fn apply(&mut self, _: LoadPoint) -> Result<(), RigError> {
                Err(RigError::instrument("source", "overload"))
            }
            async fn off(&mut self) -> Result<(), RigError> {
                Ok(())
            }
            async fn state(&mut self) -> Result<SourceState, RigError> {
                Ok(SourceState::Off)
            }
        }
        let bench = Lockstep::new(
            2,
            Some(Box::new(Refusing)),
            Arc::new(WallClock::new()),
            None,
        );
        let (a, b) = (bench.clone(), bench.clone());
        let (ra, rb) = tokio::join!(
            async move { a.set_source(0, load(5.0)).await },
            async move { b.set_source(1, load(5.0)).await }
        );
        assert!(ra.is_err() && rb.is_err(), "{ra:?} {rb:?}");
    }
}
