//! `metrig verify DIR`: whether a run folder is intact — its journal's hash
//! chain, its record the fold of that journal, its reports the renderings of
//! that record, its plan copy the plan it ran. Exit 0 when intact, 5 when not.
//! The checks are `reports::integrity::CHECKS`; the last is the folder's
//! signature (`metrig sign`), required and checked against `--key PUB` when given.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_OK, usage};

/// `verify` found a run folder that is not intact.
pub const EXIT_NOT_INTACT: u8 = 5;

pub fn run(dir: &Path, key: Option<&Path>) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        return Err(usage(format!("{}: not a run folder", dir.display())));
    }
    let trusted = key
        .map(reports::signature::read_public_key)
        .transpose()
        .map_err(|e| usage(e.to_string()))?;
    let v = reports::integrity::verify_with_key(dir, trusted);
    for c in &v.checks {
        let mark = match c.intact {
            Some(true) => "ok     ",
            Some(false) => "BROKEN ",
            None => "n/a    ",
        };
        say!("{mark} {:<26} {}", c.name, c.detail)?;
    }
    if v.intact() {
        say!("{}: intact", dir.display())?;
        Ok(ExitCode::from(EXIT_OK))
    } else {
        say!("{}: NOT intact", dir.display())?;
        Ok(ExitCode::from(EXIT_NOT_INTACT))
    }
}
