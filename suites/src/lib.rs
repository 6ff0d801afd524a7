//! The conformance suites, one module per suite, and the standards' tables as
//! typed data with their clause cited.

mod id;

pub use id::SuiteId;
