//! What happens during a run, as events. The journal writes them, the
//! progress display shows them, the record is their fold. The types live in
//! `model` (the record reads them without the engine); they are re-exported
//! here at their old paths.

pub use model::events::{
    FileRef, Finding, Listener, MeterInfo, RestoreOutcome, RunEvent, RunHeader, RunStatus, Sample,
    Severity,
};
