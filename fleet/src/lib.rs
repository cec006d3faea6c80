//! Many hosts' `pptctl` snapshots in one database, SQLite (embedded, the
//! default) or PostgreSQL, with history per host and the questions an
//! operator placing pass-through VMs asks of the whole fleet: which hosts
//! can give a guest N passable devices of a kind ([`Fleet::hosts`],
//! [`Fleet::explain`]), what the fleet holds ([`Fleet::devices`]), and how
//! a host changed ([`Fleet::history`], [`diff`]), what each device went
//! through ([`Fleet::device_events`], [`history`]) and whether each host's
//! last reboot did what was predicted ([`Fleet::verify_reboots`]).
//!
//! What it owns: the database and its schema. A database is opened for
//! what the command does ([`Access`], [`Fleet::open_as`]): only ingest
//! (and maintenance) creates or upgrades one; reads are read-only and
//! refuse anything that is not a pptctl fleet database. Both backends
//! implement one SQL interface ([`backend::Backend`], rows read by column
//! name); the schema ([`schema`], versioned migrations, the SQLite header
//! id) and every query ([`query`]) are written once. The facts stored per
//! function come from the libraries through [`derive`](mod@derive), the
//! one place that reads snapshot documents. It never prints, and never
//! reads a file it was not given (an ingest walk skips links unless told).

pub mod backend;
pub mod claims;
pub mod derive;
pub mod diff;
pub mod error;
pub mod fleet;
pub mod history;
pub mod ingest;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod placement;
pub mod query;
pub mod record;
pub mod schema;
pub mod spec;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod time;
pub mod verify;
mod walk;

pub use backend::Access;
pub use claims::{Claim, ClaimError, ClaimRequest};
pub use error::FleetError;
pub use fleet::{Fleet, Reopener};
pub use history::{DeviceEvent, DeviceRef, EventQuery};
pub use ingest::{ingest_file, ingest_paths, FileOutcome, IngestOptions, IngestSummary};
pub use placement::pick::Constraint;
pub use placement::{LeftOut, PlaceAnswer, PlaceQuery, PlacedHost};
pub use query::store::Stored;
pub use query::{
    DeviceSelector, DeviceSummary, Explanation, HistoryEntry, HostMatch, LatestSnapshot,
};
pub use record::{Finding, FunctionRow, SnapshotRecord};
pub use spec::{backends, is_postgres};
pub use verify::{HostCheck, HostVerification};
