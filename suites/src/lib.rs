//! The conformance suites, one module per suite, and the standards' tables as
//! typed data with their clause cited.

pub mod accuracy_active;
pub mod error_point;
mod id;
pub mod limits;

use std::sync::Arc;

use harness::run::Suite;

pub use id::SuiteId;

/// Every suite built into this metrig.
pub fn all() -> Vec<Arc<dyn Suite>> {
    vec![Arc::new(accuracy_active::AccuracyActive)]
}

/// The ids of the suites built in, for plan validation.
pub fn ids() -> Vec<&'static str> {
    all().iter().map(|s| s.id()).collect()
}
