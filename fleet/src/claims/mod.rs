//! Claims: a holder takes N whole devices of one host for a while, and no
//! other claim can take them until it is released or expires.
//!
//! How two claimers are kept apart (docs/fleet.md, "Claims"):
//!
//! * Every claim runs in one write transaction. On SQLite that is `BEGIN
//!   IMMEDIATE`: the write lock is taken before the free devices are read,
//!   so claims are serialised. On PostgreSQL the claimer locks the chosen
//!   host's row (`SELECT … FOR UPDATE SKIP LOCKED`: a host another claimer
//!   holds is skipped, not waited for) and reads the free devices after it
//!   holds the lock.
//! * The primary key of `claim_devices` (host, device) is the final guard
//!   on both backends: a second live row for a device cannot be written.
//! * A host's generation is the id of its latest snapshot (ids only grow,
//!   so it changes exactly when a newer snapshot becomes the latest). A
//!   claim made against an older generation is checked against the newer
//!   snapshot and refused when that snapshot shows a device gone or used.
//!
//! Times come from the database's clock, so claimers whose clocks differ
//! agree on expiry; a claimer whose clock is off by more than
//! [`MAX_SKEW`] is refused rather than trusted with an absolute `--ttl`.

mod take;

use serde::Serialize;

use crate::backend::{Backend, Row, Value};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::time::{format_rfc3339, parse_rfc3339};

pub use take::ClaimRequest;

/// Longest holder name accepted, in bytes.
pub const MAX_HOLDER: usize = 255;

/// The largest difference between the claimer's clock and the database's
/// (or a snapshot's time ahead of the database's) that is accepted, seconds.
pub const MAX_SKEW: i64 = 300;

/// Why a claim, release or time argument was refused. Every refusal
/// leaves the database unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The database failed.
    #[error(transparent)]
    Fleet(#[from] FleetError),
    /// A holder that is empty, too long or has control characters.
    #[error("holder {0:?} is empty, longer than 255 bytes or has control characters")]
    BadHolder(String),
    /// A duration or time that cannot be read.
    #[error(
        "{what} `{text}`: not a duration ({}) or an RFC 3339 time",
        crate::time::DURATION_GRAMMAR
    )]
    BadTime {
        /// Which option.
        what: &'static str,
        /// What was given.
        text: String,
    },
    /// An expiry that is not in the future.
    #[error("--ttl {text}: the claim would expire at {at}, not after now ({now}, database clock)")]
    TtlPast {
        /// What was given.
        text: String,
        /// When it would expire.
        at: String,
        /// The database's time.
        now: String,
    },
    /// The claimer's clock and the database's disagree.
    #[error("clock skew: this machine says {local}, the database says {db} ({diff} s apart, more than {MAX_SKEW} s): fix the clock")]
    ClockSkew {
        /// This machine's time.
        local: String,
        /// The database's time.
        db: String,
        /// Difference in seconds.
        diff: i64,
    },
    /// A host's snapshot is dated after the database's clock.
    #[error("host {host}: its latest snapshot is dated {taken}, after the database's clock ({now}): clock skew on the host; take a new snapshot once its clock is right")]
    SnapshotFromFuture {
        /// Host name.
        host: String,
        /// Snapshot time.
        taken: String,
        /// Database time.
        now: String,
    },
    /// `--host` names a host the database does not hold.
    #[error("no host named `{0}` in the fleet database (it vanished or was never ingested)")]
    NoHost(String),
    /// No host (or not the named one) can give the devices now.
    #[error("no host can give {count} free device(s) matching {selector}{constraint} now{host}")]
    NoCapacity {
        /// Devices wanted.
        count: i64,
        /// The selector.
        selector: String,
        /// The topology constraint, ` with …` or empty.
        constraint: String,
        /// ` (host …)` when one was named.
        host: String,
    },
    /// The claim was made against an older snapshot of the host and a newer
    /// one shows a device gone or used.
    #[error("host {host} changed since generation {asked} (now {now}): {detail}; nothing was claimed, ask again")]
    Stale {
        /// Host name.
        host: String,
        /// Generation the claim was made against.
        asked: i64,
        /// The host's generation now.
        now: i64,
        /// Which devices are gone or used.
        detail: String,
    },
    /// No claim has this id.
    #[error("no claim {0}")]
    NoClaim(i64),
    /// The claim belongs to another holder.
    #[error("claim {id} is held by {holder:?}, not {asked:?}: refusing to release another holder's claim")]
    NotYours {
        /// Claim id.
        id: i64,
        /// Its holder.
        holder: String,
        /// Who asked.
        asked: String,
    },
    /// The claim is no longer live.
    #[error("claim {id} is already {state} ({at})")]
    NotLive {
        /// Claim id.
        id: i64,
        /// `released` or `expired`.
        state: &'static str,
        /// When.
        at: String,
    },
    /// Concurrent claimers kept winning the same devices.
    #[error("the claim lost to concurrent claimers {0} times; try again")]
    Contended(u32),
}

impl ClaimError {
    /// Whether the caller's input is at fault (a usage error) rather than
    /// the fleet's state.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            ClaimError::BadHolder(_) | ClaimError::BadTime { .. } | ClaimError::TtlPast { .. }
        ) || matches!(self, ClaimError::Fleet(FleetError::Selector { .. }))
    }
}

/// Refuses a holder that cannot be shown safely on a terminal or in a
/// table: empty, longer than [`MAX_HOLDER`] bytes, or with control
/// characters (escape sequences, newlines, NUL).
pub fn check_holder(holder: &str) -> Result<(), ClaimError> {
    if holder.is_empty() || holder.len() > MAX_HOLDER || holder.chars().any(char::is_control) {
        return Err(ClaimError::BadHolder(holder.to_string()));
    }
    Ok(())
}

/// When a claim given `--ttl text` at database time `now` expires: a
/// duration from now, or an absolute RFC 3339 time that must be after now.
pub fn expiry(text: &str, now: i64) -> Result<i64, ClaimError> {
    let at = match crate::time::parse_duration(text) {
        Some(d) => now.saturating_add(d),
        None => parse_rfc3339(text).ok_or_else(|| ClaimError::BadTime {
            what: "--ttl",
            text: text.to_string(),
        })?,
    };
    if at <= now {
        return Err(ClaimError::TtlPast {
            text: text.to_string(),
            at: format_rfc3339(at),
            now: format_rfc3339(now),
        });
    }
    Ok(at)
}

/// The database's clock, Unix seconds.
pub(crate) fn db_now(db: &mut dyn Backend) -> Result<i64, FleetError> {
    let sql = match db.dialect() {
        crate::backend::Dialect::Sqlite => "SELECT CAST(strftime('%s', 'now') AS INTEGER)",
        crate::backend::Dialect::Postgres => {
            "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)"
        }
    };
    let sql = format!("{sql} AS now");
    let rows = db.query(&sql, &[])?;
    match rows.first() {
        Some(r) => r.int("now"),
        None => Err(FleetError::db(db.name(), "the database gave no time")),
    }
}

/// One claim, as `fleet claims` and `fleet claim --json` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    /// Claim id (what `fleet release` takes).
    pub id: i64,
    /// Who holds it.
    pub holder: String,
    /// The host.
    pub host: String,
    /// The host's generation (latest snapshot id) it was made against.
    pub generation: i64,
    /// The selector asked.
    pub selector: String,
    /// The devices (`DDDD:BB:DD`; all functions of each).
    pub devices: Vec<String>,
    /// When made (RFC 3339, database clock).
    pub created: String,
    /// When it expires (`None`: when released).
    pub expires: Option<String>,
    /// `live`, `expired` or `released`.
    pub state: &'static str,
}

/// Columns of [`claim_of`], from `claims c JOIN hosts h`.
const CLAIM_COLUMNS: &str = "c.id AS id, c.holder AS holder, h.name AS host, \
     c.snapshot_id AS generation, c.selector AS selector, c.devices AS devices, \
     c.created_at AS created_at, c.expires_at AS expires_at, c.released_at AS released_at";

fn claim_of(r: Row<'_>, now: i64) -> Result<Claim, FleetError> {
    let expires = r.opt_int("expires_at")?;
    let state = if r.opt_int("released_at")?.is_some() {
        "released"
    } else if expires.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "live"
    };
    Ok(Claim {
        id: r.int("id")?,
        holder: r.text("holder")?,
        host: r.text("host")?,
        generation: r.int("generation")?,
        selector: r.text("selector")?,
        devices: r
            .text("devices")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        created: format_rfc3339(r.int("created_at")?),
        expires: expires.map(format_rfc3339),
        state,
    })
}

impl Fleet {
    /// Claims not released, oldest first (expired ones too when `all`,
    /// and released ones), optionally of one holder.
    pub fn claims(&mut self, holder: Option<&str>, all: bool) -> Result<Vec<Claim>, ClaimError> {
        let db = self.backend();
        let now = db_now(db)?;
        let mut sql = format!(
            "SELECT {CLAIM_COLUMNS} FROM claims c JOIN hosts h ON h.id = c.host_id WHERE 1 = 1"
        );
        let mut params: Vec<Value> = Vec::new();
        if !all {
            sql.push_str(
                " AND c.released_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > ?)",
            );
            params.push(now.into());
        }
        if let Some(h) = holder {
            sql.push_str(" AND c.holder = ?");
            params.push(h.into());
        }
        sql.push_str(" ORDER BY c.id");
        Ok(db
            .query(&sql, &params)?
            .iter()
            .map(|r| claim_of(r, now))
            .collect::<Result<_, _>>()?)
    }

    /// Releases claim `id`; when `holder` is given it must be the claim's.
    pub fn release(&mut self, id: i64, holder: Option<&str>) -> Result<Claim, ClaimError> {
        if let Some(h) = holder {
            check_holder(h)?;
        }
        self.write(|db| {
            let now = db_now(db)?;
            let rows = db.query(
                &format!("SELECT {CLAIM_COLUMNS} FROM claims c JOIN hosts h ON h.id = c.host_id WHERE c.id = ?"),
                &[id.into()],
            )?;
            let claim = match rows.first() {
                Some(r) => claim_of(r, now)?,
                None => return Err(ClaimError::NoClaim(id)),
            };
            if let Some(h) = holder.filter(|h| *h != claim.holder) {
                return Err(ClaimError::NotYours {
                    id,
                    holder: claim.holder,
                    asked: h.to_string(),
                });
            }
            if claim.state != "live" {
                let released = match rows.first() {
                    Some(r) => r.opt_int("released_at")?,
                    None => None,
                };
                let at = released.map_or_else(
                    || claim.expires.clone().unwrap_or_default(),
                    format_rfc3339,
                );
                return Err(ClaimError::NotLive { id, state: claim.state, at });
            }
            end_claim(db, id, now)?;
            Ok(Claim { state: "released", ..claim })
        })
    }

    /// Releases every live claim of `holder`; returns them (empty: none).
    pub fn release_all(&mut self, holder: &str) -> Result<Vec<Claim>, ClaimError> {
        check_holder(holder)?;
        let live = self.claims(Some(holder), false)?;
        self.write(|db| {
            let now = db_now(db)?;
            let mut out = Vec::new();
            for c in live {
                // Re-checked inside the transaction: it may have been released since.
                if end_claim(db, c.id, now)? {
                    out.push(Claim {
                        state: "released",
                        ..c
                    });
                }
            }
            Ok(out)
        })
    }

    /// The (host, device) pairs that two live claims both hold, read back
    /// from the claims themselves (not from the guard table); empty when
    /// nothing is double-booked. The check the concurrency test and
    /// benchmark run afterwards.
    pub fn double_booked(&mut self) -> Result<Vec<(String, String)>, ClaimError> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for c in self.claims(None, false)? {
            for d in c.devices {
                if !seen.insert((c.host.clone(), d.clone())) {
                    out.push((c.host.clone(), d));
                }
            }
        }
        Ok(out)
    }
}

/// Marks claim `id` released at `now` and frees its devices; whether it
/// was live.
fn end_claim(db: &mut dyn Backend, id: i64, now: i64) -> Result<bool, FleetError> {
    let n = db.execute(
        "UPDATE claims SET released_at = ? WHERE id = ? AND released_at IS NULL",
        &[now.into(), id.into()],
    )?;
    if n == 1 {
        crate::history::claim_event(db, id, "released", now)?;
    }
    db.execute("DELETE FROM claim_devices WHERE claim_id = ?", &[id.into()])?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_expiry() {
        assert_eq!(expiry("1h", 1000).unwrap(), 4600);
        assert!(matches!(
            expiry("0s", 1000),
            Err(ClaimError::TtlPast { .. })
        ));
        assert!(matches!(
            expiry("1970-01-01T00:00:00Z", 1000),
            Err(ClaimError::TtlPast { .. })
        ));
        assert!(matches!(
            expiry("soon", 1000),
            Err(ClaimError::BadTime { .. })
        ));
    }

    #[test]
    fn holders_with_control_bytes_are_refused() {
        assert!(check_holder("vm-42@ops").is_ok());
        for bad in ["", "a\nb", "x\u{1b}[31m", "nul\0", &"h".repeat(256)] {
            assert!(check_holder(bad).is_err(), "{bad:?}");
        }
    }
}
