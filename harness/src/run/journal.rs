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

use sha2::{Digest, Sha256};

use super::events::{Listener, RunEvent, RunStatus};
use super::runner::CancelHandle;

pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The longest a written sample waits for its sync.
pub const SAMPLE_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);
/// The chain value before the first line.
pub const CHAIN_GENESIS: &str = "metrig-journal-v1";
/// What every line ends with before its 64 hex digits and `"}`.
const CHAIN_KEY: &str = ",\"chain\":\"";
/// `,"chain":"` + 64 hex + `"}`.
const CHAIN_TAIL_LEN: usize = CHAIN_KEY.len() + 64 + 2;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: cannot read the journal: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the journal is empty: the run never started")]
    Empty { path: String },
    /// A line whose hash does not follow from the lines before it: the
    /// journal was edited (or lines were removed, added or reordered).
    #[error(
        "{path}: line {line}: the journal was changed after it was written ({why}); its results cannot be trusted"
    )]
    Tampered {
        path: String,
        line: usize,
        why: String,
    },
}

/// The chain value of a line: SHA-256 over the previous chain value, a
/// newline and the event's JSON exactly as written.
pub fn chain_hash(previous: &str, event_json: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    h.update(b"\n");
    h.update(event_json);
    format!("{:x}", h.finalize())
}

/// A journal as read and checked.
#[derive(Debug, Clone)]
pub struct CheckedJournal {
    pub events: Vec<RunEvent>,
    /// The chain value of the last whole line (the genesis if none).
    pub last_chain: String,
    /// Bytes after the last newline: a line cut short by a kill.
    pub cut_tail_bytes: usize,
    /// Length of the journal up to and including the last whole line.
    pub whole_len: u64,
}

/// Reads and checks the journal bytes `bytes` (named `path` in errors).
pub fn check_journal(path: &str, bytes: &[u8]) -> Result<CheckedJournal, JournalError> {
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let tampered = |line: usize, why: String| JournalError::Tampered {
        path: path.to_string(),
        line,
        why,
    };
    let mut chain = CHAIN_GENESIS.to_string();
    let mut events = Vec::new();
    let lines: &[u8] = if whole == 0 { &[] } else { &bytes[..whole - 1] };
    for (i, line) in lines.split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        if whole == 0 {
            break;
        }
        if line.is_empty() {
            return Err(tampered(n, "an empty line".into()));
        }
        if line.len() < CHAIN_TAIL_LEN + 2 || !line.ends_with(b"\"}") {
            return Err(tampered(n, "the line carries no chain hash".into()));
        }
        let (body, tail) = line.split_at(line.len() - CHAIN_TAIL_LEN);
        if !tail.starts_with(CHAIN_KEY.as_bytes()) {
            return Err(tampered(n, "the line carries no chain hash".into()));
        }
        let written = std::str::from_utf8(&tail[CHAIN_KEY.len()..CHAIN_KEY.len() + 64])
            .map_err(|_| tampered(n, "the chain hash is not hex".into()))?;
        let mut event_json = body.to_vec();
        event_json.push(b'}');
        let expected = chain_hash(&chain, &event_json);
        if written != expected {
            return Err(tampered(
                n,
                "its chain hash does not follow from the lines before it".into(),
            ));
        }
        let event: RunEvent = serde_json::from_slice(&event_json)
            .map_err(|e| tampered(n, format!("not an event: {e}")))?;
        events.push(event);
        chain = expected;
    }
    Ok(CheckedJournal {
        events,
        last_chain: chain,
        cut_tail_bytes: bytes.len() - whole,
        whole_len: whole as u64,
    })
}

/// Reads the journal file in `dir` and checks its chain.
pub fn read_checked(dir: &Path) -> Result<CheckedJournal, JournalError> {
    let path = dir.join(JOURNAL_FILE);
    let p = path.display().to_string();
    let io = |source| JournalError::Io {
        path: p.clone(),
        source,
    };
    // A journal is a regular file of this run: not a link to `/dev/zero`.
    let meta = std::fs::symlink_metadata(&path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    let bytes = std::fs::read(&path).map_err(io)?;
    let checked = check_journal(&p, &bytes)?;
    if checked.events.is_empty() {
        return Err(JournalError::Empty { path: p });
    }
    Ok(checked)
}

/// Reads a journal back, checking every line's chain. A last line cut short
/// by a kill is ignored; a line that does not hold is an error naming it.
pub fn read_journal(dir: &Path) -> Result<Vec<RunEvent>, JournalError> {
    read_checked(dir).map(|c| c.events)
}

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
