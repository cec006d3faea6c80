//! What the fleet stores about one snapshot: the host, the time, and one
//! row of derived facts per PCI function. [`crate::derive`] makes these
//! from a snapshot file; the backends store them as they are.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One snapshot, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRecord {
    /// Host name.
    pub host: String,
    /// When the snapshot was taken, Unix seconds (UTC).
    pub taken_at: i64,
    /// Where `taken_at` came from: `snapshot` (the document says) or
    /// `file-mtime` (a format-1 file without a time).
    pub time_source: &'static str,
    /// The document's `format` tag.
    pub format: String,
    /// The source the writer read (`sysfs:/sys`), when recorded.
    pub source: Option<String>,
    /// Operating system, when recorded.
    pub os: Option<String>,
    /// Whether the snapshot records the VMs' `pci_devices` (else a
    /// function's VM use is unknown).
    pub vms_known: bool,
    /// Host-wide verdict (IOMMU, CPU).
    pub host_verdict: String,
    /// The first failing host finding (`no-iommu: …`), when the host fails:
    /// then no device of it can be passed.
    pub host_reason: Option<String>,
    /// One row per function, in address order.
    pub functions: Vec<FunctionRow>,
}

/// Facts about one function at one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionRow {
    /// `DDDD:BB:DD.F`.
    pub address: String,
    /// `DDDD:BB:DD`: the PCI device the function belongs to; a guest is
    /// given whole devices.
    pub device_key: String,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// 24-bit class code.
    pub class: u32,
    /// Subsystem vendor ID.
    pub subsystem_vendor: Option<u16>,
    /// Subsystem ID.
    pub subsystem: Option<u16>,
    /// Revision ID (`None`: stored before the fleet recorded it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u8>,
    /// A bridge (header type 1 or 2).
    pub bridge: bool,
    /// The bridge above it (`DDDD:BB:DD.F`), `None` on a root bus.
    pub parent: Option<String>,
    /// Driver bound when the snapshot was taken.
    pub driver: Option<String>,
    /// `/dev/pptN` whose link leads to this function.
    pub ppt_dev: Option<String>,
    /// Reserved for ppt in the configuration files (`None`: not recorded).
    pub reserved: Option<bool>,
    /// Predicted to be bound to ppt after the next boot (`None`: unknown).
    pub next_boot_ppt: Option<bool>,
    /// illumos devfs path, real or predicted.
    pub devfs_path: Option<String>,
    /// `ok`, `warn` or `fail` from the viability check.
    pub verdict: String,
    /// The first failing finding, `code: message`, when `verdict` is `fail`.
    pub fail_reason: Option<String>,
    /// Every warn and fail finding of the check, in the check's order
    /// (`pptctl check` lists them so); `None` in a row stored before
    /// schema 6, which kept only [`FunctionRow::fail_reason`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<Finding>>,
    /// Named by a VM's `pci_devices` (`None`: the VMs are not recorded).
    pub in_vm: Option<bool>,
    /// Vendor name from `pci.ids`.
    pub vendor_name: Option<String>,
    /// Device name from `pci.ids`.
    pub device_name: Option<String>,
    /// Linux `numa_node`, when the snapshot records it (kept in
    /// `device_topology`, not in `functions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numa_node: Option<u32>,
    /// The VM (zone name, the VM's UUID on SmartOS) whose `pci_devices`
    /// name this function (kept in `device_topology`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
}

/// One warn or fail finding of a function's check, as the fleet stores it
/// (`functions.reasons`, from schema 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `warn` or `fail`.
    pub severity: String,
    /// The rule's code (`no-reset`).
    pub code: String,
    /// What was found, naming the function.
    pub message: String,
}

/// `severity code: message`, as `pptctl check` and `pptctl report` word a
/// finding.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}
