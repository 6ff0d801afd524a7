//! Pulses at their exact instants.
//!
//! An accumulator turns energy into pulse requests at the instant the pulse
//! weight is reached (computed analytically, so hours of rig time cost a few
//! steps per pulse). An output shapes requests into edges: ON for its pulse
//! duration, then OFF for at least its minimum gap. When requests come faster
//! than the output can show them (IEC 62053-31 needs tON and tOFF ≥ 30 ms; at
//! 16.7 kW and 1 Wh/imp the period is 216 ms), a good meter queues them and
//! shows them late rather than losing energy.

use std::collections::VecDeque;
use std::time::Duration;

use crate::rig::RigInstant;
use crate::rig::pulse_input::Edge;

/// Beyond this many queued pulses an output loses further requests.
pub const MAX_QUEUED_PULSES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct PulseAccumulator {
    weight_wh: f64,
    acc_wh: f64,
}

impl PulseAccumulator {
    pub fn new(weight_wh: f64) -> Self {
        Self {
            weight_wh,
            acc_wh: 0.0,
        }
    }

    pub fn set_weight(&mut self, weight_wh: f64) {
        self.weight_wh = weight_wh;
        self.acc_wh = self.acc_wh.min(weight_wh);
    }

    pub fn clear(&mut self) {
        self.acc_wh = 0.0;
    }

    pub fn add(&mut self, wh: f64) {
        self.acc_wh += wh.max(0.0);
    }

    /// Takes one pulse if the weight is reached.
    pub fn take_pulse(&mut self) -> bool {
        if self.acc_wh >= self.weight_wh * (1.0 - 1e-12) {
            self.acc_wh = (self.acc_wh - self.weight_wh).max(0.0);
            true
        } else {
            false
        }
    }

    /// Rig time until the next pulse at a steady power, rounded up to the
    /// nanosecond so that integrating to it reaches the weight.
    pub fn time_to_next(&self, power_w: f64) -> Option<Duration> {
        if power_w.is_nan() || power_w <= 0.0 {
            return None;
        }
        let hours = (self.weight_wh - self.acc_wh).max(0.0) / power_w;
        let ns = (hours * 3600.0 * 1e9).ceil();
        if ns > 1e18 {
            return None;
        }
        Some(Duration::from_nanos(ns as u64))
    }
}

#[derive(Debug, Clone)]
pub struct PulseOutput {
    on: Duration,
    min_off: Duration,
    next_free: RigInstant,
    scheduled: VecDeque<Edge>,
    capture: Option<Vec<Edge>>,
    /// Pulses shown (rising edges released).
    pub shown: u64,
    /// Requests lost because the queue was full.
    pub lost: u64,
    is_on: bool,
}

impl PulseOutput {
    pub fn new(on: Duration, min_off: Duration) -> Self {
        Self {
            on,
            min_off,
            next_free: RigInstant::ZERO,
            scheduled: VecDeque::new(),
            capture: None,
            shown: 0,
            lost: 0,
            is_on: false,
        }
    }

    pub fn set_on(&mut self, on: Duration) {
        self.on = on;
    }

    /// Queues a pulse requested at `at`.
    pub fn request(&mut self, at: RigInstant) {
        if self.scheduled.len() >= 2 * MAX_QUEUED_PULSES {
            self.lost += 1;
            return;
        }
        let start = at.max(self.next_free);
        self.scheduled.push_back(Edge {
            at: start,
            rising: true,
        });
        self.scheduled.push_back(Edge {
            at: start + self.on,
            rising: false,
        });
        self.next_free = start + self.on + self.min_off;
    }

    pub fn next_edge(&self) -> Option<RigInstant> {
        self.scheduled.front().map(|e| e.at)
    }

    /// Releases every edge due by `now` onto the line.
    pub fn release_until(&mut self, now: RigInstant) {
        while let Some(e) = self.scheduled.front().copied() {
            if e.at > now {
                break;
            }
            self.scheduled.pop_front();
            self.emit(e);
        }
    }

    fn emit(&mut self, e: Edge) {
        self.is_on = e.rising;
        if e.rising {
            self.shown += 1;
        }
        if let Some(c) = &mut self.capture {
            c.push(e);
        }
    }

    /// Power lost: queued pulses are gone and a pulse in progress ends now.
    pub fn power_down(&mut self, now: RigInstant) {
        self.scheduled.clear();
        if self.is_on {
            self.emit(Edge {
                at: now,
                rising: false,
            });
        }
        self.next_free = now;
    }

    pub fn start_capture(&mut self) {
        self.capture = Some(Vec::new());
    }

    pub fn take_captured(&mut self) -> Vec<Edge> {
        match &mut self.capture {
            Some(c) => std::mem::take(c),
            None => Vec::new(),
        }
    }

    pub fn captured_rising(&self) -> usize {
        self.capture
            .as_ref()
            .map_or(0, |c| c.iter().filter(|e| e.rising).count())
    }

    pub fn queued(&self) -> usize {
        self.scheduled.len() / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> RigInstant {
        RigInstant(Duration::from_millis(ms))
    }

    #[test]
    fn crossing_time_is_exact() {
        let mut a = PulseAccumulator::new(1.0);
        // 3600 W gives 1 Wh per second.
        let d = a.time_to_next(3600.0).expect("positive power");
        assert_eq!(d, Duration::from_secs(1));
        a.add(3600.0 * d.as_secs_f64() / 3600.0);
        assert!(a.take_pulse());
        assert!(!a.take_pulse());
        assert!(a.time_to_next(0.0).is_none());
    }

    #[test]
    fn overlapping_requests_queue_with_minimum_gap() {
        let mut o = PulseOutput::new(Duration::from_millis(200), Duration::from_millis(30));
        o.start_capture();
        o.request(t(0));
        o.request(t(100));
        o.release_until(t(10_000));
        let e = o.take_captured();
        assert_eq!(e.len(), 4);
        assert_eq!(e[2].at, t(230), "second pulse waits for ON + tOFF");
        assert_eq!(o.shown, 2);
    }
}
