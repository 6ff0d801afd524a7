//! Where the store is: `--store`, else `METRIG_STORE`, else `[store] url`
//! in `metrig.toml` (the working folder's), else the SQLite file beside the
//! runs. A PostgreSQL URL (`postgres://` or `postgresql://`) selects the
//! fleet store; anything else is a SQLite file (`sqlite:` prefix optional).

use std::path::{Path, PathBuf};

use crate::StoreError;

pub const CONFIG_FILE: &str = "metrig.toml";
pub const STORE_ENV: &str = "METRIG_STORE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(text: &str) -> Location {
        let t = text.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            Location::Postgres(t.to_string())
        } else {
            Location::Sqlite(PathBuf::from(t.strip_prefix("sqlite:").unwrap_or(t)))
        }
    }
}

impl std::fmt::Display for Location {
    /// A PostgreSQL URL is shown without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Location::Postgres(url) => {
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(s), Some(at)) if at > s => {
                        let cred = &url[s + 3..at];
                        match cred.split_once(':') {
                            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                            None => url.clone(),
                        }
                    }
                    _ => url.clone(),
                };
                f.write_str(&shown)
            }
        }
    }
}

/// What `run` should do with the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Use(Location),
    /// `--store off`: the run writes its folder only.
    Off,
}

/// Resolves the store from the command line, the environment and `config`
/// (normally `metrig.toml` in the working folder).
pub fn resolve(cli: Option<&str>, config: &Path) -> Result<Choice, StoreError> {
    let text = match cli {
        Some(t) => Some(t.to_string()),
        None => match std::env::var(STORE_ENV) {
            Ok(t) if !t.trim().is_empty() => Some(t),
            _ => from_file(config)?,
        },
    };
    Ok(match text {
        Some(t) if matches!(t.trim(), "off" | "none") => Choice::Off,
        Some(t) => Choice::Use(Location::parse(&t)),
        None => Choice::Use(Location::Sqlite(crate::default_sqlite_path())),
    })
}

fn from_file(path: &Path) -> Result<Option<String>, StoreError> {
    let err = |message: String| StoreError::Config {
        file: path.display().to_string(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(e.to_string())),
    };
    let doc: toml::Table = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
    let Some(store) = doc.get("store") else {
        return Ok(None);
    };
    let Some(table) = store.as_table() else {
        return Err(err("[store] must be a table with `url = \"...\"`".into()));
    };
    for key in table.keys() {
        if key != "url" {
            return Err(err(format!(
                "[store] has an unknown key `{key}`; the only key is `url`"
            )));
        }
    }
    match table.get("url") {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(
            "[store] url must be a string: a SQLite path or a postgres:// URL".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_database_and_hide_the_password() {
        let pg = Location::parse("postgres://lab:secret@db.lab:5432/metrig");
        assert!(matches!(pg, Location::Postgres(_)));
        assert_eq!(pg.to_string(), "postgres://lab:***@db.lab:5432/metrig");
        assert_eq!(
            Location::parse("sqlite:x/y.sqlite"),
            Location::Sqlite(PathBuf::from("x/y.sqlite"))
        );
    }

    #[test]
    fn config_file_names_its_bad_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("metrig.toml");
        std::fs::write(&f, "[store]\nurl = \"a.sqlite\"\nuri = \"b\"\n").expect("write");
        let e = from_file(&f).expect_err("unknown key");
        assert!(e.to_string().contains("uri"), "{e}");
        std::fs::write(&f, "[store]\nurl = \"postgres://h/db\"\n").expect("write");
        assert_eq!(from_file(&f).expect("ok"), Some("postgres://h/db".into()));
    }
}
