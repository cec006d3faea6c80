//! The SQLite backend (embedded, the default): `rusqlite` with the library
//! bundled. The database runs in WAL mode so a reader never blocks the
//! ingest and a process killed mid-transaction leaves the last committed
//! state (SQLite's atomic commit: <https://www.sqlite.org/atomiccommit.html>).

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection, ErrorCode};

use crate::backend::{Backend, Dialect, Value};
use crate::error::FleetError;

/// How long a writer waits for another writer's transaction to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A SQLite fleet database.
pub struct SqliteBackend {
    conn: Connection,
    name: String,
}

impl SqliteBackend {
    /// Opens (creating if absent) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, FleetError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| FleetError::db(&name, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| FleetError::db(&name, e))?;
        // WAL: readers and one writer at once; NORMAL sync is durable
        // against a killed process (only a power loss may drop the last
        // commits, never half of one).
        // A 32 MiB page cache (the default is 2 MiB) keeps the indexes'
        // hot pages in the process across an ingest's transactions instead
        // of re-reading them from the OS; memory stays under 64 MiB.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -32768;",
        )
        .map_err(|e| FleetError::db(&name, e))?;
        Ok(SqliteBackend { conn, name })
    }

    fn err(&self, e: rusqlite::Error) -> FleetError {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == ErrorCode::ConstraintViolation {
                return FleetError::Unique {
                    db: self.name.clone(),
                    message: e.to_string(),
                };
            }
            if f.code == ErrorCode::DatabaseBusy {
                return FleetError::Busy {
                    db: self.name.clone(),
                    message: e.to_string(),
                };
            }
        }
        FleetError::db(&self.name, e)
    }
}

fn to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Int(Some(i)) => SqlValue::Integer(*i),
        Value::Text(Some(t)) => SqlValue::Text(t.clone()),
        Value::Int(None) | Value::Text(None) => SqlValue::Null,
    }
}

fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Int(None),
        ValueRef::Integer(i) => Value::Int(Some(i)),
        // Aggregates of integers may come back as reals; the fleet's
        // queries only ever produce whole numbers.
        ValueRef::Real(r) => Value::Int(Some(r as i64)),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(Some(String::from_utf8_lossy(t).into_owned()))
        }
    }
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn batch(&mut self, sql: &str) -> Result<(), FleetError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, FleetError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let n = stmt
            .execute(params_from_iter(params.iter().map(to_sql)))
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, FleetError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let cols = stmt.column_count();
        let mut rows = stmt
            .query(params_from_iter(params.iter().map(to_sql)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let mut r = Vec::with_capacity(cols);
            for i in 0..cols {
                r.push(from_sql(row.get_ref(i).map_err(|e| self.err(e))?));
            }
            out.push(r);
        }
        Ok(out)
    }
}
