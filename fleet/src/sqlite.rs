//! The SQLite backend (embedded, the default): `rusqlite` with the library
//! bundled. A fleet database runs in WAL mode so a reader never blocks the
//! ingest and a process killed mid-transaction leaves the last committed
//! state (SQLite's atomic commit: <https://www.sqlite.org/atomiccommit.html>).
//! How a file is opened follows [`Access`]: only [`Access::Create`] may
//! create the file or switch its journal mode; a read opens it with
//! `SQLITE_OPEN_READ_ONLY` and `PRAGMA query_only`.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection, ErrorCode, OpenFlags};

use crate::backend::{Access, Backend, Dialect, Rows, Value};
use crate::error::FleetError;

/// How long a writer waits for another writer's transaction to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A SQLite fleet database.
pub struct SqliteBackend {
    conn: Connection,
    name: String,
}

/// `path` as a SQLite URI (`file:` with `%`, `?` and `#` escaped) with
/// `query` appended.
fn uri(path: &Path, query: &str) -> String {
    let mut s = String::from("file:");
    for c in path.display().to_string().chars() {
        match c {
            '%' => s.push_str("%25"),
            '?' => s.push_str("%3f"),
            '#' => s.push_str("%23"),
            c => s.push(c),
        }
    }
    format!("{s}?{query}")
}

impl SqliteBackend {
    /// Opens the database file at `path` for `access`: [`Access::Create`]
    /// creates it if absent; the others refuse a missing file
    /// ([`FleetError::NoDatabase`]) and never change the file's mode.
    pub fn open(path: &Path, access: Access) -> Result<Self, FleetError> {
        let name = path.display().to_string();
        if access != Access::Create && std::fs::symlink_metadata(path).is_err() {
            return Err(FleetError::NoDatabase { db: name });
        }
        let conn = match access {
            Access::Create => Connection::open(path),
            Access::Write => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            Access::Read => Self::open_read(path),
        }
        .map_err(|e| FleetError::db(&name, e))?;
        let mut db = SqliteBackend { conn, name };
        db.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| FleetError::db(&db.name, e))?;
        // A 32 MiB page cache (the default is 2 MiB) keeps the indexes'
        // hot pages in the process across an ingest's transactions instead
        // of re-reading them from the OS; memory stays under 64 MiB.
        db.batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;")?;
        if access == Access::Read {
            db.batch("PRAGMA query_only = ON")?;
        }
        Ok(db)
    }

    /// A read-only connection. A WAL database needs its `-shm` index,
    /// which SQLite cannot create beside a file in a read-only directory:
    /// such a file, with no `-wal` left either, has no writer, so it is
    /// then read as immutable (<https://www.sqlite.org/wal.html#readonly>).
    fn open_read(path: &Path) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(uri(path, "mode=ro"), flags)?;
        match conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(())) {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, ErrorCode::CannotOpen | ErrorCode::ReadOnly) =>
            {
                let wal = format!("{}-wal", path.display());
                if std::fs::symlink_metadata(wal).is_ok() {
                    return Ok(conn);
                }
                drop(conn);
                Connection::open_with_flags(uri(path, "mode=ro&immutable=1"), flags)
            }
            _ => Ok(conn),
        }
    }

    /// Switches a database being created or upgraded to WAL mode. NORMAL
    /// sync is durable against a killed process (only a power loss may
    /// drop the last commits, never half of one).
    pub fn use_wal(&mut self) -> Result<(), FleetError> {
        self.batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
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
            if f.code == ErrorCode::NotADatabase {
                return FleetError::NotFleet {
                    db: self.name.clone(),
                    found: "not a SQLite database (SQLite: file is not a database)".to_string(),
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

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, FleetError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let cols = stmt.column_count();
        let names = stmt
            .column_names()
            .into_iter()
            .map(str::to_string)
            .collect();
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
        Ok(Rows::new(names, out))
    }
}
