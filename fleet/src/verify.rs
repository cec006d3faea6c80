//! `pptctl fleet verify`: did each host's last reboot do what its previous
//! snapshot predicted? For every host, its latest snapshot is compared with
//! the next-boot answer of the one before it (by time, then ingest order:
//! the order that decides the latest), with the one comparison
//! [`crate::diff::expect`] that `pptctl diff --expect` uses for two files.
//!
//! A host is *held* when every function predicted to be bound to ppt is
//! there, with the same identity, bound to ppt under the same `/dev/pptN`;
//! *not judged* when it has one snapshot, or its previous snapshot records
//! no next-boot prediction (format 1, or taken without the boot media).
//! Nothing here writes: it reads through [`crate::Access::Read`].

use serde::Serialize;

use crate::diff::{expect, Expectation};
use crate::error::FleetError;
use crate::fleet::Fleet;
use crate::time::format_rfc3339;

/// What `fleet verify` says about one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum HostCheck {
    /// Every predicted binding held (also when none was predicted).
    Held {
        /// The predictions, each held.
        predictions: Vec<Expectation>,
    },
    /// At least one predicted binding did not hold.
    Broken {
        /// Every prediction, held or not.
        predictions: Vec<Expectation>,
    },
    /// Nothing to compare.
    NotJudged {
        /// Why: `one snapshot` or `no next-boot prediction`.
        why: &'static str,
    },
}

/// One host's result, with the snapshots compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostVerification {
    /// Host name.
    pub host: String,
    /// When the previous snapshot (the prediction) was taken, RFC 3339.
    pub before: Option<String>,
    /// When the latest snapshot was taken, RFC 3339.
    pub after: String,
    /// The result.
    #[serde(flatten)]
    pub check: HostCheck,
}

impl HostCheck {
    /// The status as `fleet verify --json` names it: `held`, `broken` or
    /// `not-judged`.
    pub fn status(&self) -> &'static str {
        match self {
            HostCheck::Held { .. } => "held",
            HostCheck::Broken { .. } => "broken",
            HostCheck::NotJudged { .. } => "not-judged",
        }
    }

    /// Every prediction compared, held or not (none when not judged).
    pub fn predictions(&self) -> &[Expectation] {
        match self {
            HostCheck::Held { predictions } | HostCheck::Broken { predictions } => predictions,
            HostCheck::NotJudged { .. } => &[],
        }
    }
}

impl HostVerification {
    /// Whether the host counts as not held (exit 1).
    pub fn broken(&self) -> bool {
        matches!(self.check, HostCheck::Broken { .. })
    }
}

/// Why a host is not judged when it has one snapshot.
pub const ONE_SNAPSHOT: &str = "one snapshot";
/// Why a host is not judged when its previous snapshot predicts nothing.
pub const NO_PREDICTION: &str = "no next-boot prediction";

/// A host's two newest snapshots: (latest id, time), (previous id, time).
type Pair = (String, (i64, i64), Option<(i64, i64)>);

impl Fleet {
    /// The two newest snapshots of every host (or of `host`), by name.
    fn newest_pairs(&mut self, host: Option<&str>) -> Result<Vec<Pair>, FleetError> {
        let filter = if host.is_some() {
            " WHERE h.name = ?"
        } else {
            ""
        };
        let params: Vec<crate::backend::Value> = host.map(Into::into).into_iter().collect();
        let rows = self.db.query(
            &format!(
                "SELECT name, id, taken_at, rn FROM (
                   SELECT h.name AS name, s.id AS id, s.taken_at AS taken_at,
                          ROW_NUMBER() OVER (PARTITION BY s.host_id
                                             ORDER BY s.taken_at DESC, s.id DESC) AS rn
                   FROM hosts h JOIN snapshots s ON s.host_id = h.id{filter}
                 ) AS ranked WHERE rn <= 2 ORDER BY name, rn"
            ),
            &params,
        )?;
        let mut out: Vec<Pair> = Vec::new();
        for r in rows.iter() {
            let snap = (r.int("id")?, r.int("taken_at")?);
            match out.last_mut() {
                Some((name, _, prev)) if *name == r.text("name")? => *prev = Some(snap),
                _ => out.push((r.text("name")?, snap, None)),
            }
        }
        if let (Some(h), true) = (host, out.is_empty()) {
            return Err(FleetError::NoHost(h.to_string()));
        }
        Ok(out)
    }

    /// Compares each host's latest snapshot (or only `host`'s) with the
    /// next-boot prediction of its previous one; by host name.
    pub fn verify_reboots(
        &mut self,
        host: Option<&str>,
    ) -> Result<Vec<HostVerification>, FleetError> {
        let mut out = Vec::new();
        for (name, (latest, at), prev) in self.newest_pairs(host)? {
            let check = match prev {
                None => HostCheck::NotJudged { why: ONE_SNAPSHOT },
                Some((prev, _)) => {
                    let before = self.snapshot_functions(prev)?;
                    let after = self.snapshot_functions(latest)?;
                    match expect(&before, &after) {
                        None => HostCheck::NotJudged { why: NO_PREDICTION },
                        Some(p) if p.iter().all(|e| e.held) => HostCheck::Held { predictions: p },
                        Some(p) => HostCheck::Broken { predictions: p },
                    }
                }
            };
            out.push(HostVerification {
                host: name,
                before: prev.map(|(_, t)| format_rfc3339(t)),
                after: format_rfc3339(at),
                check,
            });
        }
        Ok(out)
    }
}
