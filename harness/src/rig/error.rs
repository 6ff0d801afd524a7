//! Errors from instruments: a source, reference, meter link or safety
//! check that fails. A rig file's own mistakes are `files::FileError`
//! (exit code 2 at the command line); these are the bench's (exit code 3,
//! except a refused load point, which is bad input).

use crate::modbus::LinkError;

#[derive(Debug, thiserror::Error)]
pub enum RigError {
    #[error("{instrument}: {message}")]
    Instrument { instrument: String, message: String },
    #[error("{instrument}: {source}")]
    Link {
        instrument: String,
        #[source]
        source: LinkError,
    },
    #[error("safety: {0}")]
    Safety(#[from] crate::rig::safety::SafetyError),
}

impl RigError {
    pub fn instrument(instrument: impl Into<String>, message: impl Into<String>) -> Self {
        RigError::Instrument {
            instrument: instrument.into(),
            message: message.into(),
        }
    }
}
