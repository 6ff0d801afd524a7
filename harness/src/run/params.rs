//! The parameters a suite declares for its `[[suites]]` entry, and their
//! check when a plan loads (issue 16 §3): a typo'd key, a value of the wrong
//! kind or one no suite could use is refused, naming the file, the suite, the
//! key and what is allowed, before anything is energised.
//!
//! The suites own their declarations (issue 14 §2: suites declare, the
//! framework checks); this module only says what a declaration is, so plan
//! validation takes the catalogue of suites instead of a list repeating them.
//! Owns: `Param`, `ParamKind`, `TableRow`, `Declaration` and the check.
//! May import: `files` (the one file error); nothing else of `run`.

use crate::files::FileError;

/// What a suite parameter in a plan may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    /// A finite number within `low..=high` (`whole`: an integer).
    Number {
        low: f64,
        high: f64,
        unit: &'static str,
        whole: bool,
    },
    Flag,
    /// One of these strings.
    Choice(&'static [&'static str]),
}

/// A standard's table row, by table and row id, as the record names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRow {
    pub table: &'static str,
    pub row: &'static str,
}

/// One parameter a suite reads from its `[[suites]]` entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    pub key: &'static str,
    pub kind: ParamKind,
    /// The table row a tolerance parameter is bounded by rather than judged
    /// by (issue 15, item 8): a wider tolerance than the row's goes through
    /// `[[overrides]]` for that row, so an override of it counts as used
    /// whenever the suite is planned.
    pub bounded_by: Option<TableRow>,
}

impl Param {
    const fn of(key: &'static str, kind: ParamKind) -> Self {
        Self {
            key,
            kind,
            bounded_by: None,
        }
    }

    /// A finite number within `low..=high`, in `unit`.
    pub const fn number(key: &'static str, low: f64, high: f64, unit: &'static str) -> Self {
        let whole = false;
        Self::of(
            key,
            ParamKind::Number {
                low,
                high,
                unit,
                whole,
            },
        )
    }

    /// A whole number within `low..=high`, in `unit`.
    pub const fn whole(key: &'static str, low: f64, high: f64, unit: &'static str) -> Self {
        Self::number(key, low, high, unit).in_whole_numbers()
    }

    const fn in_whole_numbers(mut self) -> Self {
        if let ParamKind::Number { whole, .. } = &mut self.kind {
            *whole = true;
        }
        self
    }

    /// `true` or `false`.
    pub const fn flag(key: &'static str) -> Self {
        Self::of(key, ParamKind::Flag)
    }

    /// One of `options`.
    pub const fn choice(key: &'static str, options: &'static [&'static str]) -> Self {
        Self::of(key, ParamKind::Choice(options))
    }

    /// The parameter tightens table `table`'s row `row`, which bounds it.
    pub const fn bounded_by(mut self, table: &'static str, row: &'static str) -> Self {
        self.bounded_by = Some(TableRow { table, row });
        self
    }
}

/// What plan validation knows of one suite: its id and the parameters its
/// `[[suites]]` entry may carry. The runner's `Suite` gives its own
/// (`Suite::declaration`); a suite declaring none takes only `id` and
/// `repetitions`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Declaration {
    pub id: &'static str,
    pub params: &'static [Param],
}

impl Declaration {
    /// A suite that takes no parameters.
    pub const fn bare(id: &'static str) -> Self {
        Self { id, params: &[] }
    }

    /// The table rows this suite's tolerance parameters are bounded by.
    pub fn tolerance_rows(&self) -> impl Iterator<Item = TableRow> + '_ {
        self.params.iter().filter_map(|p| p.bounded_by)
    }
}

/// Checks suite entry `i`'s parameters against its suite's declaration;
/// `bad` builds the refusal (file, key, value, what is allowed).
pub(crate) fn check(
    bad: &dyn Fn(String, String, String) -> FileError,
    i: usize,
    suite: &Declaration,
    params: &toml::Table,
) -> Result<(), FileError> {
    let id = suite.id;
    for (key, value) in params {
        let name = format!("suites[{i}].{key}");
        let Some(param) = suite.params.iter().find(|p| p.key == key) else {
            let allowed: Vec<_> = suite.params.iter().map(|p| p.key).collect();
            return Err(bad(
                name,
                value.to_string(),
                if allowed.is_empty() {
                    format!("no parameters: suite {id} takes none (id, repetitions only)")
                } else {
                    format!("a parameter of suite {id}: one of {allowed:?} (or id, repetitions)")
                },
            ));
        };
        match (param.kind, value) {
            (ParamKind::Flag, toml::Value::Boolean(_)) => {}
            (ParamKind::Flag, v) => return Err(bad(name, v.to_string(), "true or false".into())),
            (ParamKind::Choice(options), toml::Value::String(s))
                if options.contains(&s.as_str()) => {}
            (ParamKind::Choice(options), v) => {
                return Err(bad(name, v.to_string(), format!("one of {options:?}")));
            }
            (
                ParamKind::Number {
                    low,
                    high,
                    unit,
                    whole,
                },
                v,
            ) => {
                let n = match v {
                    toml::Value::Integer(n) => *n as f64,
                    toml::Value::Float(f) => *f,
                    _ => f64::NAN,
                };
                if !(n.is_finite() && (low..=high).contains(&n) && (!whole || n.fract() == 0.0)) {
                    let what = if whole { "a whole number" } else { "a number" };
                    return Err(bad(
                        name,
                        v.to_string(),
                        format!("{what} within {low}..={high} {unit}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const COUNTS: Param = Param::number("gate_counts", 100.0, 1e7, "reference counts per gate");
    const SUITE: Declaration = Declaration {
        id: "accuracy-active",
        params: &[
            COUNTS,
            Param::flag("influence"),
            Param::whole("results", 3.0, 1000.0, "results"),
            Param::choice("deviations", &["finding", "fail"]),
            Param::number("tolerance_pct", 0.1, 100.0, "%").bounded_by("pulse-tests", "start"),
        ],
    };

    fn checked(toml: &str) -> Result<(), String> {
        let params: toml::Table = toml::from_str(toml).expect("toml");
        let bad = |key, value, allowed| FileError::Invalid {
            file: Path::new("p.toml").to_path_buf(),
            key,
            value,
            allowed,
        };
        check(&bad, 2, &SUITE, &params).map_err(|e| e.to_string())
    }

    #[test]
    fn declared_values_within_their_ranges_pass() {
        checked("gate_counts = 1000\ninfluence = false\nresults = 10\ndeviations = \"fail\"")
            .expect("valid");
    }

    #[test]
    fn each_wrong_value_is_refused_naming_the_key_and_what_is_allowed() {
        for (toml, key, allowed) in [
            (
                "gate_cuonts = 1000",
                "suites[2].gate_cuonts",
                "\"gate_counts\"",
            ),
            (
                "gate_counts = inf",
                "suites[2].gate_counts",
                "within 100..=10000000",
            ),
            ("gate_counts = \"x\"", "suites[2].gate_counts", "a number"),
            ("influence = 1", "suites[2].influence", "true or false"),
            ("results = 2.5", "suites[2].results", "a whole number"),
            (
                "deviations = \"warn\"",
                "suites[2].deviations",
                "[\"finding\", \"fail\"]",
            ),
        ] {
            let e = checked(toml).expect_err(toml);
            assert!(e.contains("p.toml"), "{e}");
            assert!(e.contains(key), "{toml}: {e}");
            assert!(e.contains(allowed), "{toml}: {e}");
        }
    }

    #[test]
    fn a_suite_declaring_none_takes_none() {
        let params: toml::Table = toml::from_str("x = 1").expect("toml");
        let bad = |key, value, allowed| FileError::Invalid {
            file: Path::new("p.toml").to_path_buf(),
            key,
            value,
            allowed,
        };
        let e = check(&bad, 0, &Declaration::bare("tariff"), &params).expect_err("none");
        assert!(e.to_string().contains("suite tariff takes none"), "{e}");
    }

    #[test]
    fn tolerance_rows_come_from_the_parameters_that_name_one() {
        let rows: Vec<_> = SUITE.tolerance_rows().collect();
        assert_eq!(
            rows,
            [TableRow {
                table: "pulse-tests",
                row: "start"
            }]
        );
    }
}
