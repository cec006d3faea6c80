//! The one place that turns a snapshot document into the facts the fleet
//! stores ([`SnapshotRecord`]): every per-function fact is asked of the
//! libraries that own it (the viability check, the next-boot binding
//! prediction, `pci.ids` names, the `/dev/pptN` links), never recomputed
//! here.
//!
//! Format 2 (`pptctl-snapshot/2`, `ppt_config::snapshot::SnapshotV2`) is
//! replayed through the library session (`ppt_config::session::Session::replay`,
//! as `Session::open` replays it),
//! so the check sees the captured configuration and VMs exactly as
//! `pptctl check --from snapshot:FILE` does: the next boot's binding gives
//! "reserved" and "ppt after the next boot", the zones' `pci_devices` give
//! VM use. Format 1 (docs/snapshot.md) has none of that, so: the name is
//! the optional top-level `host.name` else the file's stem; the time is
//! `host.time` (RFC 3339) else the file's modification time; reservations,
//! next-boot predictions and VM use are stored as unknown.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use pci_core::names::PciNames;
use pci_core::sources::snapshot::parse_snapshot;
use pci_core::Host;
use pci_illumos::devfs::DevfsPath;
use ppt_config::host_load::{self, SnapshotFormat};
use ppt_config::selector::Selector;
use ppt_config::session::{Session, SessionOptions};
use ppt_config::snapshot::{SnapshotV2, FORMAT_V2};
use ppt_config::viability::{self, Plan, Report, Severity};
use serde::Deserialize;

use crate::error::FleetError;
use crate::record::{Finding, FunctionRow, SnapshotRecord};
use crate::time::parse_rfc3339;

/// Longest host name accepted.
const MAX_HOST_NAME: usize = 255;

/// The optional host identity a document may carry next to format 1's keys.
#[derive(Deserialize, Default)]
struct HostId {
    name: Option<String>,
    time: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    format: Option<String>,
    source: Option<String>,
    #[serde(default)]
    host: Option<HostId>,
}

/// The host identity a format 1 document carries beside its keys
/// (`host.name`, `host.time`), as ingest reads it: `(None, None)` when it
/// has none or is not JSON. A format 2 document's is read by the session.
pub fn document_identity(bytes: &[u8]) -> (Option<String>, Option<String>) {
    serde_json::from_slice::<Envelope>(bytes)
        .ok()
        .and_then(|e| e.host)
        .map_or((None, None), |h| (h.name, h.time))
}

/// What the caller knows about the file besides its bytes.
#[derive(Debug, Clone)]
pub struct FileFacts<'a> {
    /// The file, for messages and the default host name.
    pub path: &'a Path,
    /// Its modification time (Unix seconds), the fallback snapshot time.
    pub mtime: Option<i64>,
}

/// Reads the snapshot file at `path` as ingest reads one (a regular file,
/// opened without blocking or following a final link into a FIFO, at most
/// the ingest's size limit; its modification time from the same open) and
/// derives its record. Errors: [`FleetError::Io`] when it cannot be read,
/// [`FleetError::BadSnapshot`] when it is not a snapshot.
pub fn load(path: &Path) -> Result<SnapshotRecord, FleetError> {
    let (bytes, mtime) = crate::walk::read_snapshot(path, false)?;
    derive(&bytes, &FileFacts { path, mtime }).map_err(|message| FleetError::BadSnapshot {
        file: path.to_path_buf(),
        message,
    })
}

/// Derives the record of one snapshot document; `Err` is the reason it is
/// refused (the caller names the file).
pub fn derive(bytes: &[u8], file: &FileFacts<'_>) -> Result<SnapshotRecord, String> {
    let shown = file.path.display().to_string();
    match host_load::snapshot_format(bytes, &shown) {
        Ok(SnapshotFormat::V2) => derive_v2(bytes, file),
        Ok(SnapshotFormat::V1) => derive_v1(bytes, file),
        Err(e) => Err(strip_name(&e.to_string(), &shown)),
    }
}

/// The file's stem, the host name when the snapshot has none.
fn stem_name(file: &FileFacts<'_>) -> Result<String, String> {
    file.path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .ok_or_else(|| "no host name: the file has no name and no host.name".to_string())
}

fn derive_v1(bytes: &[u8], file: &FileFacts<'_>) -> Result<SnapshotRecord, String> {
    let shown = file.path.display().to_string();
    let host = parse_snapshot(bytes, &shown).map_err(|e| strip_name(&e.to_string(), &shown))?;
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let id = env.host.unwrap_or_default();
    let name = match id.name {
        Some(n) => n,
        None => stem_name(file)?,
    };
    check_host_name(&name)?;
    let (taken_at, time_source) = match id.time {
        Some(t) => (
            parse_rfc3339(&t).ok_or_else(|| format!("host.time `{t}` is not an RFC 3339 time"))?,
            "snapshot",
        ),
        None => (
            file.mtime
                .ok_or_else(|| "no host.time and no file modification time".to_string())?,
            "file-mtime",
        ),
    };
    check_unique_addresses(&host)?;
    let report = viability::evaluate(&host, &all_selected(&host));
    Ok(SnapshotRecord {
        host: name,
        taken_at,
        time_source,
        format: env.format.unwrap_or_default(),
        source: env.source,
        os: host.facts.os.clone(),
        vms_known: false,
        host_verdict: String::new(),
        host_reason: None,
        functions: Vec::new(),
    }
    .with_facts(&host, &report, &Pending::default()))
}

/// What the configuration and the VMs say per devfs path (format 2).
#[derive(Default)]
struct Pending {
    /// Path → bound to ppt after the next boot; absent: unknown.
    next_boot_ppt: HashMap<String, bool>,
    /// Paths the VMs use, with the VM (zone name); `None`: the VMs are
    /// not known.
    vm_paths: Option<HashMap<String, String>>,
}

fn derive_v2(bytes: &[u8], file: &FileFacts<'_>) -> Result<SnapshotRecord, String> {
    let shown = file.path.display().to_string();
    let snap = SnapshotV2::parse(bytes, &shown).map_err(|e| strip_name(&e.to_string(), &shown))?;
    let name = match &snap.host.name {
        Some(n) => n.clone(),
        None => stem_name(file)?,
    };
    check_host_name(&name)?;
    let taken_at = parse_rfc3339(&snap.host.time)
        .ok_or_else(|| format!("host.time `{}` is not an RFC 3339 time", snap.host.time))?;
    let opts = SessionOptions::new(&format!("snapshot:{shown}"), "/").map_err(|e| e.to_string())?;
    let (vms, source, os) = (snap.vms.clone(), snap.source.clone(), snap.host.os.clone());
    let session =
        Session::replay(&opts, snap, &shown).map_err(|e| strip_name(&e.to_string(), &shown))?;
    let (report, mut pending) = session_facts(&session)?;
    if vms.state == "known" {
        pending.vm_paths = Some(
            vms.zones
                .iter()
                .flat_map(|z| z.pci_devices.iter().map(move |d| (z, d)))
                .filter_map(|(z, d)| {
                    DevfsPath::parse(&d.path)
                        .ok()
                        .map(|p| (p.to_string(), z.name.clone()))
                })
                .collect(),
        );
    }
    Ok(SnapshotRecord {
        host: name,
        taken_at,
        time_source: "snapshot",
        format: FORMAT_V2.to_string(),
        source,
        os,
        vms_known: pending.vm_paths.is_some(),
        host_verdict: String::new(),
        host_reason: None,
        functions: Vec::new(),
    }
    .with_facts(session.host(), &report, &pending))
}

/// What a session answers for a record: the check of every function, and
/// per devfs path the session's one answer to "on ppt after the next
/// boot" (`Session::ppt_after`).
fn session_facts(session: &Session) -> Result<(viability::Report, Pending), String> {
    check_unique_addresses(session.host())?;
    let selectors: Vec<Selector> = session
        .host()
        .functions
        .iter()
        .map(|f| Selector::Slot(f.address))
        .collect();
    let answer = session
        .check(&selectors, Vec::new())
        .map_err(|e| format!("the check cannot be answered: {e}"))?;
    let next = session.next_ppt();
    if let Some(e) = next.error() {
        return Err(format!("the next boot cannot be predicted: {e}"));
    }
    let mut pending = Pending::default();
    for f in &session.host().functions {
        if let (Some(path), Some(on)) = (f.devfs_path(), next.ppt_after(f)) {
            pending.next_boot_ppt.insert(path.to_string(), on);
        }
    }
    Ok((answer.report, pending))
}

/// The record of a host loaded through a session (`pptctl report`), named
/// `name` and taken at `taken_at` (Unix seconds): its check and its next
/// boot, as a format 2 snapshot of it would give (the VMs are not read).
pub fn from_session(
    session: &Session,
    name: String,
    taken_at: i64,
) -> Result<SnapshotRecord, String> {
    let (report, pending) = session_facts(session)?;
    Ok(SnapshotRecord {
        host: name,
        taken_at,
        time_source: "snapshot",
        format: String::new(),
        source: None,
        os: session.host().facts.os.clone(),
        vms_known: false,
        host_verdict: String::new(),
        host_reason: None,
        functions: Vec::new(),
    }
    .with_facts(session.host(), &report, &pending))
}

/// Every function selected, bridges included, so a device's verdict covers
/// all its functions.
fn all_selected(host: &Host) -> Plan {
    Plan {
        selected: host.functions.iter().map(|f| f.address).collect(),
        ..Default::default()
    }
}

/// `parse_snapshot` names the file itself; the caller does too.
fn strip_name(msg: &str, shown: &str) -> String {
    msg.strip_prefix(shown)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(msg)
        .to_string()
}

fn check_host_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_HOST_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "host name {name:?} is empty, longer than {MAX_HOST_NAME} bytes or has control characters"
        ));
    }
    Ok(())
}

fn check_unique_addresses(host: &Host) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for f in &host.functions {
        if !seen.insert(f.address) {
            return Err(format!("function {} appears twice", f.address));
        }
    }
    Ok(())
}

/// The bridge above each function, found through two indexes built once
/// per host (a host of thousands of functions is not searched once per
/// function).
struct Parents<'a> {
    /// Bridges by (domain, secondary bus), in host order.
    by_bus: HashMap<(u32, u8), Vec<&'a pci_core::Function>>,
    /// Functions by devfs path; of two with one path, the later.
    by_path: HashMap<&'a str, &'a pci_core::Function>,
}

impl<'a> Parents<'a> {
    fn new(host: &'a Host) -> Self {
        let mut by_bus: HashMap<(u32, u8), Vec<&pci_core::Function>> = HashMap::new();
        let mut by_path = HashMap::new();
        for b in &host.functions {
            if let Some(secondary) = b.secondary_bus() {
                by_bus
                    .entry((b.address.domain, secondary))
                    .or_default()
                    .push(b);
            }
            if let Some(n) = &b.illumos {
                by_path.insert(n.path.as_str(), b);
            }
        }
        Parents { by_bus, by_path }
    }

    /// The bridge above `f`: the first bridge of its domain whose
    /// [secondary bus](pci_core::Function::secondary_bus) is `f`'s bus;
    /// else the function at the nearest devfs ancestor of `f`'s path.
    fn of(&self, f: &pci_core::Function) -> Option<String> {
        let by_bus = self
            .by_bus
            .get(&(f.address.domain, f.address.bus))
            .and_then(|v| v.iter().find(|b| b.address != f.address));
        if let Some(b) = by_bus {
            return Some(b.address.to_string());
        }
        let path = f.illumos.as_ref()?.path.as_str();
        std::iter::successors(pci_illumos::devfs::parent_of(path), |p| {
            pci_illumos::devfs::parent_of(p)
        })
        .filter_map(|p| self.by_path.get(p))
        .find(|b| b.address != f.address)
        .map(|b| b.address.to_string())
    }
}

/// The warn and fail findings of a check, in its order, as stored (info
/// findings say what is, not what is wrong: not stored).
fn findings(reasons: &[viability::Reason]) -> Vec<Finding> {
    reasons
        .iter()
        .filter(|x| x.severity != Severity::Info)
        .map(|x| Finding {
            severity: x.severity.as_str().to_string(),
            code: x.code.to_string(),
            message: x.message.clone(),
        })
        .collect()
}

impl SnapshotRecord {
    fn with_facts(mut self, host: &Host, report: &Report, pending: &Pending) -> Self {
        self.host_verdict = report.host.verdict.as_str().to_string();
        self.host_reason = report
            .host
            .reasons
            .iter()
            .find(|x| x.severity == Severity::Fail)
            .map(|x| format!("{}: {}", x.code, x.message));
        let names = PciNames::global();
        let parents = Parents::new(host);
        let reports: HashMap<&str, _> = report
            .functions
            .iter()
            .map(|r| (r.slot.as_str(), r))
            .collect();
        for f in &host.functions {
            let slot = f.address.to_string();
            let fr = reports.get(slot.as_str());
            let verdict = fr.map_or("ok", |r| r.verdict.as_str()).to_string();
            let fail_reason = fr.and_then(|r| {
                r.reasons
                    .iter()
                    .find(|x| x.severity == Severity::Fail)
                    .map(|x| format!("{}: {}", x.code, x.message))
            });
            let devfs_path = f.illumos.as_ref().map(|n| n.path.clone());
            let ppt_dev = devfs_path.as_ref().and_then(|p| {
                host.ppt_links
                    .iter()
                    .find(|l| l.path.as_deref() == Some(p.as_str()))
                    .map(|l| l.dev.clone())
            });
            let driver = f
                .driver
                .clone()
                .or_else(|| f.illumos.as_ref().and_then(|n| n.driver.clone()));
            let device_key = slot
                .rsplit_once('.')
                .map_or(slot.as_str(), |(d, _)| d)
                .to_string();
            self.functions.push(FunctionRow {
                device_key,
                vendor: f.ids.vendor,
                device: f.ids.device,
                class: f.ids.class,
                subsystem_vendor: f.ids.subsystem_vendor,
                subsystem: f.ids.subsystem,
                revision: Some(f.ids.revision),
                bridge: f.is_bridge(),
                parent: parents.of(f),
                driver,
                ppt_dev,
                // With format 2 both come from the one binding prediction of
                // the configuration the next boot reads.
                reserved: devfs_path
                    .as_ref()
                    .and_then(|p| pending.next_boot_ppt.get(p).copied()),
                next_boot_ppt: devfs_path
                    .as_ref()
                    .and_then(|p| pending.next_boot_ppt.get(p).copied()),
                devfs_path: devfs_path.clone(),
                verdict,
                fail_reason,
                reasons: Some(fr.map_or_else(Vec::new, |r| findings(&r.reasons))),
                in_vm: pending
                    .vm_paths
                    .as_ref()
                    .map(|vms| devfs_path.as_ref().is_some_and(|p| vms.contains_key(p))),
                vm: pending
                    .vm_paths
                    .as_ref()
                    .and_then(|vms| vms.get(devfs_path.as_ref()?).cloned()),
                numa_node: f.numa_node,
                vendor_name: names.vendor(f.ids.vendor).map(str::to_string),
                device_name: names.device(f.ids.vendor, f.ids.device).map(str::to_string),
                address: slot,
            });
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::document_identity;

    #[test]
    fn a_documents_identity_is_its_host_object() {
        let doc = br#"{"format":"pptctl-snapshot/1","host":{"name":"cn7","time":"2026-11-01T00:00:00Z"},"functions":[]}"#;
        assert_eq!(
            document_identity(doc),
            (Some("cn7".into()), Some("2026-11-01T00:00:00Z".into()))
        );
        assert_eq!(document_identity(br#"{"functions":[]}"#), (None, None));
        assert_eq!(document_identity(b"not json"), (None, None));
    }
}
