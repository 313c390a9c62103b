//! The two databases behind one small interface: statements written once with PostgreSQL's
//! `$n` placeholders (rewritten to SQLite's `?n`), typed parameters, rows read as cells, and
//! explicit transactions. Nothing here knows the schema.

use std::collections::{BTreeSet, HashMap};

use postgres::types::{ToSql, Type};

use crate::{Error, Result};

/// A statement parameter, borrowed from the caller. Typed even when null, because PostgreSQL
/// checks each parameter's type against its column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a> {
    /// TEXT.
    Text(Option<&'a str>),
    /// BIGINT.
    Int(Option<i64>),
    /// BYTEA (a BLOB in SQLite).
    Bytes(&'a [u8]),
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(s: &'a str) -> Self {
        Val::Text(Some(s))
    }
}

impl<'a> From<&'a String> for Val<'a> {
    fn from(s: &'a String) -> Self {
        Val::Text(Some(s))
    }
}

impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(s: Option<&'a str>) -> Self {
        Val::Text(s)
    }
}

impl From<i64> for Val<'_> {
    fn from(i: i64) -> Self {
        Val::Int(Some(i))
    }
}

impl From<Option<i64>> for Val<'_> {
    fn from(i: Option<i64>) -> Self {
        Val::Int(i)
    }
}

impl rusqlite::ToSql for Val<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Val::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
            Val::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Val::Text(None) | Val::Int(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell> {
        self.0
            .get(i)
            .ok_or_else(|| Error::Corrupt(format!("a row has no column {i}")))
    }

    /// A TEXT column that may be NULL.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            other => Err(Error::Corrupt(format!("column {i} is {other:?}, not text"))),
        }
    }

    /// A TEXT column.
    pub(crate) fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| Error::Corrupt(format!("column {i} is NULL")))
    }

    /// A BIGINT column that may be NULL.
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(n) => Ok(Some(*n)),
            other => Err(Error::Corrupt(format!(
                "column {i} is {other:?}, not an integer"
            ))),
        }
    }

    /// A BIGINT column.
    pub(crate) fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?
            .ok_or_else(|| Error::Corrupt(format!("column {i} is NULL")))
    }

    /// A BYTEA column.
    pub(crate) fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        match self.cell(i)? {
            Cell::Bytes(b) => Ok(b.clone()),
            other => Err(Error::Corrupt(format!(
                "column {i} is {other:?}, not bytes"
            ))),
        }
    }
}

/// How SQLite runs one statement (see [`crate::Index::query_plans`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPlan {
    /// The statement, as the index writes it (PostgreSQL's `$n` placeholders).
    pub sql: String,
    /// `EXPLAIN QUERY PLAN`'s lines, indented two spaces per level (`SEARCH … USING INDEX …`
    /// where an index is used, `SCAN …` where a table or index is read whole).
    pub plan: Vec<String>,
}

/// Which database, and what it needs between statements.
pub(crate) enum Db {
    /// The connection, and the statements run since recording started
    /// ([`Db::record_statements`]; `None` when not recording).
    Sqlite(rusqlite::Connection, Option<BTreeSet<&'static str>>),
    Postgres {
        client: Box<postgres::Client>,
        /// Prepared statements by their SQL: ingest runs the same few many thousand times.
        prepared: HashMap<&'static str, postgres::Statement>,
    },
}

/// SQLite numbers parameters `?n` where PostgreSQL writes `$n`; the schema's SQL has no other `$`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn pg_params<'a>(params: &'a [Val<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Val::Text(t) => t as &(dyn ToSql + Sync),
            Val::Int(i) => i as &(dyn ToSql + Sync),
            Val::Bytes(b) => b as &(dyn ToSql + Sync),
        })
        .collect()
}

fn pg_row(row: &postgres::Row) -> Result<Row> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let cell = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|n| Cell::Int(i64::from(n)))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Bytes)
        } else {
            row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(cells))
}

fn sqlite_row(row: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let mut cells = Vec::with_capacity(n);
    for i in 0..n {
        cells.push(match row.get_ref(i)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(n) => Cell::Int(n),
            ValueRef::Real(f) => Cell::Text(f.to_string()),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
        });
    }
    Ok(Row(cells))
}

impl Db {
    /// True for PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres { .. })
    }

    fn pg_statement(
        client: &mut postgres::Client,
        prepared: &mut HashMap<&'static str, postgres::Statement>,
        sql: &'static str,
    ) -> Result<postgres::Statement> {
        if let Some(s) = prepared.get(sql) {
            return Ok(s.clone());
        }
        let statement = client.prepare(sql)?;
        prepared.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs a statement that returns no rows; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: &'static str, params: &[Val<'_>]) -> Result<u64> {
        match self {
            Db::Sqlite(conn, seen) => {
                if let Some(seen) = seen {
                    seen.insert(sql);
                }
                let mut statement = conn.prepare_cached(&sqlite_sql(sql))?;
                Ok(statement.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Db::Postgres { client, prepared } => {
                let statement = Self::pg_statement(client, prepared, sql)?;
                Ok(client.execute(&statement, &pg_params(params))?)
            }
        }
    }

    /// Runs a query; every row.
    pub(crate) fn query(&mut self, sql: &'static str, params: &[Val<'_>]) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(conn, seen) => {
                if let Some(seen) = seen {
                    seen.insert(sql);
                }
                let mut statement = conn.prepare_cached(&sqlite_sql(sql))?;
                let n = statement.column_count();
                let rows = statement
                    .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                        sqlite_row(row, n)
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            }
            Db::Postgres { client, prepared } => {
                let statement = Self::pg_statement(client, prepared, sql)?;
                client
                    .query(&statement, &pg_params(params))?
                    .iter()
                    .map(pg_row)
                    .collect()
            }
        }
    }

    /// Runs statements separated by `;` without parameters (schema changes).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(conn, _) => Ok(conn.execute_batch(sql)?),
            Db::Postgres { client, .. } => Ok(client.batch_execute(sql)?),
        }
    }

    /// Starts (again) recording the text of every statement run through [`Self::query`] and
    /// [`Self::execute`], for [`Self::query_plans`]. SQLite only: PostgreSQL needs parameter
    /// values to plan a prepared statement, so nothing is recorded there.
    pub(crate) fn record_statements(&mut self) {
        if let Db::Sqlite(_, seen) = self {
            *seen = Some(BTreeSet::new());
        }
    }

    /// SQLite's plan (`EXPLAIN QUERY PLAN`, every parameter NULL) of each statement recorded
    /// since [`Self::record_statements`], by statement text. Empty on PostgreSQL.
    pub(crate) fn query_plans(&mut self) -> Result<Vec<QueryPlan>> {
        let Db::Sqlite(conn, Some(seen)) = self else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(seen.len());
        for sql in seen.iter() {
            let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", sqlite_sql(sql)))?;
            let nulls = vec![rusqlite::types::Null; statement.parameter_count()];
            // Rows are (id, parent, notused, detail), parents before their children.
            let rows = statement
                .query_map(rusqlite::params_from_iter(nulls), |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut depth: HashMap<i64, usize> = HashMap::new();
            let mut plan = Vec::with_capacity(rows.len());
            for (id, parent, detail) in rows {
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                plan.push(format!("{}{detail}", "  ".repeat(d)));
            }
            out.push(QueryPlan {
                sql: (*sql).to_owned(),
                plan,
            });
        }
        Ok(out)
    }

    /// Runs `work` in one transaction: committed when it succeeds, rolled back when it fails.
    /// SQLite takes the write lock at the start (`BEGIN IMMEDIATE`), so two writers wait for
    /// each other instead of failing halfway.
    pub(crate) fn transaction<T>(&mut self, work: impl FnOnce(&mut Db) -> Result<T>) -> Result<T> {
        self.batch(match self {
            Db::Sqlite(..) => "BEGIN IMMEDIATE",
            Db::Postgres { .. } => "BEGIN",
        })?;
        match work(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                // The transaction's own error is the one to report.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_for_sqlite() {
        assert_eq!(
            sqlite_sql("SELECT a FROM t WHERE b = $2 AND c = $1"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1"
        );
    }
}
