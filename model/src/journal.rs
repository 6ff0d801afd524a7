//! The run journal's format and its reading: one JSON event a line, each
//! line chained to the one before by a SHA-256 (`chain_hash`), so that any
//! edited, removed or reordered line is named on reading. The writer (a run
//! listener that syncs and stops the run on a failed write) is the harness's
//! (`harness::run::journal::Journal`); reading and checking live here so the
//! reports and the store can verify a run without the harness.
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::events::RunEvent;

pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The longest a written sample waits for its sync.
pub const SAMPLE_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);
/// The chain value before the first line.
pub const CHAIN_GENESIS: &str = "metrig-journal-v1";
/// What every line ends with before its 64 hex digits and `"}`.
pub const CHAIN_KEY: &str = ",\"chain\":\"";
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
