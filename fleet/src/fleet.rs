//! [`Fleet`]: a fleet database on either backend, opened for what the
//! command does ([`Access`]). The operations the `pptctl fleet`
//! subcommands need are SQL over indexes, written in [`crate::query`];
//! nothing loads the fleet into memory.

use crate::backend::{Access, Backend};
use crate::error::FleetError;
use crate::schema;
use crate::spec::is_postgres;

/// What opens a second connection to a database ([`Fleet::reopener`]);
/// it can be sent to another thread, a connection cannot.
#[derive(Debug, Clone)]
pub struct Reopener {
    spec: String,
    version: i64,
    access: Access,
}

impl Reopener {
    /// Opens the connection, with the access of the first.
    pub fn open(&self) -> Result<Fleet, FleetError> {
        match self.access {
            Access::Create => Fleet::open_at_version(&self.spec, self.version),
            a => Fleet::open_as(&self.spec, a),
        }
    }
}

/// A fleet database.
pub struct Fleet {
    pub(crate) db: Box<dyn Backend>,
    pub(crate) version: i64,
    /// What it was opened from, to open a second connection.
    spec: String,
    access: Access,
    /// Whether a batch of writes is open ([`Fleet::begin_batch`]).
    in_batch: bool,
}

/// A PostgreSQL database, in a build with the `postgres` feature.
#[cfg(feature = "postgres")]
fn open_postgres(spec: &str, access: Access) -> Result<Box<dyn Backend>, FleetError> {
    Ok(Box::new(crate::pg::PgBackend::connect(spec, access)?))
}

/// A build without the `postgres` feature cannot open PostgreSQL.
#[cfg(not(feature = "postgres"))]
fn open_postgres(spec: &str, _access: Access) -> Result<Box<dyn Backend>, FleetError> {
    Err(FleetError::NotBuilt {
        db: crate::spec::redact(spec),
        backend: "PostgreSQL",
        feature: "postgres",
    })
}

/// A SQLite file, in a build with the `sqlite` feature; a database being
/// created or upgraded is switched to WAL mode.
#[cfg(feature = "sqlite")]
fn open_sqlite(spec: &str, access: Access) -> Result<Box<dyn Backend>, FleetError> {
    let mut db = crate::sqlite::SqliteBackend::open(std::path::Path::new(spec), access)?;
    if access == Access::Create {
        // Only after the file is known to be empty or a fleet: another
        // application's file keeps its journal mode.
        if let schema::Identity::Foreign(found) = schema::identify(&mut db)? {
            return Err(FleetError::NotFleet {
                db: spec.to_string(),
                found,
            });
        }
        db.use_wal()?;
    }
    Ok(Box::new(db))
}

/// A build without the `sqlite` feature cannot open a SQLite file.
#[cfg(not(feature = "sqlite"))]
fn open_sqlite(spec: &str, _access: Access) -> Result<Box<dyn Backend>, FleetError> {
    Err(FleetError::NotBuilt {
        db: spec.to_string(),
        backend: "SQLite",
        feature: "sqlite",
    })
}

fn connect(spec: &str, access: Access) -> Result<Box<dyn Backend>, FleetError> {
    if is_postgres(spec) {
        open_postgres(spec, access)
    } else {
        open_sqlite(spec, access)
    }
}

impl Fleet {
    /// Opens `spec` (a SQLite file path or a `postgres://` URL) for
    /// `access`. [`Access::Create`] creates the database when absent and
    /// upgrades it to the newest schema; [`Access::Read`] and
    /// [`Access::Write`] need an existing fleet database at that schema
    /// and change no schema. Every access refuses a database that is not a
    /// pptctl fleet ([`FleetError::NotFleet`]); the others refuse a
    /// missing one ([`FleetError::NoDatabase`]).
    pub fn open_as(spec: &str, access: Access) -> Result<Fleet, FleetError> {
        if access == Access::Create {
            return Fleet::open_at_version(spec, schema::LATEST);
        }
        let mut db = connect(spec, access)?;
        let version = schema::check(db.as_mut(), access)?;
        Ok(Fleet {
            db,
            version,
            spec: spec.to_string(),
            access,
            in_batch: false,
        })
    }

    /// Opens `spec` to read: [`Fleet::open_as`] with [`Access::Read`].
    pub fn open_read(spec: &str) -> Result<Fleet, FleetError> {
        Fleet::open_as(spec, Access::Read)
    }

    /// Opens `spec`, creating it when absent and upgrading it to the
    /// newest schema: [`Fleet::open_as`] with [`Access::Create`], for
    /// `fleet ingest` and maintenance.
    pub fn open(spec: &str) -> Result<Fleet, FleetError> {
        Fleet::open_as(spec, Access::Create)
    }

    /// Opens `spec` as [`Fleet::open`] does but upgrades it only up to
    /// `version` (tests make old databases with this).
    pub fn open_at_version(spec: &str, version: i64) -> Result<Fleet, FleetError> {
        let mut db = connect(spec, Access::Create)?;
        let version = schema::create(db.as_mut(), version)?;
        Ok(Fleet {
            db,
            version,
            spec: spec.to_string(),
            access: Access::Create,
            in_batch: false,
        })
    }

    /// How to open another connection to the same database, on another
    /// thread (an in-memory SQLite database gets a new, empty one).
    pub fn reopener(&self) -> Reopener {
        Reopener {
            spec: self.spec.clone(),
            version: self.version,
            access: self.access,
        }
    }

    /// The schema version the database is at.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The database as named for messages.
    pub fn name(&self) -> &str {
        self.db.name()
    }

    /// The connection, for the claim and placement modules.
    pub(crate) fn backend(&mut self) -> &mut dyn Backend {
        self.db.as_mut()
    }

    /// Runs `f` in one write transaction: commit on `Ok`, roll back on
    /// `Err`. Inside a batch ([`Fleet::begin_batch`]) it is a savepoint of
    /// the batch's transaction instead: released on `Ok`, rolled back to on
    /// `Err`, so each write is still whole or absent.
    pub(crate) fn write<T, E: From<FleetError>>(
        &mut self,
        f: impl FnOnce(&mut dyn Backend) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.in_batch {
            self.db.batch("SAVEPOINT one_write")?;
            return match f(self.db.as_mut()) {
                Ok(v) => {
                    self.db.batch("RELEASE SAVEPOINT one_write")?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = self.db.batch("ROLLBACK TO SAVEPOINT one_write");
                    let _ = self.db.batch("RELEASE SAVEPOINT one_write");
                    Err(e)
                }
            };
        }
        let begin = self.db.dialect().begin_write();
        self.db.batch(begin)?;
        match f(self.db.as_mut()) {
            Ok(v) => {
                self.db.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.db.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Opens one transaction for the writes that follow, until
    /// [`Fleet::commit_batch`]: the pages every snapshot touches (the
    /// placement indexes, keyed by IDs, are spread over the whole file) are
    /// then written once per batch instead of once per snapshot.
    pub(crate) fn begin_batch(&mut self) -> Result<(), FleetError> {
        let begin = self.db.dialect().begin_write();
        self.db.batch(begin)?;
        self.in_batch = true;
        Ok(())
    }

    /// Commits the open batch (nothing when none is open); on failure it
    /// is rolled back whole.
    pub(crate) fn commit_batch(&mut self) -> Result<(), FleetError> {
        if !std::mem::replace(&mut self.in_batch, false) {
            return Ok(());
        }
        self.db.batch("COMMIT").inspect_err(|_| {
            let _ = self.db.batch("ROLLBACK");
        })
    }

    /// Refreshes the query planner's statistics (after an ingest).
    pub fn analyze(&mut self) -> Result<(), FleetError> {
        let sql = self.db.dialect().analyze();
        self.db.batch(sql)
    }
}
