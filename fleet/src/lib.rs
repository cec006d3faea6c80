//! Many hosts' `pptctl` snapshots in one database, SQLite (embedded, the
//! default) or PostgreSQL, with history per host and the questions an
//! operator placing pass-through VMs asks of the whole fleet: which hosts
//! can give a guest N passable devices of a kind ([`Fleet::hosts`],
//! [`Fleet::explain`]), what the fleet holds ([`Fleet::devices`]), and how
//! a host changed ([`Fleet::history`], [`diff`]).
//!
//! Both backends implement one SQL interface ([`backend::Backend`]); the
//! schema ([`schema`], versioned migrations) and every query are written
//! once. The facts stored per function come from the libraries through
//! [`derive`](mod@derive), the one place that reads snapshot documents.

pub mod backend;
pub mod claims;
pub mod derive;
pub mod diff;
pub mod error;
pub mod fleet;
pub mod ingest;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod placement;
pub mod query;
pub mod record;
pub mod schema;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod time;

pub use claims::{Claim, ClaimError, ClaimRequest};
pub use error::FleetError;
pub use fleet::{backends, is_postgres, Fleet, Reopener, Stored};
pub use ingest::{ingest_file, ingest_paths, FileOutcome, IngestSummary};
pub use placement::pick::Constraint;
pub use placement::{LeftOut, PlaceAnswer, PlaceQuery, PlacedHost};
pub use query::{
    DeviceSelector, DeviceSummary, Explanation, HistoryEntry, HostMatch, LatestSnapshot,
};
pub use record::{FunctionRow, SnapshotRecord};
