//! The run journal: one JSON event a line, appended event by event, so that
//! `kill -9` at any instant loses nothing already measured (a completed
//! write is the kernel's to keep). Every event but a sample is also synced to
//! the disk at once; samples are synced at least every `SAMPLE_SYNC_INTERVAL`
//! (a point's end syncs too), so a host power loss costs at most that much of
//! raw samples and a 1000-request Modbus block does not wait on 1000 syncs.
//! `--resume` reads it back.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::events::{Listener, RunEvent};

pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The longest a written sample waits for its sync.
pub const SAMPLE_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// When the last sync was, and whether a sample is written but not synced.
    synced_at: std::time::Instant,
    unsynced: bool,
    /// The first write error, reported once; a run must not pretend it is journaled.
    pub error: Option<String>,
}

impl Journal {
    /// Opens (or continues) the journal in `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self {
            path,
            file,
            synced_at: std::time::Instant::now(),
            unsynced: false,
            error: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&mut self, event: &RunEvent) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
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

impl Drop for Journal {
    fn drop(&mut self) {
        if self.unsynced {
            let _ = self.file.sync_data();
        }
    }
}

impl Listener for Journal {
    fn on_event(&mut self, event: &RunEvent) {
        if let Err(e) = self.append(event)
            && self.error.is_none()
        {
            self.error = Some(format!("{}: {e}", self.path.display()));
        }
    }
}

/// Reads a journal back. A last line cut short by a kill is ignored; a bad
/// line anywhere else is an error naming it.
pub fn read_journal(dir: &Path) -> Result<Vec<RunEvent>, String> {
    let path = dir.join(JOURNAL_FILE);
    let file = File::open(&path)
        .map_err(|e| format!("{}: cannot read the journal: {e}", path.display()))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut events = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RunEvent>(line) {
            Ok(e) => events.push(e),
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => return Err(format!("{}: line {}: {e}", path.display(), i + 1)),
        }
    }
    Ok(events)
}
