//! Running a plan: the runner, its events and listeners, the journal that
//! survives `kill -9`, and putting meters' settings back.

pub mod events;
pub mod finite;
pub mod journal;
pub mod plan;
pub mod restore;
pub mod runner;
pub mod suite;

pub use events::{Finding, Listener, RunEvent, RunStatus, Severity};
pub use plan::{Plan, load_plan, parse_plan};
pub use runner::{Cancel, CancelHandle, RunError, RunRequest, RunSummary, cancel_pair, run};
pub use suite::{
    Confidence, LimitRef, PlanContext, PointIo, PointOutcome, PointSpec, Suite, SuiteError,
};
