//! Whether a run folder is intact: what `metrig verify DIR` says, and what
//! `report` and `compare` require before they trust a run.
//!
//! The journal proves itself (its hash chain, `harness::run::journal`); the
//! record is the fold of the journal, so `record.json` must be that fold byte
//! for byte, and every report must be the rendering of that record. Each
//! proof is one `Check` in `CHECKS`, run in order; the last is the folder's
//! signature (`crate::signature`), when it has one.

use std::path::Path;

use model::journal::{CheckedJournal, JOURNAL_FILE, read_checked};

use crate::record::{RECORD_FILE, Record};

/// A copy of the plan the run used, kept in its folder so that the firmware
/// gate reads the thresholds the run was planned with, wherever it is started.
pub const PLAN_COPY_FILE: &str = "plan.toml";

#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    #[error(transparent)]
    Journal(#[from] model::journal::JournalError),
    #[error("{dir}: the journal holds no started run")]
    NoRun { dir: String },
    #[error("{why}")]
    Mismatch { path: String, why: String },
}

/// One proof about a run folder.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub name: &'static str,
    /// `None`: not applicable (the file is absent, e.g. a run that was killed).
    pub intact: Option<bool>,
    pub detail: String,
}

/// What the checks share: the journal once read and checked, its record.
#[derive(Debug, Default)]
pub struct Evidence {
    pub journal: Option<CheckedJournal>,
    pub record: Option<Record>,
    /// The public key the run must be signed with (`verify --key PUB`).
    pub trusted_key: Option<ed25519_dalek::VerifyingKey>,
}

type Check = fn(&Path, &mut Evidence) -> CheckOutcome;

/// Every proof `metrig verify` runs, in order (the journal first: the
/// others rest on it).
pub const CHECKS: &[(&str, Check)] = &[
    ("journal chain", check_journal),
    ("record matches journal", check_record),
    ("reports match record", check_reports),
    ("plan copy matches record", check_plan_copy),
    ("signature", check_signature),
];

/// The outcome of every check on `dir`.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub checks: Vec<CheckOutcome>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.checks.iter().all(|c| c.intact != Some(false))
    }
}

pub fn verify(dir: &Path) -> Verification {
    verify_with_key(dir, None)
}

/// `verify`, requiring a signature by `trusted` when given: an unsigned run
/// or one signed by another key is then not intact.
pub fn verify_with_key(dir: &Path, trusted: Option<ed25519_dalek::VerifyingKey>) -> Verification {
    let mut evidence = Evidence {
        trusted_key: trusted,
        ..Evidence::default()
    };
    let checks = CHECKS
        .iter()
        .map(|(_, check)| check(dir, &mut evidence))
        .collect();
    Verification { checks }
}

fn outcome(name: &'static str, intact: Option<bool>, detail: impl Into<String>) -> CheckOutcome {
    CheckOutcome {
        name,
        intact,
        detail: detail.into(),
    }
}

fn check_journal(dir: &Path, ev: &mut Evidence) -> CheckOutcome {
    const NAME: &str = "journal chain";
    match read_checked(dir) {
        Ok(j) => {
            let mut detail = format!(
                "{}: {} lines, each chained to the one before",
                dir.join(JOURNAL_FILE).display(),
                j.events.len()
            );
            if j.cut_tail_bytes > 0 {
                detail.push_str(&format!(
                    "; a last line of {} bytes was cut short by a kill and is not part of the run",
                    j.cut_tail_bytes
                ));
            }
            ev.record = Record::from_events(&j.events);
            ev.journal = Some(j);
            outcome(NAME, Some(true), detail)
        }
        Err(e) => outcome(NAME, Some(false), e.to_string()),
    }
}

/// The record as it must be written: the fold of the checked journal.
fn expected_record_bytes(record: &Record) -> Option<Vec<u8>> {
    serde_json::to_vec_pretty(record).ok()
}

fn check_record(dir: &Path, ev: &mut Evidence) -> CheckOutcome {
    const NAME: &str = "record matches journal";
    let path = dir.join(RECORD_FILE);
    let Some(record) = &ev.record else {
        return outcome(
            NAME,
            Some(false),
            "no record: the journal is not intact or holds no run",
        );
    };
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => outcome(
            NAME,
            None,
            format!(
                "{}: absent (a killed run); `metrig report` rebuilds it from the journal",
                path.display()
            ),
        ),
        Err(e) => outcome(NAME, Some(false), format!("{}: {e}", path.display())),
        Ok(bytes) if Some(&bytes) == expected_record_bytes(record).as_ref() => outcome(
            NAME,
            Some(true),
            format!("{}: the fold of the journal, byte for byte", path.display()),
        ),
        Ok(_) => outcome(
            NAME,
            Some(false),
            format!(
                "{}: differs from the fold of the journal (edited, or written by another metrig)",
                path.display()
            ),
        ),
    }
}

/// The reports' files and their renderings of `record`.
fn renderings(record: &Record) -> Vec<(&'static str, Result<String, String>)> {
    vec![
        (crate::csv::SAMPLES_FILE, crate::csv::render(record)),
        (crate::junit::JUNIT_FILE, crate::junit::render(record)),
        (
            crate::markdown::SUMMARY_FILE,
            Ok(crate::markdown::render(record)),
        ),
        (crate::html::HTML_FILE, Ok(crate::html::render(record))),
    ]
}

fn check_reports(dir: &Path, ev: &mut Evidence) -> CheckOutcome {
    const NAME: &str = "reports match record";
    let Some(record) = &ev.record else {
        return outcome(NAME, None, "no record to render");
    };
    let mut differ = Vec::new();
    let mut present = 0;
    for (file, rendered) in renderings(record) {
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            continue;
        };
        present += 1;
        if rendered.ok().map(String::into_bytes) != Some(bytes) {
            differ.push(file);
        }
    }
    match (present, differ.is_empty()) {
        (0, _) => outcome(NAME, None, "no reports written yet"),
        (_, true) => outcome(
            NAME,
            Some(true),
            format!("{present} reports are renderings of the record"),
        ),
        (_, false) => outcome(
            NAME,
            Some(false),
            format!(
                "{} differ from the rendering of the record (edited?); `metrig report` renders them again",
                differ.join(", ")
            ),
        ),
    }
}

fn check_plan_copy(dir: &Path, ev: &mut Evidence) -> CheckOutcome {
    const NAME: &str = "plan copy matches record";
    let Some(record) = &ev.record else {
        return outcome(NAME, None, "no record");
    };
    let path = dir.join(PLAN_COPY_FILE);
    if !path.exists() {
        return outcome(NAME, None, format!("{}: absent", path.display()));
    }
    let copy = model::events::FileRef::of(&path);
    if copy.sha256 == record.plan.sha256 {
        outcome(
            NAME,
            Some(true),
            format!("{}: sha256 {}", path.display(), short(&copy.sha256)),
        )
    } else {
        outcome(
            NAME,
            Some(false),
            format!(
                "{}: sha256 {}, the run used {}",
                path.display(),
                short(&copy.sha256),
                short(&record.plan.sha256)
            ),
        )
    }
}

fn check_signature(dir: &Path, ev: &mut Evidence) -> CheckOutcome {
    const NAME: &str = "signature";
    use crate::signature::{SIGNATURE_FILE, SignatureStatus, check};
    let status = check(dir, ev.trusted_key.as_ref());
    match (&status, ev.trusted_key.is_some()) {
        (SignatureStatus::Unsigned, false) => outcome(NAME, None, status.describe()),
        (SignatureStatus::Unsigned, true) => outcome(
            NAME,
            Some(false),
            format!(
                "{}: absent; a run signed with the key given was asked for",
                dir.join(SIGNATURE_FILE).display()
            ),
        ),
        (SignatureStatus::Valid { .. }, _) => outcome(NAME, Some(true), status.describe()),
        (SignatureStatus::Broken { .. }, _) => outcome(NAME, Some(false), status.describe()),
    }
}

fn short(h: &str) -> &str {
    &h[..12.min(h.len())]
}

/// The run's record, trusted: the journal's chain holds and `record.json`,
/// when present, is its fold. What `report` and `compare` work from.
pub fn trusted_record(dir: &Path) -> Result<Record, IntegrityError> {
    let mut ev = Evidence::default();
    let j = check_journal(dir, &mut ev);
    if j.intact != Some(true) {
        // The journal's own error, with its line number.
        read_checked(dir)?;
    }
    let record = ev.record.clone().ok_or_else(|| IntegrityError::NoRun {
        dir: dir.display().to_string(),
    })?;
    let r = check_record(dir, &mut ev);
    if r.intact == Some(false) {
        return Err(IntegrityError::Mismatch {
            path: dir.join(RECORD_FILE).display().to_string(),
            why: r.detail,
        });
    }
    Ok(record)
}
