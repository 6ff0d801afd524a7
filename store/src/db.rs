//! One connection to either database, behind the few calls the store makes.
//! The SQL is written once, with `$1`-style parameters (PostgreSQL's); for
//! SQLite they become `?1`, which SQLite numbers the same way. Only types both
//! databases share are used (TEXT, BIGINT, DOUBLE PRECISION), so the schema
//! and the queries are the same text on both.

use harness::run::events::Sample;
use postgres::types::{ToSql, Type};

use crate::StoreError;

/// A parameter, typed even when null (PostgreSQL checks the type of a null).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(Some(i64::from(v)))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Value::Real(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_string()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::Text(v.map(str::to_string))
    }
}

/// A cell read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(v) => *v,
            Cell::Real(v) => *v as i64,
            Cell::Text(t) => t.parse().unwrap_or(0),
            Cell::Null => 0,
        }
    }
    pub fn real(&self) -> Option<f64> {
        match self {
            Cell::Int(v) => Some(*v as f64),
            Cell::Real(v) => Some(*v),
            Cell::Text(t) => t.parse().ok(),
            Cell::Null => None,
        }
    }
    pub fn text(&self) -> String {
        self.opt_text().unwrap_or_default()
    }
    pub fn opt_text(&self) -> Option<String> {
        match self {
            Cell::Text(t) => Some(t.clone()),
            Cell::Int(v) => Some(v.to_string()),
            Cell::Real(v) => Some(v.to_string()),
            Cell::Null => None,
        }
    }
}

pub type Row = Vec<Cell>;

/// What the store needs of a connection or a transaction.
pub trait Sql {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    fn rows(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Which database answers, for the few statements that differ.
    fn kind(&self) -> Kind;
    /// Inserts one point's samples (inside the point's transaction).
    fn insert_samples(
        &mut self,
        run_id: &str,
        key: &str,
        samples: &[Sample],
        raws: &[String],
    ) -> Result<usize, StoreError>;
}

/// Rows a multi-row SQLite INSERT of samples carries (7 parameters a row,
/// far under SQLite's 32 766). Measured with `cargo bench -p metrig-store`.
pub const SQLITE_SAMPLE_ROWS: usize = 32;

/// SQLite's way to store samples: one cached multi-row INSERT whose
/// parameters are bound straight from the samples — no `Value` copies, no
/// SQL text rebuilt per row. The remainder goes through the one-row INSERT.
fn sqlite_samples(
    conn: &rusqlite::Connection,
    run_id: &str,
    key: &str,
    samples: &[Sample],
    raws: &[String],
) -> Result<usize, StoreError> {
    let e = StoreError::sqlite;
    let bind = |stmt: &mut rusqlite::Statement<'_>,
                rows: &[Sample],
                raws: &[String]|
     -> Result<(), StoreError> {
        let mut i = 0;
        for (s, raw) in rows.iter().zip(raws) {
            let idx = i64::try_from(s.index).unwrap_or(i64::MAX);
            stmt.raw_bind_parameter(i + 1, run_id).map_err(e)?;
            stmt.raw_bind_parameter(i + 2, key).map_err(e)?;
            stmt.raw_bind_parameter(i + 3, idx).map_err(e)?;
            stmt.raw_bind_parameter(i + 4, s.at_s).map_err(e)?;
            stmt.raw_bind_parameter(i + 5, s.value).map_err(e)?;
            stmt.raw_bind_parameter(i + 6, s.unit.as_str()).map_err(e)?;
            stmt.raw_bind_parameter(i + 7, raw.as_str()).map_err(e)?;
            i += 7;
        }
        stmt.raw_execute().map_err(e)?;
        Ok(())
    };
    let n = SQLITE_SAMPLE_ROWS;
    let full = samples.len() / n * n;
    if full > 0 {
        let mut stmt = conn
            .prepare_cached(&sqlite_sql(&crate::write::samples_sql(n)))
            .map_err(e)?;
        for (rows, raws) in samples[..full].chunks(n).zip(raws[..full].chunks(n)) {
            bind(&mut stmt, rows, raws)?;
        }
    }
    if full < samples.len() {
        let mut stmt = conn
            .prepare_cached(&sqlite_sql(&crate::write::samples_sql(1)))
            .map_err(e)?;
        for (s, raw) in samples[full..].iter().zip(&raws[full..]) {
            bind(
                &mut stmt,
                std::slice::from_ref(s),
                std::slice::from_ref(raw),
            )?;
        }
    }
    Ok(samples.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// `$1` → `?1`: the SQL never holds a `$` otherwise.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Bound by reference: a sample's run id and point key are not copied again.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Int(Some(v)) => ValueRef::Integer(*v),
            Value::Real(Some(v)) => ValueRef::Real(*v),
            Value::Text(Some(v)) => ValueRef::Text(v.as_bytes()),
            _ => ValueRef::Null,
        }))
    }
}

fn sqlite_exec(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<u64, StoreError> {
    let mut stmt = conn
        .prepare_cached(&sqlite_sql(sql))
        .map_err(StoreError::sqlite)?;
    let n = stmt
        .execute(rusqlite::params_from_iter(params.iter()))
        .map_err(StoreError::sqlite)?;
    Ok(n as u64)
}

fn sqlite_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    use rusqlite::types::ValueRef;
    let mut stmt = conn
        .prepare_cached(&sqlite_sql(sql))
        .map_err(StoreError::sqlite)?;
    let n = stmt.column_count();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(StoreError::sqlite)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(StoreError::sqlite)? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i).map_err(StoreError::sqlite)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Real(v) => Cell::Real(v),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Cell::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(row);
    }
    Ok(out)
}

/// A connection and a transaction on it take the same calls.
macro_rules! sqlite_sql {
    ($t:ty) => {
        impl Sql for $t {
            fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
                sqlite_exec(self, sql, params)
            }
            fn rows(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
                sqlite_rows(self, sql, params)
            }
            fn kind(&self) -> Kind {
                Kind::Sqlite
            }
            fn insert_samples(
                &mut self,
                run_id: &str,
                key: &str,
                samples: &[Sample],
                raws: &[String],
            ) -> Result<usize, StoreError> {
                sqlite_samples(self, run_id, key, samples, raws)
            }
        }
    };
}
sqlite_sql!(rusqlite::Connection);
sqlite_sql!(rusqlite::Transaction<'_>);

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Value::Int(v) => v as &(dyn ToSql + Sync),
            Value::Real(v) => v as &(dyn ToSql + Sync),
            Value::Text(v) => v as &(dyn ToSql + Sync),
        })
        .collect()
}

fn pg_row(r: &postgres::Row) -> Result<Row, StoreError> {
    let mut row = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let t = c.type_();
        let cell = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)
                .map(|v| v.map_or(Cell::Null, Cell::Int))
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)
                .map(|v| v.map_or(Cell::Null, |v| Cell::Int(v.into())))
        } else if *t == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)
                .map(|v| v.map_or(Cell::Null, Cell::Real))
        } else {
            r.try_get::<_, Option<String>>(i)
                .map(|v| v.map_or(Cell::Null, Cell::Text))
        };
        row.push(cell.map_err(StoreError::postgres)?);
    }
    Ok(row)
}

macro_rules! pg_sql {
    ($t:ty) => {
        impl Sql for $t {
            fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
                let stmt = self.prepare(sql).map_err(StoreError::postgres)?;
                self.execute(&stmt, &pg_params(params))
                    .map_err(StoreError::postgres)
            }
            fn rows(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
                let stmt = self.prepare(sql).map_err(StoreError::postgres)?;
                self.query(&stmt, &pg_params(params))
                    .map_err(StoreError::postgres)?
                    .iter()
                    .map(pg_row)
                    .collect()
            }
            fn kind(&self) -> Kind {
                Kind::Postgres
            }
            fn insert_samples(
                &mut self,
                run_id: &str,
                key: &str,
                samples: &[Sample],
                raws: &[String],
            ) -> Result<usize, StoreError> {
                crate::write::insert_samples_chunked(self, run_id, key, samples, raws)
            }
        }
    };
}
pg_sql!(postgres::Client);
pg_sql!(postgres::Transaction<'_>);

/// The open connection.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Sqlite(_) => "Conn::Sqlite",
            Conn::Postgres(_) => "Conn::Postgres",
        })
    }
}

impl Conn {
    /// Runs `f` in one transaction: all of it is stored, or none (a `kill -9`
    /// mid-write leaves the last committed state). SQLite takes the write lock
    /// at the start (`BEGIN IMMEDIATE`), so two writers wait for each other
    /// (busy timeout) instead of failing on a lock upgrade.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            Conn::Sqlite(c) => {
                let mut tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(StoreError::sqlite)?;
                let v = f(&mut tx)?;
                tx.commit().map_err(StoreError::sqlite)?;
                Ok(v)
            }
            Conn::Postgres(c) => {
                let mut tx = c.transaction().map_err(StoreError::postgres)?;
                let v = f(&mut tx)?;
                tx.commit().map_err(StoreError::postgres)?;
                Ok(v)
            }
        }
    }

    pub fn sql(&mut self) -> &mut dyn Sql {
        match self {
            Conn::Sqlite(c) => c,
            Conn::Postgres(c) => c.as_mut(),
        }
    }
}
