//! Errors from instruments and rig files.

use std::path::PathBuf;

use crate::modbus::LinkError;

#[derive(Debug, thiserror::Error)]
pub enum RigError {
    #[error("{file}: cannot read the rig file: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Syntax { file: PathBuf, message: String },
    #[error("{file}: `{key}` = {value}: {allowed}")]
    Invalid {
        file: PathBuf,
        key: String,
        value: String,
        allowed: String,
    },
    #[error(transparent)]
    Profile(Box<crate::profile::ProfileError>),
    #[error("{file}: `{key}`: {source}")]
    MeterProfile {
        file: PathBuf,
        key: String,
        #[source]
        source: Box<crate::profile::ProfileError>,
    },
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

impl From<crate::profile::ProfileError> for RigError {
    fn from(e: crate::profile::ProfileError) -> Self {
        RigError::Profile(Box::new(e))
    }
}

impl RigError {
    pub fn instrument(instrument: impl Into<String>, message: impl Into<String>) -> Self {
        RigError::Instrument {
            instrument: instrument.into(),
            message: message.into(),
        }
    }
}
