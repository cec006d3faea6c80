//! Every SQL statement over the fleet's rows, and the answers they give:
//! storing a snapshot ([`store`]), placement ([`placement`]), inventory
//! and history ([`inventory`]) and the consistency checks ([`check`]);
//! the schema and its migrations are in [`crate::schema`]. Each is a
//! method of [`crate::Fleet`]; each answer is read from its rows by column
//! name (indexes: docs/fleet.md).

pub mod check;
pub mod inventory;
pub mod placement;
pub mod store;

use pci_core::sources::filter::IdFilter;
use serde::Serialize;

use crate::backend::Value;
use crate::error::FleetError;

/// Which devices a guest wants: lspci `-d` grammar
/// (`[VENDOR]:[DEVICE][:CLASS[:PROGIF]]`, e.g. `10de:`, `::0302`).
#[derive(Debug, Clone)]
pub struct DeviceSelector {
    text: String,
    filter: IdFilter,
}

impl DeviceSelector {
    /// Parses lspci `-d` grammar (pci-core's parser, lspci's messages).
    pub fn parse(text: &str) -> Result<Self, FleetError> {
        let filter = IdFilter::parse(text).map_err(|e| FleetError::Selector {
            text: text.to_string(),
            message: e.to_string(),
        })?;
        Ok(DeviceSelector {
            text: text.to_string(),
            filter,
        })
    }

    /// Every device (`:`).
    pub fn any() -> Self {
        DeviceSelector {
            text: ":".to_string(),
            filter: IdFilter {
                vendor: None,
                device: None,
                class: None,
                prog_if: None,
            },
        }
    }

    /// The selector as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The vendor, device, class and programming-interface test.
    pub(crate) fn filter(&self) -> &IdFilter {
        &self.filter
    }

    /// SQL conditions on the functions table aliased `f` (each starting
    /// with ` AND`) and their parameters; the same test as
    /// [`IdFilter::matches`].
    pub(crate) fn sql(&self) -> (String, Vec<Value>) {
        self.sql_on("f")
    }

    /// [`DeviceSelector::sql`] on a table aliased `t` that has `vendor`,
    /// `device` and `class` columns.
    pub(crate) fn sql_on(&self, t: &str) -> (String, Vec<Value>) {
        let mut sql = String::new();
        let mut p = Vec::new();
        if let Some(v) = self.filter.vendor {
            sql.push_str(&format!(" AND {t}.vendor = ?"));
            p.push(i64::from(v).into());
        }
        if let Some(d) = self.filter.device {
            sql.push_str(&format!(" AND {t}.device = ?"));
            p.push(i64::from(d).into());
        }
        if let Some((c, m)) = self.filter.class {
            sql.push_str(&format!(" AND (({t}.class / 256) & ?) = ?"));
            p.push(i64::from(m & 0xffff).into());
            p.push(i64::from(c & m & 0xffff).into());
        }
        if let Some(pi) = self.filter.prog_if {
            sql.push_str(&format!(" AND ({t}.class % 256) = ?"));
            p.push(i64::from(pi).into());
        }
        (sql, p)
    }
}

/// A host that can give the guest what it asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostMatch {
    /// Host name.
    pub host: String,
    /// Time of the latest snapshot (RFC 3339).
    pub snapshot_time: String,
    /// Matching devices that pass and no recorded VM uses.
    pub passable: i64,
    /// Those devices (`DDDD:BB:DD`), sorted.
    pub devices: Vec<String>,
    /// Whether the snapshot recorded the VMs (else VM use is unknown).
    pub vms_known: bool,
}

/// One matching device of one host, for `--explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceVerdict {
    /// `DDDD:BB:DD`.
    pub device: String,
    /// `vvvv:dddd` of its first matching function.
    pub ids: String,
    /// All functions pass.
    pub passes: bool,
    /// A recorded VM uses it (`None`: unknown).
    pub in_vm: Option<bool>,
    /// Why it does not pass: first failing function and finding.
    pub reason: Option<String>,
    /// The holder of a live claim on it, which takes it from placement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
}

/// The answer for one host: its matching devices and whether it qualifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Host name.
    pub host: String,
    /// Time of the latest snapshot (RFC 3339).
    pub snapshot_time: String,
    /// Whether it can give `count` devices.
    pub qualifies: bool,
    /// Devices asked for.
    pub count: i64,
    /// Every device with a function matching the selector.
    pub devices: Vec<DeviceVerdict>,
    /// Whether the snapshot recorded the VMs.
    pub vms_known: bool,
    /// Why it qualifies, or the first reason it does not.
    pub why: String,
}

/// One vendor:device across the fleet's latest snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSummary {
    /// `vvvv:dddd`.
    pub ids: String,
    /// Vendor name, when `pci.ids` knows it.
    pub vendor_name: Option<String>,
    /// Device name, when `pci.ids` knows it.
    pub device_name: Option<String>,
    /// Hosts that have it.
    pub hosts: i64,
    /// Functions with these IDs.
    pub functions: i64,
    /// Of those, functions in a device that passes the check.
    pub passable: i64,
    /// Of those, reserved for ppt in configuration files.
    pub reserved: i64,
    /// Of those, how many have a known reservation state.
    pub reserved_known: i64,
    /// Of those, bound to ppt when the snapshot was taken.
    pub ppt_now: i64,
}

/// A host's latest snapshot, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LatestSnapshot {
    /// Host name.
    pub host: String,
    /// Snapshot id ([`crate::Fleet::snapshot_functions`]).
    pub id: i64,
    /// When taken (RFC 3339).
    pub time: String,
    /// Host-wide verdict.
    pub host_verdict: String,
    /// First failing host finding.
    pub host_reason: Option<String>,
}

/// One stored snapshot of a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// Database id.
    pub id: i64,
    /// When taken (RFC 3339).
    pub time: String,
    /// `snapshot` or `file-mtime`.
    pub time_source: String,
    /// sha256 of the file.
    pub sha256: String,
    /// The file it came from.
    pub file: String,
    /// Number of functions.
    pub functions: i64,
    /// Whether it is the host's latest snapshot: the newest by time, of
    /// equal times the one ingested last.
    pub latest: bool,
    /// The snapshot just before it in the history when both have the same
    /// time (different content: the later ingest counts as newer).
    pub same_time_as: Option<i64>,
    /// When taken, Unix seconds.
    #[serde(skip)]
    pub taken_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_sql_follows_the_filter() {
        let (sql, p) = DeviceSelector::parse("10de:").unwrap().sql();
        assert_eq!(sql, " AND f.vendor = ?");
        assert_eq!(p, vec![Value::from(0x10de_i64)]);
        let (sql, p) = DeviceSelector::parse("::03x2").unwrap().sql();
        assert_eq!(sql, " AND ((f.class / 256) & ?) = ?");
        assert_eq!(p, vec![Value::from(0xff0f_i64), Value::from(0x0302_i64)]);
        assert!(DeviceSelector::parse("zz:").is_err());
    }
}
