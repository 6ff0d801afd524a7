//! The progress display: current suite and point, rig time done and left
//! (planned real-rig time), and on a real rig an ETA in wall time.

use std::collections::HashMap;
use std::time::Duration;

use std::sync::Arc;

use harness::run::{Listener, RunEvent, Suite};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    planned: HashMap<String, (f64, String)>,
    done_s: f64,
    total_s: f64,
    simulated: bool,
    /// To count a point measured on many positions at once once.
    suites: Vec<Arc<dyn Suite>>,
}

impl Progress {
    pub fn new(suites: Vec<Arc<dyn Suite>>) -> Self {
        let bar = ProgressBar::new(1);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} points  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self {
            bar,
            planned: HashMap::new(),
            done_s: 0.0,
            total_s: 0.0,
            simulated: true,
            suites,
        }
    }
}

fn hms(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
}

impl Listener for Progress {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted(h) => {
                self.simulated = h.simulated;
                // A group measured at once (positions, a shared dwell) takes
                // its dwell's time: its first point carries it, the others none.
                let mut share = vec![0.0; h.points.len()];
                for g in harness::run::runner::group_points(&h.points, &self.suites) {
                    share[g[0]] = harness::run::runner::group_time(&h.points, &g).as_secs_f64();
                }
                self.planned = h
                    .points
                    .iter()
                    .zip(share)
                    .map(|(p, t)| (p.key(), (t, p.title.clone())))
                    .collect();
                self.total_s = self.planned.values().map(|(t, _)| t).sum();
                self.bar.set_length(h.points.len() as u64);
                self.bar.enable_steady_tick(Duration::from_millis(200));
            }
            RunEvent::PointStarted { key, .. } => {
                let title = self.planned.get(key).map(|(_, t)| t.as_str()).unwrap_or("");
                let left = self.total_s - self.done_s;
                let eta = if self.simulated {
                    "simulated".to_string()
                } else {
                    format!("ETA {}", hms(left))
                };
                self.bar.set_message(format!(
                    "{key} — {title} | rig time {} done, {} left ({eta})",
                    hms(self.done_s),
                    hms(left)
                ));
            }
            RunEvent::PointFinished { key, .. } => {
                self.done_s += self.planned.get(key).map_or(0.0, |(t, _)| *t);
                self.bar.inc(1);
            }
            RunEvent::RunFinished { .. } => self.bar.finish_and_clear(),
            _ => {}
        }
    }
}
