//! The run record and its renderers. Renderers read only the record, so any
//! report can be re-rendered later from `record.json`.
//!
//! Owns: the record (`record.json`, schema-versioned) and its renderings.
//! May import: `model` only — no engine, drivers, gpiocdev or probe-rs.

pub mod compare;
pub mod conformity;
pub mod csv;
pub mod governing;
pub mod html;
pub mod integrity;
pub mod junit;
pub mod markdown;
pub mod pdf;
pub mod record;
pub mod safe_write;
pub mod signature;

use std::path::Path;

pub use record::{Record, RecordError, RecordListener, RecordStatus};

/// The record's schema version: bumped on any change a reader must know of.
pub const RECORD_SCHEMA_VERSION: u32 = 1;

/// Writes the record and every rendering of it into `dir`.
pub fn write_all(record: &Record, dir: &Path) -> Result<(), String> {
    record.write(dir).map_err(|e| e.to_string())?;
    csv::write(record, dir)?;
    junit::write(record, dir)?;
    markdown::write(record, dir)?;
    html::write(record, dir)?;
    Ok(())
}
