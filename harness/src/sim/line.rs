//! The simulator's pseudo-terminal line: what travels beside the bytes (the
//! client's settings, the pacing, each write's instant), and the pacing
//! policy from the rig file. Metrig's transport sees it as a
//! `modbus::SimulatedLine`.

use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::modbus::{LineTiming, SimulatedLine};
use crate::profile::LineSettings;

/// When the simulated line times its characters as a wire at the
/// configured baud would (rig file: `[rig] line_pacing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinePacing {
    /// Never: every exchange as fast as the pty goes.
    Off,
    /// Only while a suite measures inter-character and inter-frame timing.
    #[default]
    TimingChecks,
    /// Always: the simulated line is as slow as the real one.
    Always,
}

/// What travels beside the bytes on a simulated line: the settings the client
/// uses, whether the line is paced now, and when each write left the client.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnouncedLine {
    pub settings: Option<LineSettings>,
    pub pacing: LinePacing,
    pub paced: bool,
    /// (instant, bytes) of each client write not yet read by the meter.
    pub written: std::collections::VecDeque<(Instant, usize)>,
}

impl AnnouncedLine {
    /// The write instants of the next `n` bytes the meter reads (`now` for
    /// bytes nobody noted).
    pub fn take_stamps(&mut self, n: usize, now: Instant) -> Vec<Instant> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some((at, len)) = self.written.front_mut() else {
                out.resize(n, now);
                break;
            };
            let take = (*len).min(n - out.len());
            out.extend(std::iter::repeat_n(*at, take));
            *len -= take;
            if *len == 0 {
                self.written.pop_front();
            }
        }
        out
    }
}

pub type SimLine = Arc<Mutex<AnnouncedLine>>;

impl SimulatedLine for Mutex<AnnouncedLine> {
    fn stamped_write(
        &self,
        write: &mut dyn FnMut() -> Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>> {
        // The line's lock is held across the write, so the meter, which
        // takes it to read the stamps, cannot see the bytes without theirs.
        let mut l = self.lock().unwrap_or_else(|e| e.into_inner());
        let at = Instant::now();
        let polled = write();
        if let Poll::Ready(Ok(n)) = &polled {
            l.written.push_back((at, *n));
            if l.written.len() > 4096 {
                // Nobody reads the other end: keep memory bounded.
                l.written.pop_front();
            }
        }
        polled
    }

    fn announce(&self, settings: LineSettings) {
        self.lock().unwrap_or_else(|e| e.into_inner()).settings = Some(settings);
    }

    fn is_paced(&self) -> bool {
        self.lock().unwrap_or_else(|e| e.into_inner()).paced
    }

    fn pace(&self, on: bool) -> LineTiming {
        let mut m = self.lock().unwrap_or_else(|e| e.into_inner());
        m.paced = match m.pacing {
            LinePacing::Off => false,
            LinePacing::TimingChecks => on,
            LinePacing::Always => true,
        };
        if m.paced {
            LineTiming::Paced
        } else {
            LineTiming::Unpaced
        }
    }
}
