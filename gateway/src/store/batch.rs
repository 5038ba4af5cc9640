//! Many statements in few round trips: a batch's writes rendered once and
//! sent together.
//!
//! On SQLite every statement is a hop to the driver's worker thread and back,
//! and those hand-offs, not SQLite's own work, bounded the pipeline
//! (`shared/notes/perf-accept-profile.md`). SQLite runs several `;`-separated
//! statements of one query in one hop, binding `?` parameters in order across
//! them; so a batch is one query (or a few, under SQLite's parameter limit).
//! PostgreSQL's extended protocol takes one statement per query: each
//! statement is sent on its own, multi-row, with `$n` parameters. Both run the
//! same statements in the same order, so both backends keep one behaviour.

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, Arguments, Encode, Type};

use super::{Dialect, Result, StoreError};

/// Parameters per SQLite query, under its limit of 32,766 (SQLite ≥ 3.32).
const SQLITE_MAX_PARAMETERS: usize = 30_000;

/// Statements to run in order, built a value at a time.
pub struct SqlBatch {
    dialect: Dialect,
    /// Queries ready to run, each with its arguments.
    ready: Vec<(String, AnyArguments<'static>)>,
    sql: String,
    args: AnyArguments<'static>,
    /// Parameters in `sql`/`args` (SQLite: of the whole query; PostgreSQL: of the statement).
    params: usize,
    /// Values in the current row, for the separating comma.
    in_row: usize,
    /// Rows in the current statement's VALUES list.
    rows: usize,
    error: Option<String>,
}

impl SqlBatch {
    pub fn new(dialect: Dialect) -> Self {
        SqlBatch {
            dialect,
            ready: Vec::new(),
            sql: String::new(),
            args: AnyArguments::default(),
            params: 0,
            in_row: 0,
            rows: 0,
            error: None,
        }
    }

    /// The dialect of the connection the batch will run on.
    pub fn for_connection(conn: &AnyConnection) -> Self {
        SqlBatch::new(dialect_of(conn))
    }

    /// Starts a statement with its leading text (`INSERT INTO t (a, b) VALUES `).
    /// `params` is how many values it will bind: a SQLite query that would
    /// pass the limit is closed first.
    pub fn statement(&mut self, text: &str, params: usize) {
        match self.dialect {
            Dialect::Sqlite => {
                if self.params > 0 && self.params + params > SQLITE_MAX_PARAMETERS {
                    self.close_query();
                }
                if !self.sql.is_empty() {
                    self.sql.push_str(";\n");
                }
            }
            Dialect::Postgres => self.close_query(),
        }
        self.sql.push_str(text);
        self.rows = 0;
        self.in_row = 0;
    }

    /// Literal SQL in the statement being built.
    pub fn text(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    /// Opens a row of a VALUES list: `(` or `, (`.
    pub fn row(&mut self) {
        self.sql.push_str(if self.rows == 0 { "(" } else { ", (" });
        self.rows += 1;
        self.in_row = 0;
    }

    pub fn end_row(&mut self) {
        self.sql.push(')');
    }

    /// A value of the current row.
    pub fn value<T>(&mut self, value: T)
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        if self.in_row > 0 {
            self.sql.push_str(", ");
        }
        self.in_row += 1;
        self.bind(value);
    }

    /// A parameter placed where the statement's text is (`WHERE id = ` then this).
    pub fn bind<T>(&mut self, value: T)
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        self.params += 1;
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.params.to_string());
            }
        }
        if let Err(e) = self.args.add(value)
            && self.error.is_none()
        {
            self.error = Some(e.to_string());
        }
    }

    fn close_query(&mut self) {
        if self.sql.is_empty() {
            return;
        }
        let sql = std::mem::take(&mut self.sql);
        let args = std::mem::take(&mut self.args);
        self.ready.push((sql, args));
        self.params = 0;
    }

    /// Runs every statement, in order, on the caller's connection (its transaction).
    pub async fn execute(mut self, conn: &mut AnyConnection) -> Result<u64> {
        if let Some(e) = self.error {
            return Err(StoreError::Corrupt(format!("a value could not be bound: {e}")));
        }
        self.close_query();
        let mut affected = 0;
        for (sql, args) in self.ready {
            // Each batch's text differs: kept out of the statement cache, which holds the hot reads.
            let done = sqlx::query_with(sql.as_str(), args)
                .persistent(false)
                .execute(&mut *conn)
                .await?;
            affected += done.rows_affected();
        }
        Ok(affected)
    }

    /// The queries as they will run, for tests.
    #[cfg(test)]
    pub fn queries(&mut self) -> Vec<String> {
        self.close_query();
        self.ready.iter().map(|(sql, _)| sql.clone()).collect()
    }
}

/// Which backend a connection talks to.
pub fn dialect_of(conn: &AnyConnection) -> Dialect {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        Dialect::Postgres
    } else {
        Dialect::Sqlite
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_inserts(dialect: Dialect) -> SqlBatch {
        let mut b = SqlBatch::new(dialect);
        b.statement("INSERT INTO t (a, b) VALUES ", 4);
        for i in 0..2i64 {
            b.row();
            b.value(i);
            b.value(format!("v{i}"));
            b.end_row();
        }
        b.statement("UPDATE u SET x = ", 2);
        b.bind(7i64);
        b.text(" WHERE id = ");
        b.bind(9i64);
        b
    }

    #[test]
    fn sqlite_runs_the_statements_as_one_query_with_ordered_parameters() {
        assert_eq!(
            two_inserts(Dialect::Sqlite).queries(),
            vec!["INSERT INTO t (a, b) VALUES (?, ?), (?, ?);\nUPDATE u SET x = ? WHERE id = ?".to_string()]
        );
    }

    #[test]
    fn postgres_runs_each_statement_with_its_own_numbered_parameters() {
        assert_eq!(
            two_inserts(Dialect::Postgres).queries(),
            vec![
                "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)".to_string(),
                "UPDATE u SET x = $1 WHERE id = $2".to_string(),
            ]
        );
    }

    #[test]
    fn a_sqlite_query_is_closed_before_it_passes_the_parameter_limit() {
        let mut b = SqlBatch::new(Dialect::Sqlite);
        b.statement("INSERT INTO t (a) VALUES ", 20_000);
        b.row();
        b.value(1i64);
        b.end_row();
        b.statement("INSERT INTO t (a) VALUES ", 20_000);
        b.row();
        b.value(2i64);
        b.end_row();
        // The first declared 20,000 parameters but bound one: the count is of bound values.
        assert_eq!(b.queries().len(), 1);
        let mut b = SqlBatch::new(Dialect::Sqlite);
        for _ in 0..2 {
            b.statement("INSERT INTO t (a) VALUES ", 20_000);
            for i in 0..20_000i64 {
                b.row();
                b.value(i);
                b.end_row();
            }
        }
        assert_eq!(b.queries().len(), 2);
    }
}
