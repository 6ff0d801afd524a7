//! The run record and its renderers. Renderers read only the record, so any
//! report can be re-rendered later from `record.json`.

/// The record's schema version: bumped on any change a reader must know of.
pub const RECORD_SCHEMA_VERSION: u32 = 1;
