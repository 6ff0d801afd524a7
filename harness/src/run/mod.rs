//! Running a plan. Layers, each importing only those below it:
//! `runner` (the run, short) → `schedule` (plan, check, group: shared
//! dwells by what each point declares in `dwell`, the order in `order`) |
//! `session` (start, the one ending) | `execute` (measure a point or a
//! group: retry, reboot wait, panic catch) → `suite` (what a suite is) →
//! `model` (PointSpec, PointOutcome, LimitRef, Sample, Finding, events).
//! May import: `rig`, `profile`, `measure`, `stats` and `model`; never a
//! driver or the simulator by name. Also here: the journal that survives `kill -9`, putting meters'
//! settings back, and the plan file.

mod cancel;
pub mod dwell;
pub mod events;
mod execute;
pub mod finite;
pub mod journal;
pub mod judge;
pub mod lab;
pub mod order;
pub mod plan;
pub mod planner;
mod request;
pub mod restore;
pub mod runner;
mod schedule;
mod session;
pub mod suite;

pub use events::{Finding, Listener, RunEvent, RunStatus, Severity};
pub use judge::{Measured, judge};
pub use plan::{Plan, load_plan, parse_plan};
pub use runner::{Cancel, CancelHandle, RunError, RunRequest, RunSummary, cancel_pair, run};
pub use suite::{
    Confidence, LimitRef, PlanContext, PlannedU, PointIo, PointOutcome, PointSpec, Suite,
    SuiteError,
};
