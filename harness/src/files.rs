//! metrig's input files — meter profiles, plans and rig files — as read from
//! disk: one bounded read, one error type, and the range checks every number
//! in them passes at load time.
//!
//! Owns: [`FileError`] (file, key, value, what is allowed), [`read_bounded`],
//! [`Checker`]. May import: nothing else of the harness (profile, run::plan
//! and station all build on it).
//!
//! Why bounded: a plan path pointing at `/dev/zero` must fail at once, not
//! fill memory, and a 10 MB file with a syntax error must not print the
//! whole file back (issue 16, "file reads are bounded in size").

use std::fmt::Display;
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

/// The most bytes read from any profile, plan or rig file. The largest
/// shipped file (a meter profile) is about 20 kB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The most characters of a syntax message kept (TOML quotes the offending
/// line, which in a hostile file can be megabytes long).
pub const MAX_MESSAGE_CHARS: usize = 600;

/// Why an input file was refused. The same four shapes for every kind of
/// file, so the command line reports them alike (exit code 2, see
/// `src/cli`).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{file}: cannot read the {what}: {source}")]
    Io {
        file: PathBuf,
        /// "meter profile", "plan", "rig file".
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{file}: the {what} is larger than {limit} bytes; not read")]
    TooLarge {
        file: PathBuf,
        what: &'static str,
        limit: u64,
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
    /// A file another file names (a rig file's meter profile) was refused.
    #[error("{file}: `{key}`: {source}")]
    Named {
        file: PathBuf,
        key: String,
        #[source]
        source: Box<FileError>,
    },
}

impl FileError {
    /// The file the error is about (the outer one for [`FileError::Named`]).
    pub fn file(&self) -> &Path {
        match self {
            FileError::Io { file, .. }
            | FileError::TooLarge { file, .. }
            | FileError::Syntax { file, .. }
            | FileError::Invalid { file, .. }
            | FileError::Named { file, .. } => file,
        }
    }

    /// The key refused, for [`FileError::Invalid`] (and the outer key of
    /// [`FileError::Named`]).
    pub fn key(&self) -> Option<&str> {
        match self {
            FileError::Invalid { key, .. } | FileError::Named { key, .. } => Some(key),
            _ => None,
        }
    }

    /// A TOML syntax error, its message cut to [`MAX_MESSAGE_CHARS`].
    pub fn syntax(file: &Path, e: &toml::de::Error) -> Self {
        FileError::Syntax {
            file: file.to_path_buf(),
            message: clip(e.to_string().trim_end()),
        }
    }
}

/// `text` cut to [`MAX_MESSAGE_CHARS`] characters, saying how much was cut.
pub fn clip(text: &str) -> String {
    let n = text.chars().count();
    if n <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let kept: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{kept}… ({} more characters)", n - MAX_MESSAGE_CHARS)
}

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`]: a device that
/// never ends, or a huge file, is refused after that many bytes.
pub fn read_bounded(path: &Path, what: &'static str) -> Result<String, FileError> {
    let io = |source| FileError::Io {
        file: path.to_path_buf(),
        what,
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            file: path.to_path_buf(),
            what,
            limit: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

/// Builds the errors of one file: every refusal names the file, the key,
/// the value and what is allowed.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    pub file: &'a Path,
}

impl<'a> Checker<'a> {
    pub fn new(file: &'a Path) -> Self {
        Self { file }
    }

    pub fn invalid(
        &self,
        key: impl Into<String>,
        value: impl Display,
        allowed: impl Into<String>,
    ) -> FileError {
        FileError::Invalid {
            file: self.file.to_path_buf(),
            key: key.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// `value` if it is finite and within `range` (in `unit`), else the
    /// refusal stating the range.
    pub fn within(
        &self,
        key: impl Into<String>,
        value: f64,
        range: RangeInclusive<f64>,
        unit: &str,
    ) -> Result<f64, FileError> {
        if value.is_finite() && range.contains(&value) {
            return Ok(value);
        }
        Err(self.invalid(
            key,
            show(value),
            format!("within {}..={}{}", range.start(), range.end(), spaced(unit)),
        ))
    }

    /// `value` if it is finite, above `low` (exclusive) and at most `high`.
    pub fn above(
        &self,
        key: impl Into<String>,
        value: f64,
        low: f64,
        high: f64,
        unit: &str,
    ) -> Result<f64, FileError> {
        if value.is_finite() && value > low && value <= high {
            return Ok(value);
        }
        Err(self.invalid(
            key,
            show(value),
            format!("within {low} (exclusive)..={high}{}", spaced(unit)),
        ))
    }

    /// An integer `value` if it is within `range`.
    pub fn count<T>(
        &self,
        key: impl Into<String>,
        value: T,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> Result<T, FileError>
    where
        T: PartialOrd + Display + Copy,
    {
        if range.contains(&value) {
            return Ok(value);
        }
        Err(self.invalid(
            key,
            value,
            format!("within {}..={}{}", range.start(), range.end(), spaced(unit)),
        ))
    }
}

/// A number as a person reads it: 1e300 stays 1e300, not 301 digits.
pub fn show(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-6..1e9).contains(&a) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

fn spaced(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_zero_is_refused_after_the_limit() {
        let e = read_bounded(Path::new("/dev/zero"), "plan").expect_err("endless");
        assert!(matches!(e, FileError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("larger than"), "{e}");
    }

    #[test]
    fn long_messages_are_clipped() {
        let long = "x".repeat(10_000);
        let c = clip(&long);
        assert!(c.chars().count() < MAX_MESSAGE_CHARS + 40, "{}", c.len());
        assert!(c.contains("9400 more characters"), "{c}");
    }

    #[test]
    fn ranges_refuse_non_finite_values_and_say_the_range() {
        let c = Checker::new(Path::new("f.toml"));
        for v in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
            let e = c.within("a.b", v, 0.0..=10.0, "s").expect_err("out");
            assert!(e.to_string().contains("within 0..=10 s"), "{e}");
        }
        assert_eq!(c.within("a.b", 10.0, 0.0..=10.0, "s").ok(), Some(10.0));
        assert!(c.above("k", 0.0, 0.0, 1.0, "").is_err());
        assert!(c.count("n", 0u32, 1..=5, "").is_err());
        let e = c.above("k", 1e300, 0.0, 1.0, "V").expect_err("huge");
        assert!(e.to_string().contains("= 1e300:"), "{e}");
    }
}
