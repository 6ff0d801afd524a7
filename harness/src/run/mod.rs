//! Running a plan. Layers, each importing only those below it:
//! `runner` (the run, short) → `schedule` (plan, check, group: shared
//! dwells by what each point declares in `dwell`, the order in `order`) |
//! `session` (start, the one ending) | `execute` (measure a point or a
//! group: retry, reboot wait, panic catch) → `suite` (what a suite is) →
//! `model` (PointSpec, PointOutcome, LimitRef, Sample, Finding, events).
//! `plan` checks a plan against the suites' declarations (`params`), which
//! each `Suite` gives; neither imports `suite`.
//! Owns: the run and its parts above, the plan file and the suites'
//! parameter declarations (`params`), the framework's judges (`judge`), the
//! journal that survives `kill -9`, putting meters' settings back.
//! May import: `rig`, `profile`, `measure`, `stats`, `modbus`, `files` and
//! `model`; never a driver, the simulator or `station` by name.

mod cancel;
pub mod dwell;
pub mod events;
mod execute;
pub mod finite;
pub mod journal;
pub mod judge;
pub mod lab;
pub mod order;
pub mod params;
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
pub use params::{Declaration, Param, ParamKind, TableRow};
pub use plan::{Plan, load_plan, parse_plan};
pub use runner::{Cancel, CancelHandle, RunError, RunRequest, RunSummary, cancel_pair, run};
pub use suite::{
    Confidence, LimitRef, PlanContext, PlannedU, PointIo, PointOutcome, PointSpec, Suite,
    SuiteError,
};
