//! The run journal: one JSON event a line, appended event by event, so that
//! `kill -9` at any instant loses nothing already measured (a completed
//! write is the kernel's to keep). Every event but a sample is also synced to
//! the disk at once; samples are synced at least every `SAMPLE_SYNC_INTERVAL`
//! (a point's end syncs too), so a host power loss costs at most that much of
//! raw samples and a 1000-request Modbus block does not wait on 1000 syncs.
//!
//! The journal is its own proof: each line ends with `"chain":"<sha256>"`,
//! the hash of the previous line's chain and this line's event, so changing,
//! removing or reordering any line breaks every chain after it, and the
//! reader names the first line that does not hold (the record is a fold of
//! the journal: a verdict edited from fail to pass is caught here). A line
//! cut short by a kill has no newline; it is ignored on reading and cut off
//! before a resumed run appends, never glued onto.
//!
//! A write that fails (a full disk, a file-size limit) is fatal to the run:
//! the journal stops writing (no half lines after the first failure), keeps
//! the reason and what was kept, and asks the run to stop, so the source is
//! switched off and the settings put back instead of measuring on unrecorded.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::events::{Listener, RunEvent, RunStatus};
use super::runner::CancelHandle;

pub use model::journal::*;

/// Why the journal stopped writing, and what it had kept.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalFailure {
    pub path: String,
    pub error: String,
    /// Whole lines in the journal before the failed write.
    pub lines_kept: usize,
    /// Points whose end is in the journal (this part of the run).
    pub points_kept: usize,
    /// The run's end as the runner announced it (not journaled): whether
    /// the source went off and the settings went back.
    pub end: Option<(RunStatus, String, Vec<super::events::RestoreOutcome>)>,
}

impl std::fmt::Display for JournalFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: writing the journal failed ({}); kept: {} whole lines, {} points finished in this part of the run",
            self.path, self.error, self.lines_kept, self.points_kept
        )
    }
}

/// Where a journal reports a failed write; shared with whoever ran it.
pub type FailureSlot = Arc<Mutex<Option<JournalFailure>>>;

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// The chain value of the last line written.
    chain: String,
    lines: usize,
    points: usize,
    /// When the last sync was, and whether a sample is written but not synced.
    synced_at: std::time::Instant,
    unsynced: bool,
    /// The first write error; nothing is written after it.
    failure: FailureSlot,
    /// Stops the run when a write fails.
    stop: Option<Arc<CancelHandle>>,
}

impl Journal {
    /// Opens the journal in `dir`: a fresh one, or one to continue — then
    /// its chain is checked (an edited journal is refused) and a line cut
    /// short by a kill is cut off so the next event starts a line of its own.
    pub fn open(dir: &Path) -> Result<Self, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let p = path.display().to_string();
        let io = |source| JournalError::Io {
            path: p.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let checked = check_journal(&p, &bytes)?;
        if checked.cut_tail_bytes > 0 {
            tracing::warn!(
                "{p}: cutting off a last line of {} bytes cut short by a kill",
                checked.cut_tail_bytes
            );
            file.set_len(checked.whole_len).map_err(io)?;
            file.sync_data().map_err(io)?;
            file.seek(std::io::SeekFrom::End(0)).map_err(io)?;
        }
        Ok(Self {
            path,
            file,
            chain: checked.last_chain,
            lines: checked.events.len(),
            points: 0,
            synced_at: std::time::Instant::now(),
            unsynced: false,
            failure: Arc::new(Mutex::new(None)),
            stop: None,
        })
    }

    /// A failed write will also stop the run through `stop`.
    pub fn stop_on_failure(mut self, stop: Arc<CancelHandle>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Where a failed write is reported (read it after the run).
    pub fn failure_slot(&self) -> FailureSlot {
        self.failure.clone()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The first write error, if any.
    pub fn failure(&self) -> Option<JournalFailure> {
        lock(&self.failure).clone()
    }

    fn append(&mut self, event: &RunEvent) -> std::io::Result<()> {
        let event_json = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        let chain = chain_hash(&self.chain, &event_json);
        let mut line = event_json;
        line.pop(); // the closing brace, written again after the chain
        line.extend_from_slice(CHAIN_KEY.as_bytes());
        line.extend_from_slice(chain.as_bytes());
        line.extend_from_slice(b"\"}\n");
        self.file.write_all(&line)?;
        self.chain = chain;
        self.lines += 1;
        let sample = matches!(event, RunEvent::Sample { .. });
        if sample && self.synced_at.elapsed() < SAMPLE_SYNC_INTERVAL {
            self.unsynced = true;
            return Ok(());
        }
        self.file.sync_data()?;
        self.synced_at = std::time::Instant::now();
        self.unsynced = false;
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Journal {
    fn drop(&mut self) {
        if self.unsynced {
            let _ = self.file.sync_data();
        }
    }
}

impl Listener for Journal {
    fn on_event(&mut self, event: &RunEvent) {
        let slot = self.failure.clone();
        let mut failure = lock(&slot);
        if let Some(f) = failure.as_mut() {
            // Nothing more is written: the run's end is kept for the report.
            if let RunEvent::RunFinished {
                status,
                message,
                restore,
                ..
            } = event
            {
                f.end = Some((*status, message.clone(), restore.clone()));
            }
            return;
        }
        match self.append(event) {
            Ok(()) => {
                if matches!(event, RunEvent::PointFinished { .. }) {
                    self.points += 1;
                }
            }
            Err(e) => {
                *failure = Some(JournalFailure {
                    path: self.path.display().to_string(),
                    error: e.to_string(),
                    lines_kept: self.lines,
                    points_kept: self.points,
                    end: None,
                });
                drop(failure);
                if let Some(stop) = &self.stop {
                    stop.cancel();
                }
            }
        }
    }
}
