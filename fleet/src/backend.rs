//! The one storage interface: a SQL connection that both backends
//! implement, so every query and migration is written once ([`crate::query`],
//! [`crate::schema`]). SQL text uses `?` placeholders; the PostgreSQL
//! backend numbers them (`$1`, `$2`, ...). Query results are [`Rows`],
//! read by column name ([`Row::int`], [`Row::text`], ...), never by
//! position: every selected expression carries a name (`AS passable`).

use crate::error::FleetError;

/// A typed SQL value. Integers are 64-bit in both databases (`INTEGER` in
/// SQLite, `BIGINT` in PostgreSQL); `None` is SQL `NULL` of that type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An integer or an integer `NULL`.
    Int(Option<i64>),
    /// Text or a text `NULL`.
    Text(Option<String>),
}

impl Value {
    /// The integer, if this is a non-null integer.
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => *v,
            Value::Text(_) => None,
        }
    }

    /// The text, if this is non-null text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(v) => v.as_deref(),
            Value::Int(_) => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
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

/// What a command does with the database, which decides how it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only: an existing fleet database at the schema this build
    /// reads, opened read-only (SQLite `SQLITE_OPEN_READ_ONLY` and
    /// `query_only`, no journal-mode switch; PostgreSQL read-only
    /// transactions); nothing is created, upgraded or written.
    Read,
    /// Reads and writes rows of an existing fleet database at the schema
    /// this build writes; creates and upgrades nothing.
    Write,
    /// Creates the database when absent and upgrades its schema:
    /// `fleet ingest` and explicit maintenance only.
    Create,
}

/// A query's result: its column names and rows of values.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    columns: Vec<String>,
    data: Vec<Vec<Value>>,
}

impl Rows {
    /// Rows with these column names (each row has one value per column).
    pub fn new(columns: Vec<String>, data: Vec<Vec<Value>>) -> Self {
        Rows { columns, data }
    }

    /// The rows, in the query's order.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.data.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// One row of [`Rows`], read by column name.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    /// The value of `column`; a column the query does not have is an error
    /// (a query and its reader out of step), never a silent default.
    pub fn get(&self, column: &str) -> Result<&Value, FleetError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| FleetError::Column {
                column: column.to_string(),
                problem: "is not in the query's result",
            })
    }

    /// Whether the query's result has `column` (a column a migration
    /// added, read from a database that may predate it).
    pub fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c == column)
    }

    /// A nullable integer column.
    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, FleetError> {
        Ok(self.get(column)?.int())
    }

    /// A non-null integer column.
    pub fn int(&self, column: &str) -> Result<i64, FleetError> {
        self.opt_int(column)?.ok_or_else(|| FleetError::Column {
            column: column.to_string(),
            problem: "is NULL or not an integer",
        })
    }

    /// A nullable 0/1 column as a boolean.
    pub fn opt_flag(&self, column: &str) -> Result<Option<bool>, FleetError> {
        Ok(self.opt_int(column)?.map(|v| v != 0))
    }

    /// A non-null 0/1 column as a boolean.
    pub fn flag(&self, column: &str) -> Result<bool, FleetError> {
        Ok(self.int(column)? != 0)
    }

    /// A nullable text column.
    pub fn opt_text(&self, column: &str) -> Result<Option<String>, FleetError> {
        Ok(self.get(column)?.text().map(str::to_string))
    }

    /// A non-null text column.
    pub fn text(&self, column: &str) -> Result<String, FleetError> {
        self.opt_text(column)?.ok_or_else(|| FleetError::Column {
            column: column.to_string(),
            problem: "is NULL or not text",
        })
    }
}

/// The few places where the two SQL dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.35 or later (bundled).
    Sqlite,
    /// PostgreSQL 12 or later.
    Postgres,
}

impl Dialect {
    /// An auto-numbered primary key column type.
    pub fn id_column(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY",
            Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        }
    }

    /// The 64-bit integer column type.
    pub fn int(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER",
            Dialect::Postgres => "BIGINT",
        }
    }

    /// Comma-joining aggregate of text, `group_concat` / `string_agg`.
    pub fn concat_agg(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({expr}, ',')"),
            Dialect::Postgres => format!("string_agg({expr}, ',')"),
        }
    }

    /// Comma-joining aggregate of the distinct values of `expr`.
    pub fn concat_distinct(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat(DISTINCT {expr})"),
            Dialect::Postgres => format!("string_agg(DISTINCT {expr}, ',')"),
        }
    }

    /// Starts a write transaction that serialises against other writers
    /// early: SQLite takes the write lock at `BEGIN IMMEDIATE` (so two
    /// ingests never deadlock upgrading read locks); PostgreSQL row locks
    /// do the rest.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Refreshes the planner's statistics, so placement starts from the
    /// hosts and seeks each latest snapshot by IDs (docs/fleet.md). SQLite
    /// samples a bounded number of rows per index, so the cost does not
    /// grow with the fleet.
    pub fn analyze(self) -> &'static str {
        match self {
            Dialect::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE",
            // VACUUM also sets the visibility map that index-only scans need.
            Dialect::Postgres => "VACUUM (ANALYZE)",
        }
    }

    /// Suffix that locks the selected rows until commit (none in SQLite,
    /// whose write transaction already excludes other writers).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// A connection to a fleet database.
pub trait Backend {
    /// Which dialect the SQL must be written in.
    fn dialect(&self) -> Dialect;
    /// The database as the user named it, for messages (no password).
    fn name(&self) -> &str;
    /// Runs statements without parameters (DDL, `BEGIN`, `COMMIT`).
    fn batch(&mut self, sql: &str) -> Result<(), FleetError>;
    /// Runs one statement; returns the number of rows changed.
    /// Unique-constraint violations are [`FleetError::Unique`].
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, FleetError>;
    /// Runs one query; returns its rows, named by column.
    /// Unique-constraint violations are [`FleetError::Unique`].
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, FleetError>;
}
