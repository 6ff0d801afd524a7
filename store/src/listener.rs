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

use crate::{Location, Points, Store};

/// How long the writer waits before trying an unreachable store again.
const RETRY_AFTER: Duration = Duration::from_secs(10);

enum Msg {
    /// A record folded from the run's header, findings and, for `Some(key)`,
    /// that one finished point.
    Save(Box<Record>, Option<String>),
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
        StoreListener {
            base,
            point: Vec::new(),
            tx: thread.as_ref().map(|_| tx),
            thread,
        }
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
            }
            RunEvent::Finding { .. } => self.base.push(event.clone()),
            RunEvent::PointStarted { .. } => {
                self.point.clear();
                self.point.push(event.clone());
            }
            RunEvent::Sample { .. } => self.point.push(event.clone()),
            RunEvent::PointFinished { key, .. } => {
                self.point.push(event.clone());
                let events: Vec<RunEvent> =
                    self.base.iter().chain(self.point.iter()).cloned().collect();
                self.point.clear();
                self.send(Record::from_events(&events), Some(key.clone()));
            }
            RunEvent::RunFinished { .. } => {
                let mut events = self.base.clone();
                events.push(event.clone());
                self.send(Record::from_events(&events), None);
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
    for Msg::Save(record, key) in msgs {
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
    report
}
