//! The PostgreSQL backend (`--db postgres://…`): the synchronous
//! `postgres` crate. Prepared statements are cached per SQL text; `?`
//! placeholders are numbered `$1…` here so the SQL is written once.

use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use crate::backend::{Access, Backend, Dialect, Rows, Value};
use crate::error::FleetError;

/// A PostgreSQL fleet database.
pub struct PgBackend {
    client: Client,
    name: String,
    cache: HashMap<String, Statement>,
}

/// Numbers `?` placeholders as `$1`, `$2`, ... (the fleet's SQL has no `?`
/// inside string literals).
fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

impl PgBackend {
    /// Connects to `url` (`postgres://user@host/db`, or a libpq-style
    /// `host=/var/run/postgresql dbname=fleet` string). No TLS: use a local
    /// socket or a trusted network. With [`Access::Read`] every
    /// transaction of the session is read-only
    /// (`default_transaction_read_only`): the server refuses any write.
    pub fn connect(url: &str, access: Access) -> Result<Self, FleetError> {
        let name = crate::spec::redact(url);
        let mut client = Client::connect(url, NoTls).map_err(|e| FleetError::db(&name, e))?;
        // Notices (e.g. "relation already exists, skipping") are not for users.
        // `synchronous_commit = off`: a commit returns before its WAL reaches
        // the disk, so the ingest does not wait for one flush per snapshot.
        // A server crash may lose the last few commits, never part of one
        // and never a later one without an earlier (PostgreSQL manual,
        // "Asynchronous Commit"); the same guarantee as SQLite's
        // `synchronous = NORMAL` in WAL mode. A lost snapshot is stored
        // again by the next ingest of its file (content hash).
        client
            .batch_execute("SET client_min_messages = WARNING; SET synchronous_commit = off")
            .map_err(|e| FleetError::db(&name, e))?;
        if access == Access::Read {
            client
                .batch_execute("SET default_transaction_read_only = on")
                .map_err(|e| FleetError::db(&name, e))?;
        }
        Ok(PgBackend {
            client,
            name,
            cache: HashMap::new(),
        })
    }

    fn err(&self, e: postgres::Error) -> FleetError {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return FleetError::Unique {
                db: self.name.clone(),
                message: e.to_string(),
            };
        }
        let message = match e.as_db_error() {
            Some(d) => format!("{}: {}", d.severity(), d.message()),
            None => e.to_string(),
        };
        FleetError::db(&self.name, message)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, FleetError> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = self
            .client
            .prepare(&number_placeholders(sql))
            .map_err(|e| self.err(e))?;
        self.cache.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| match v {
            Value::Int(i) => i as &(dyn ToSql + Sync),
            Value::Text(t) => t as &(dyn ToSql + Sync),
        })
        .collect()
}

impl Backend for PgBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn batch(&mut self, sql: &str) -> Result<(), FleetError> {
        self.client.batch_execute(sql).map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, FleetError> {
        let stmt = self.statement(sql)?;
        self.client
            .execute(&stmt, &params(values))
            .map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Rows, FleetError> {
        let stmt = self.statement(sql)?;
        let names = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let rows = self
            .client
            .query(&stmt, &params(values))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut r = Vec::with_capacity(row.len());
            for (i, col) in row.columns().iter().enumerate() {
                let t = col.type_();
                let v = if *t == Type::INT8 {
                    Value::Int(row.try_get::<_, Option<i64>>(i).map_err(|e| self.err(e))?)
                } else if *t == Type::INT4 {
                    Value::Int(
                        row.try_get::<_, Option<i32>>(i)
                            .map_err(|e| self.err(e))?
                            .map(i64::from),
                    )
                } else if *t == Type::TEXT || *t == Type::VARCHAR {
                    Value::Text(
                        row.try_get::<_, Option<String>>(i)
                            .map_err(|e| self.err(e))?,
                    )
                } else {
                    return Err(FleetError::db(
                        &self.name,
                        format!("column {} has unexpected type {t}", col.name()),
                    ));
                };
                r.push(v);
            }
            out.push(r);
        }
        Ok(Rows::new(names, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(
            number_placeholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
    }
}
