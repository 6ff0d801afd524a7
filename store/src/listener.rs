//! The store as a run listener. The run must never wait on, or stop for,
//! the database: events go over a channel to a thread that owns the
//! connection and writes each point, with its samples, in one transaction
//! when the point finishes. If the store is unreachable the run goes on (its
//! journal is complete) and the thread says so once; `metrig store sync`
//! catches up from the journal later.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use harness::run::{Listener, RunEvent};
use reports::Record;

use crate::progress::{LAST_SAMPLES, LiveSample, LiveVerdict, Progress};
use crate::{Location, Points, Store};

/// The least wall time between two progress rows sent for samples: a
/// simulated run makes thousands of samples a second and the live view
/// needs a few updates a second, not a write per sample.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// How long the writer waits before trying an unreachable store again.
const RETRY_AFTER: Duration = Duration::from_secs(10);

enum Msg {
    /// A record folded from the run's header, findings and, for `Some(key)`,
    /// that one finished point.
    Save(Box<Record>, Option<String>),
    /// The run's heartbeat and progress for the station page.
    Progress(Box<Progress>),
}

/// What the writer thread did, for the run's last words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerReport {
    pub points_written: usize,
    pub points_missed: usize,
    /// The first failure, if any.
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct StoreListener {
    /// Every `RunStarted` so far (earlier parts of a resumed run too) and
    /// every finding: the run-level part of the record.
    base: Vec<RunEvent>,
    /// The events of the point in progress.
    point: Vec<RunEvent>,
    tx: Option<mpsc::Sender<Msg>>,
    thread: Option<JoinHandle<ListenerReport>>,
    /// The live view's figures, kept up to date with every event.
    progress: Option<Progress>,
    /// Planned rig time per point key, seconds, and the rig time the
    /// current point started at.
    planned: std::collections::HashMap<String, (f64, String, String)>,
    point_started_s: f64,
    /// Planned rig time of the points finished in this process, seconds (a
    /// resumed run's progress counts from its resumption).
    finished_s: f64,
    last_progress: Option<Instant>,
}

impl StoreListener {
    /// Starts the writer for the run in `run_dir`. `earlier` is the journal
    /// of the run so far when it resumes: it is stored first, so a run whose
    /// first part missed the store catches up.
    pub fn start(location: Location, run_dir: PathBuf, earlier: &[RunEvent]) -> StoreListener {
        let (tx, rx) = mpsc::channel::<Msg>();
        let catch_up = Record::from_events(earlier).map(Box::new);
        let thread = std::thread::Builder::new()
            .name("metrig-store".into())
            .spawn(move || writer(location, run_dir, catch_up, rx))
            .ok();
        let base = earlier
            .iter()
            .filter(|e| matches!(e, RunEvent::RunStarted(_) | RunEvent::Finding { .. }))
            .cloned()
            .collect();
        let mut listener = StoreListener {
            base,
            point: Vec::new(),
            tx: thread.as_ref().map(|_| tx),
            thread,
            progress: None,
            planned: std::collections::HashMap::new(),
            point_started_s: 0.0,
            finished_s: 0.0,
            last_progress: None,
        };
        listener.plan_progress();
        listener
    }

    /// Builds the progress figures from the run so far (its header's plan
    /// and, after a resume, the points already done).
    fn plan_progress(&mut self) {
        let Some(record) = Record::from_events(&self.base) else {
            return;
        };
        self.planned = record
            .points
            .iter()
            .map(|p| {
                let loads = p
                    .loads
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                (
                    p.key.clone(),
                    (p.planned_rig_time_s, p.title.clone(), loads),
                )
            })
            .collect();
        let done = self.progress.as_ref().map_or(0, |p| p.points_done);
        self.progress = Some(Progress {
            run_id: record.run_id.clone(),
            state: "running".into(),
            point_key: None,
            point_title: None,
            point_loads: None,
            points_done: done,
            points_planned: record.points.len(),
            rig_time_done_s: self.finished_s,
            rig_time_planned_s: record.points.iter().map(|p| p.planned_rig_time_s).sum(),
            last_samples: Vec::new(),
            last_verdicts: Vec::new(),
        });
    }

    /// Sends the progress row; `force` for point boundaries, otherwise at
    /// most once per [`PROGRESS_EVERY`].
    fn send_progress(&mut self, force: bool) {
        if !force
            && self
                .last_progress
                .is_some_and(|t| t.elapsed() < PROGRESS_EVERY)
        {
            return;
        }
        if let (Some(tx), Some(p)) = (&self.tx, &self.progress) {
            self.last_progress = Some(Instant::now());
            let _ = tx.send(Msg::Progress(Box::new(p.clone())));
        }
    }

    fn planned_s(&self, key: &str) -> f64 {
        self.planned.get(key).map_or(0.0, |p| p.0)
    }

    fn send(&self, record: Option<Record>, key: Option<String>) {
        if let (Some(tx), Some(r)) = (&self.tx, record) {
            // A closed channel means the writer is gone: the journal has it all.
            let _ = tx.send(Msg::Save(Box::new(r), key));
        }
    }
}

/// The run's end waits for the writer to store what it was sent.
impl Drop for StoreListener {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Listener for StoreListener {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted(_) => {
                self.base.push(event.clone());
                self.send(Record::from_events(&self.base), None);
                self.plan_progress();
                self.send_progress(true);
            }
            RunEvent::Finding { .. } | RunEvent::Conditions { .. } => self.base.push(event.clone()),
            RunEvent::PointStarted { key, at_s } => {
                self.point.clear();
                self.point.push(event.clone());
                self.point_started_s = *at_s;
                let (title, loads) = self
                    .planned
                    .get(key)
                    .map(|p| (p.1.clone(), p.2.clone()))
                    .unzip();
                if let Some(p) = self.progress.as_mut() {
                    p.point_key = Some(key.clone());
                    p.point_title = title;
                    p.point_loads = loads;
                }
                self.send_progress(true);
            }
            RunEvent::Sample { key, sample } => {
                self.point.push(event.clone());
                let planned = self.planned_s(key);
                let started = self.point_started_s;
                if let Some(p) = self.progress.as_mut() {
                    p.last_samples.push(LiveSample {
                        point_key: key.clone(),
                        index: sample.index,
                        at_s: sample.at_s,
                        value: sample.value,
                        unit: sample.unit.clone(),
                    });
                    if p.last_samples.len() > LAST_SAMPLES {
                        p.last_samples.remove(0);
                    }
                    // Rig time in the point counts up to its planned time:
                    // a point that overruns does not push progress past it.
                    p.rig_time_done_s =
                        self.finished_s + (sample.at_s - started).clamp(0.0, planned);
                }
                self.send_progress(false);
            }
            RunEvent::PointFinished { key, outcome, .. } => {
                self.point.push(event.clone());
                let events: Vec<RunEvent> =
                    self.base.iter().chain(self.point.iter()).cloned().collect();
                self.point.clear();
                self.send(Record::from_events(&events), Some(key.clone()));
                let planned = self.planned_s(key);
                if let Some(p) = self.progress.as_mut() {
                    p.points_done += 1;
                    self.finished_s += planned;
                    p.rig_time_done_s = self.finished_s;
                    p.last_verdicts.push(LiveVerdict {
                        point_key: key.clone(),
                        verdict: crate::write::name_of(&outcome.verdict),
                        mean_error_pct: outcome.mean_error_pct,
                    });
                    if p.last_verdicts.len() > LAST_SAMPLES {
                        p.last_verdicts.remove(0);
                    }
                }
                self.send_progress(true);
            }
            RunEvent::RunFinished { .. } => {
                let mut events = self.base.clone();
                events.push(event.clone());
                self.send(Record::from_events(&events), None);
                if let Some(p) = self.progress.as_mut() {
                    p.state = "finished".into();
                    p.point_key = None;
                    p.point_title = None;
                    p.point_loads = None;
                }
                self.send_progress(true);
            }
        }
    }
}

fn writer(
    location: Location,
    run_dir: PathBuf,
    catch_up: Option<Box<Record>>,
    rx: mpsc::Receiver<Msg>,
) -> ListenerReport {
    let mut report = ListenerReport::default();
    let mut store: Option<Store> = None;
    let mut last_try: Option<Instant> = None;
    let fail = |report: &mut ListenerReport, e: String| {
        if report.error.is_none() {
            eprintln!(
                "metrig: the store {location} failed ({e}); the run goes on, its journal is complete: run `metrig store sync` later"
            );
            report.error = Some(e);
        }
    };
    let msgs = catch_up
        .map(|r| Msg::Save(r, Some(String::new())))
        .into_iter()
        .chain(rx);
    for msg in msgs {
        let (record, key) = match msg {
            Msg::Save(record, key) => (record, key),
            Msg::Progress(p) => {
                if let Some(s) = store.as_mut()
                    && let Err(e) = s.save_progress(&p)
                {
                    fail(&mut report, e.to_string());
                }
                continue;
            }
        };
        if store.is_none() && last_try.is_none_or(|t| t.elapsed() >= RETRY_AFTER) {
            last_try = Some(Instant::now());
            match Store::open(&location) {
                Ok(s) => store = Some(s),
                Err(e) => fail(&mut report, e.to_string()),
            }
        }
        let which = match key.as_deref() {
            None => Points::None,
            // The catch-up of a resumed run's earlier part.
            Some("") => Points::All,
            Some(k) => Points::One(k),
        };
        let Some(s) = store.as_mut() else {
            if key.is_some() {
                report.points_missed += 1;
            }
            continue;
        };
        match s.save(&record, Some(&run_dir), which) {
            Ok(o) => report.points_written += o.points_written,
            Err(e) => {
                if key.is_some() {
                    report.points_missed += 1;
                }
                fail(&mut report, e.to_string());
                // Reconnect on the next message after the retry delay.
                store = None;
            }
        }
    }
    if report.error.is_some() {
        catch_up_at_end(&location, &run_dir, &mut report);
    }
    report
}

/// The run has ended and something did not reach the store: one more try,
/// from the journal (whole by now: the journal listener closes first), so
/// a store that was busy or down for a moment holds the whole run without
/// anyone running `metrig store sync`.
fn catch_up_at_end(location: &Location, run_dir: &std::path::Path, report: &mut ListenerReport) {
    let saved = Store::open(location).and_then(|mut s| {
        let record = crate::check::record_of(run_dir)?;
        s.save(&record, Some(run_dir), Points::All)
    });
    match saved {
        Ok(o) => {
            report.points_written += o.points_written;
            report.points_missed = 0;
            eprintln!(
                "metrig: the store {location} caught up from the journal at the run's end ({} points written)",
                o.points_written
            );
        }
        Err(e) => eprintln!(
            "metrig: the store {location} is still failing at the run's end ({e}): run `metrig store sync` later"
        ),
    }
}
