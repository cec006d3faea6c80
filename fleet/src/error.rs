//! The fleet's typed errors.

use std::path::PathBuf;

/// Why a fleet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The database could not be opened, queried or written.
    #[error("database {db}: {message}")]
    Db {
        /// The database as the user named it (path or URL without password).
        db: String,
        /// The driver's reason.
        message: String,
    },
    /// The database was made by a newer pptctl.
    #[error("database {db} has schema version {found}; this pptctl knows versions up to {known}: upgrade pptctl")]
    TooNew {
        /// The database.
        db: String,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A snapshot file was refused; nothing of it was stored.
    #[error("{file}: {message}")]
    BadSnapshot {
        /// The file as named on the command line (or found in a directory).
        file: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A placement selector that is not lspci `-d` grammar.
    #[error("--can-pass {text}: {message}")]
    Selector {
        /// The selector text.
        text: String,
        /// lspci's message.
        message: String,
    },
    /// A unique constraint refused a row (a concurrent writer stored the
    /// same snapshot first).
    #[error("database {db}: {message}")]
    Unique {
        /// The database.
        db: String,
        /// The driver's reason.
        message: String,
    },
    /// The database is of a kind this build leaves out (a cargo feature
    /// of the `fleet` crate, and of `pptctl`, that was not enabled).
    #[error("database {db}: this pptctl was built without {backend} support (cargo feature `{feature}`)")]
    NotBuilt {
        /// The database as the user named it (password hidden).
        db: String,
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
    /// The database stayed locked by other writers for the whole busy
    /// timeout (SQLite `SQLITE_BUSY`); the operation changed nothing and
    /// may be tried again.
    #[error("database {db}: {message}")]
    Busy {
        /// The database.
        db: String,
        /// The driver's reason.
        message: String,
    },
    /// A read found no fleet database: the file does not exist, or the
    /// PostgreSQL database has no tables.
    #[error("no fleet database at {db}: `pptctl fleet ingest` creates it")]
    NoDatabase {
        /// The database as the user named it (password hidden).
        db: String,
    },
    /// The file or database holds something other than a pptctl fleet.
    #[error("{db} is not a pptctl fleet database: {found}; refusing to read or change it")]
    NotFleet {
        /// The database as the user named it (password hidden).
        db: String,
        /// What it holds instead (another application's id, its tables,
        /// or "not a SQLite database").
        found: String,
    },
    /// A read of a fleet database made by an older pptctl: reads never
    /// upgrade (only ingest does).
    #[error("database {db} has schema version {found}, this pptctl reads version {latest}: `pptctl fleet ingest` upgrades it")]
    TooOld {
        /// The database.
        db: String,
        /// Its schema version.
        found: i64,
        /// The version this build reads.
        latest: i64,
    },
    /// A query's row lacks a column its reader expects (a bug).
    #[error("a fleet query's column `{column}` {problem}")]
    Column {
        /// The column name.
        column: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An ingest stopped on a database error after storing some files.
    #[error("{source}; {stored} snapshot{s} stored before it (each whole), the files after it were not stored", s = if *stored == 1 { " was" } else { "s were" })]
    Stopped {
        /// Snapshots stored (committed) before the error.
        stored: usize,
        /// The database error.
        #[source]
        source: Box<FleetError>,
    },
    /// A host the database does not hold.
    #[error("no host named `{0}` in the fleet database")]
    NoHost(String),
    /// A `--device` that is neither `HOST:ADDRESS` nor `HOST:/devfs/path`.
    #[error("--device {text}: {message}")]
    DeviceRef {
        /// What was given.
        text: String,
        /// What is wrong with it.
        message: String,
    },
}

impl FleetError {
    /// A database error from a driver message.
    pub(crate) fn db(db: &str, e: impl std::fmt::Display) -> Self {
        FleetError::Db {
            db: db.to_string(),
            message: e.to_string(),
        }
    }
}
