//! The progress display: current suite and point, rig time done and left
//! (planned real-rig time), and on a real rig an ETA in wall time.

use std::collections::HashMap;
use std::time::Duration;

use harness::run::{Listener, RunEvent};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    planned: HashMap<String, (f64, String)>,
    done_s: f64,
    total_s: f64,
    simulated: bool,
}

impl Progress {
    pub fn new() -> Self {
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
                self.planned = h
                    .points
                    .iter()
                    .map(|p| (p.key(), (p.rig_time.as_secs_f64(), p.title.clone())))
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
