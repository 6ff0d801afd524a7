//! What a run is asked to do, how it ends, and why it cannot start: the
//! words the runner's parts (schedule, session, execute) share.

use std::collections::HashSet;
use std::sync::Arc;

use super::cancel::Cancel;
use super::events::{RunEvent, RunStatus};
use super::plan::Plan;
use super::suite::Suite;
use crate::rig::RigError;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plan cannot be run on this rig (exit 2).
    #[error("plan: {0}")]
    Plan(String),
    /// A point lies beyond a meter's ratings or the rig's limits (exit 2).
    #[error("{0}")]
    Safety(String),
    /// The rig failed, or a precondition stopped the run (exit 3).
    #[error(transparent)]
    Rig(#[from] RigError),
    #[error("precondition: {0}")]
    Precondition(String),
}

/// What one run is asked to do.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub plan: &'a Plan,
    pub suites: &'a [Arc<dyn Suite>],
    pub run_id: String,
    /// Events of an interrupted run to continue.
    pub resume: Option<Vec<RunEvent>>,
    /// Run only these point keys (`--rerun-failed`).
    pub only: Option<HashSet<String>>,
    pub cancel: Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub status: RunStatus,
    pub message: String,
    /// Points whose verdict is a failure (fail, conditional fail, error), over the whole run.
    pub failures: usize,
    pub points: usize,
    /// Set when the run stopped because the rig failed or a suite panicked.
    pub rig_failed: Option<String>,
}
