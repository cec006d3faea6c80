//! Making a claim: one transaction that finds a host with enough free
//! devices, locks it, picks the devices (whole devices, greedily, under the
//! topology constraint) and writes the claim and its device rows.

use crate::backend::{Backend, Dialect, Row, Value};
use crate::claims::{check_holder, db_now, expiry, Claim, ClaimError, MAX_SKEW};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::placement::free::{free_hosts, Ask};
use crate::placement::pick::{pick, Candidate, Constraint};
use crate::query::DeviceSelector;
use crate::time::format_rfc3339;

/// How often a claim is retried after the unique guard refused its
/// devices (a concurrent claimer took them first) or other writers kept
/// the SQLite database locked for a whole busy timeout (its lock is not
/// fair: a writer that commits and begins again at once can keep others
/// waiting).
const ATTEMPTS: u32 = 8;

/// What a claimer asks for.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    /// Devices wanted.
    pub selector: &'a DeviceSelector,
    /// How many whole devices.
    pub count: i64,
    /// Who holds the claim.
    pub holder: &'a str,
    /// `--ttl`: a duration or an RFC 3339 time; `None`: until released.
    pub ttl: Option<&'a str>,
    /// Only this host.
    pub host: Option<&'a str>,
    /// The host's generation the caller saw (`fleet hosts --json`); with
    /// `host`.
    pub generation: Option<i64>,
    /// Where the devices must sit.
    pub constraint: Constraint,
    /// The claimer's clock (Unix seconds), compared with the database's.
    pub client_time: i64,
}

/// A host that may have enough free devices.
struct HostCand {
    id: i64,
    name: String,
    taken_at: i64,
}

impl Fleet {
    /// Claims `req.count` whole devices on one host for `req.holder`.
    /// Refusals ([`ClaimError`]) leave the database unchanged.
    pub fn claim(&mut self, req: &ClaimRequest<'_>) -> Result<Claim, ClaimError> {
        check_holder(req.holder)?;
        if req.generation.is_some() && req.host.is_none() {
            return Err(ClaimError::Fleet(FleetError::Selector {
                text: req.selector.text().to_string(),
                message: "--generation needs --host".to_string(),
            }));
        }
        let counts_kept = self.version() >= 6;
        for _ in 0..ATTEMPTS {
            match self.write(|db| claim_once(db, req, counts_kept)) {
                Err(ClaimError::Fleet(FleetError::Unique { .. } | FleetError::Busy { .. })) => {
                    continue
                }
                other => return other,
            }
        }
        Err(ClaimError::Contended(ATTEMPTS))
    }
}

fn claim_once(
    db: &mut dyn Backend,
    req: &ClaimRequest<'_>,
    counts_kept: bool,
) -> Result<Claim, ClaimError> {
    let now = db_now(db)?;
    let diff = (req.client_time - now).abs();
    if diff > MAX_SKEW {
        return Err(ClaimError::ClockSkew {
            local: format_rfc3339(req.client_time),
            db: format_rfc3339(now),
            diff,
        });
    }
    let expires = req.ttl.map(|t| expiry(t, now)).transpose()?;
    if let Some(h) = req.host {
        if db
            .query("SELECT id FROM hosts WHERE name = ?", &[h.into()])?
            .is_empty()
        {
            return Err(ClaimError::NoHost(h.to_string()));
        }
    }
    let count = usize::try_from(req.count.max(1)).unwrap_or(1);
    for c in candidates(db, req, now, counts_kept)? {
        let Some(latest) = lock_host(db, c.id)? else {
            continue; // another claimer holds this host now
        };
        if c.taken_at > now + MAX_SKEW {
            if req.host.is_some() {
                return Err(ClaimError::SnapshotFromFuture {
                    host: c.name,
                    taken: format_rfc3339(c.taken_at),
                    now: format_rfc3339(now),
                });
            }
            continue;
        }
        let free = free_devices(db, req.selector, c.id, latest, now)?;
        let chosen = match req.generation.filter(|g| *g != latest) {
            Some(g) => picked_at_generation(db, req, &c, g, latest, &free, now)?,
            None => match pick(&free, count, req.constraint) {
                Ok(v) => v.into_iter().map(|i| free[i].device.clone()).collect(),
                Err(_) => continue,
            },
        };
        return record(db, req, &c, latest, chosen, now, expires);
    }
    Err(ClaimError::NoCapacity {
        count: req.count.max(1),
        selector: req.selector.text().to_string(),
        constraint: req.constraint.describe(),
        host: req.host.map(|h| format!(" (host {h})")).unwrap_or_default(),
    })
}

/// The hosts with at least `count` free matching devices in their latest
/// snapshot, most free first, then by name: `fleet hosts`'s answer
/// ([`free_hosts`]). `counts_kept`: the database has schema 6.
fn candidates(
    db: &mut dyn Backend,
    req: &ClaimRequest<'_>,
    now: i64,
    counts_kept: bool,
) -> Result<Vec<HostCand>, FleetError> {
    if let (Some(h), Some(_)) = (req.host, req.generation) {
        // Judged against the generation asked, not the latest snapshot.
        let sql = "SELECT h.id AS id, h.name AS name, s.taken_at AS taken_at FROM hosts h \
                   JOIN snapshots s ON s.id = h.latest_snapshot WHERE h.name = ?";
        return db.query(sql, &[h.into()])?.iter().map(host_cand).collect();
    }
    let ask = Ask {
        sel: req.selector,
        count: req.count.max(1),
        now: Some(now),
        host: req.host,
        counts_kept,
    };
    Ok(free_hosts(db, &ask)?
        .into_iter()
        .map(|h| HostCand {
            id: h.id,
            name: h.name,
            taken_at: h.taken_at,
        })
        .collect())
}

fn host_cand(r: Row<'_>) -> Result<HostCand, FleetError> {
    Ok(HostCand {
        id: r.int("id")?,
        name: r.text("name")?,
        taken_at: r.int("taken_at")?,
    })
}

/// Locks host `id` for this transaction; its generation (latest snapshot
/// id), or `None` when another claimer holds it (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already excludes other writers).
fn lock_host(db: &mut dyn Backend, id: i64) -> Result<Option<i64>, FleetError> {
    let lock = match db.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows = db.query(
        &format!("SELECT latest_snapshot AS latest FROM hosts WHERE id = ?{lock}"),
        &[id.into()],
    )?;
    match rows.first() {
        Some(r) => r.opt_int("latest"),
        None => Ok(None),
    }
}

fn candidate_of(r: Row<'_>) -> Result<Candidate, FleetError> {
    Ok(Candidate {
        device: r.text("device")?,
        pcie_root: r.opt_text("pcie_root")?,
        numa_node: r.opt_int("numa_node")?,
    })
}

/// The host's usable matching devices (the `placement` rows of its latest
/// snapshot) that no live claim holds, in address order, with topology.
fn free_devices(
    db: &mut dyn Backend,
    sel: &DeviceSelector,
    host: i64,
    latest: i64,
    now: i64,
) -> Result<Vec<Candidate>, FleetError> {
    let (cond, sp) = sel.sql_on("p");
    let sql = format!(
        "SELECT DISTINCT p.device_key AS device, t.pcie_root AS pcie_root, t.numa_node AS numa_node
         FROM placement p
         LEFT JOIN device_topology t ON t.snapshot_id = ? AND t.device_key = p.device_key
         WHERE p.host_id = ?{cond} AND {free}
         ORDER BY p.device_key",
        free = crate::placement::unclaimed("p")
    );
    let mut params: Vec<Value> = vec![latest.into(), host.into()];
    params.extend(sp);
    params.push(now.into());
    db.query(&sql, &params)?.iter().map(candidate_of).collect()
}

/// A claim made against an older generation `g` of the host: the devices
/// are picked as snapshot `g` showed them, then each must still be free
/// in the latest snapshot, else the claim is refused.
fn picked_at_generation(
    db: &mut dyn Backend,
    req: &ClaimRequest<'_>,
    c: &HostCand,
    g: i64,
    latest: i64,
    free: &[Candidate],
    now: i64,
) -> Result<Vec<String>, ClaimError> {
    let stale = |detail: String| ClaimError::Stale {
        host: c.name.clone(),
        asked: g,
        now: latest,
        detail,
    };
    let old = crate::placement::rows::usable_at(db, req.selector, c.id, g, now)?
        .ok_or_else(|| stale(format!("generation {g} is not a snapshot of this host")))?;
    let count = usize::try_from(req.count.max(1)).unwrap_or(1);
    let picked = pick(&old, count, req.constraint).map_err(&stale)?;
    let gone: Vec<&str> = picked
        .iter()
        .map(|&i| old[i].device.as_str())
        .filter(|d| !free.iter().any(|f| f.device == *d))
        .collect();
    if !gone.is_empty() {
        return Err(stale(format!(
            "the newer snapshot shows {} gone or used",
            gone.join(", ")
        )));
    }
    Ok(picked.into_iter().map(|i| old[i].device.clone()).collect())
}

/// Writes the claim and its device rows (the unique guard).
fn record(
    db: &mut dyn Backend,
    req: &ClaimRequest<'_>,
    c: &HostCand,
    latest: i64,
    devices: Vec<String>,
    now: i64,
    expires: Option<i64>,
) -> Result<Claim, ClaimError> {
    // Rows of expired claims on this host give way to the new claim.
    db.execute(
        "DELETE FROM claim_devices WHERE host_id = ? AND expires_at <= ?",
        &[c.id.into(), now.into()],
    )?;
    let id = db
        .query(
            "INSERT INTO claims (holder, host_id, snapshot_id, selector, devices, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                req.holder.into(),
                c.id.into(),
                latest.into(),
                req.selector.text().into(),
                devices.join(",").into(),
                now.into(),
                Value::Int(expires),
            ],
        )?
        .first()
        .map(|r| r.int("id"))
        .ok_or_else(|| FleetError::db(db.name(), "INSERT … RETURNING gave no id"))??;
    for d in &devices {
        db.execute(
            "INSERT INTO claim_devices (host_id, device_key, claim_id, expires_at) VALUES (?, ?, ?, ?)",
            &[c.id.into(), d.as_str().into(), id.into(), expires.unwrap_or(i64::MAX).into()],
        )?;
    }
    crate::history::claim_event(db, id, "claimed", now)?;
    Ok(Claim {
        id,
        holder: req.holder.to_string(),
        host: c.name.clone(),
        generation: latest,
        selector: req.selector.text().to_string(),
        devices,
        created: format_rfc3339(now),
        expires: expires.map(format_rfc3339),
        state: "live",
    })
}
