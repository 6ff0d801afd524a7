//! metrig's data, below everything else: quantities and load points, verdicts,
//! decision rules and uncertainty budgets, planned points and their outcomes,
//! and the run's events that the journal writes and the record folds.
//!
//! Owns: plain types and the arithmetic on them (GUM budgets, ILAC-G8
//! decisions, the Welch test the firmware gate uses).
//! May import: serde, chrono, sha2 (file hashes), statrs — nothing of metrig.
//! `harness` re-exports these at their old paths (`harness::quantity`,
//! `harness::run::PointSpec`, `harness::stats::Verdict`, ...); `reports`
//! depends on this crate alone, so rendering a record never links drivers.

pub mod events;
pub mod identity;
pub mod journal;
pub mod lab;
pub mod load_point;
pub mod point;
pub mod quantity;
pub mod stats;
pub mod suite_id;

pub use suite_id::SuiteId;
