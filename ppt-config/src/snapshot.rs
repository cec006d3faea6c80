//! The host snapshot, format version 2 (`pptctl-snapshot/2`,
//! docs/snapshot.md): the unit a fleet tool stores.
//!
//! Version 2 records, besides the PCI functions, everything that decides
//! binding and candidacy: the configuration files captured by the session
//! (the root's `/etc` and `/system/boot` copies and the boot media's
//! configuration and module files), whether the root is SmartOS, the boot
//! media, and the bhyve zones' `pci_devices`. Replaying it with
//! `--from snapshot:FILE` answers `list`, `match`, `check` and `vm-json`
//! exactly as the original `--root`/`--boot-media` invocation did, without
//! reading this machine's files.
//!
//! The document is these types, not the serde form of the internal model:
//! a change of the model changes the conversion, never the format. Version
//! 1 (pci-core's `pptctl-snapshot/1`) is still read.

mod base64;
pub(crate) mod convert;
mod files;
mod time;
pub use time::now_secs;

use std::collections::BTreeMap;
use std::path::Path;

use pci_core::sources::SourceError;
use pci_core::text::escape;
use pci_core::{Diagnostic, Host};
use serde::{Deserialize, Serialize};

use crate::zones::BhyveZone;

pub(crate) use files::{captured_dir, captured_file, dir_v2, file_v2};
pub(crate) use time::now_rfc3339;

/// The `format` value of version 2.
pub const FORMAT_V2: &str = "pptctl-snapshot/2";

/// Largest snapshot read (a host with thousands of functions with 4 KiB of
/// config space each is a few tens of MiB).
pub const SNAPSHOT_LIMIT: u64 = 256 << 20;

/// Why a snapshot cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file cannot be read (the message names it, and says what to
    /// do when permissions refused the read).
    #[error(transparent)]
    Read(pci_core::sources::SourceError),
    /// The document is not a valid version 2 snapshot.
    #[error("{file}: {message}")]
    Invalid {
        /// The file as given.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// A version 2 snapshot document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotV2 {
    /// Always [`FORMAT_V2`].
    pub format: String,
    /// Which host, when, and what it runs.
    pub host: HostInfo,
    /// The source the writer read (`devinfo:...`, `sysfs:/sys`), for people.
    pub source: Option<String>,
    /// The PCI functions, in address order.
    pub functions: Vec<FunctionV2>,
    /// devinfo nodes on the PCI paths that are not functions (root
    /// complexes).
    pub nexus: Vec<NodeV2>,
    /// `/dev/ppt*` links, in glob order.
    pub ppt_links: Vec<LinkV2>,
    /// Host facts for the viability check.
    pub facts: FactsV2,
    /// The configuration files, in capture order.
    pub config_files: Vec<FileV2>,
    /// The root's driver module directories, in capture order: which
    /// drivers have a module decides which are active.
    #[serde(default)]
    pub module_dirs: Vec<DirV2>,
    /// The boot media whose files are recorded, if any.
    pub boot_media: Option<BootMediaV2>,
    /// Host paths where boot media was looked for when none was given.
    pub boot_media_searched: Vec<String>,
    /// Why the boot archive of a persistent root may not carry
    /// `/etc/ppt_aliases` (judged from file times when the snapshot was
    /// taken).
    pub boot_archive_notes: Vec<String>,
    /// The bhyve zones and their pass-through devices.
    pub vms: VmsV2,
}

/// Which host, when, and what it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostInfo {
    /// The host name (`/etc/nodename`, else `/etc/hostname`), when known.
    pub name: Option<String>,
    /// When the snapshot was taken, RFC 3339 UTC (`2018-10-26T13:11:00Z`).
    pub time: String,
    /// The operating system the data came from (`illumos`, `linux`).
    pub os: Option<String>,
    /// Whether the root is SmartOS (its `/etc/release` says so).
    pub smartos: bool,
}

/// Identity of a function as its header gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdsV2 {
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Subsystem vendor ID, when the header has one.
    pub subsystem_vendor: Option<u16>,
    /// Subsystem ID, when the header has one.
    pub subsystem: Option<u16>,
    /// Class code (24 bits).
    pub class: u32,
    /// Revision ID.
    pub revision: u8,
    /// Header type byte, when known.
    pub header_type: Option<u8>,
}

/// A BAR as the operating system reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsBarV2 {
    /// Start address.
    pub start: u64,
    /// I/O space.
    pub io: bool,
    /// 64-bit memory BAR.
    pub mem64: bool,
    /// Prefetchable.
    pub prefetchable: bool,
}

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionV2 {
    /// `DDDD:BB:DD.F`.
    pub address: String,
    /// Identity.
    pub ids: IdsV2,
    /// Raw configuration space, lower-case hex.
    pub config: String,
    /// BAR sizes in bytes (six slots; `null` for none or unknown).
    pub bar_sizes: Vec<Option<u64>>,
    /// BARs as the OS reports them (six slots).
    pub bar_os: Vec<Option<OsBarV2>>,
    /// Expansion ROM size.
    pub rom_size: Option<u64>,
    /// The driver bound now.
    pub driver: Option<String>,
    /// Linux IOMMU group.
    pub iommu_group: Option<u32>,
    /// SR-IOV: the physical function of a VF.
    pub physfn: Option<String>,
    /// SR-IOV: the virtual functions of a PF.
    pub virtfns: Vec<String>,
    /// Linux `boot_vga`.
    pub boot_vga: Option<bool>,
    /// Linux `numa_node` (absent: not recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numa_node: Option<u32>,
    /// The illumos devinfo node.
    pub illumos: Option<NodeV2>,
}

/// A devinfo property value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum PropV2 {
    /// A boolean (present) property.
    Boolean,
    /// 32-bit integers.
    Ints(Vec<i32>),
    /// 64-bit integers.
    Int64s(Vec<i64>),
    /// Strings.
    Strings(Vec<String>),
    /// Bytes, lower-case hex.
    Bytes(String),
}

/// An illumos devinfo node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeV2 {
    /// devfs path (no `/devices`, no minor), every level with its unit
    /// address (the path path aliases name).
    pub path: String,
    /// The path `di_devfs_path()` (libppt) shows now, when it differs from
    /// `path` (an uninitialised node's last level has no unit address).
    #[serde(default)]
    pub devfs_path: Option<String>,
    /// Position in libppt's devinfo walk (children first); `null` for
    /// predicted nodes.
    #[serde(default)]
    pub walk_index: Option<u32>,
    /// The DDI node state (1 linked ... 6 ready), when a device tree told
    /// it.
    #[serde(default)]
    pub node_state: Option<i32>,
    /// `devinfo` (read from a device tree) or `predicted`.
    pub path_source: Option<String>,
    /// Node name.
    pub node_name: String,
    /// Unit address.
    pub unit_address: Option<String>,
    /// Driver bound.
    pub driver: Option<String>,
    /// Instance number.
    pub instance: Option<i32>,
    /// Binding name.
    pub binding_name: Option<String>,
    /// `compatible`, most specific first.
    pub compatible: Vec<String>,
    /// The parent's `device_type`.
    pub parent_device_type: Option<String>,
    /// `device_type`.
    pub device_type: Option<String>,
    /// Properties by name.
    pub props: BTreeMap<String, PropV2>,
    /// Minor node names.
    pub minors: Vec<String>,
}

/// A `/dev/pptN` link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkV2 {
    /// `/dev/pptN`.
    pub dev: String,
    /// The raw link target.
    pub target: Option<String>,
    /// The devfs path it resolves to.
    pub path: Option<String>,
}

/// The host's IOMMU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IommuV2 {
    /// Present and enabled.
    pub present: bool,
    /// `vt-d`, `amd-vi`, ...
    pub kind: Option<String>,
    /// What was read to decide.
    pub evidence: String,
}

/// Host facts for the viability check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FactsV2 {
    /// `intel`, `amd`, `other`.
    pub cpu_vendor: Option<String>,
    /// The IOMMU.
    pub iommu: Option<IommuV2>,
    /// devfs paths of the boot pool's devices.
    pub boot_devices: Vec<String>,
}

/// One captured configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileV2 {
    /// `root` (a host path) or `boot-media` (a path on the boot volume).
    pub origin: String,
    /// The path within its origin.
    pub path: String,
    /// `present`, `absent`, `unreadable` or `too-large`.
    pub state: String,
    /// For a present file: `text` (UTF-8) or `base64`.
    pub encoding: Option<String>,
    /// For a present file: its content in `encoding`.
    pub content: Option<String>,
    /// For an unreadable file: the error as the system worded it.
    pub error: Option<String>,
    /// For a too-large file: its size in bytes.
    pub size: Option<u64>,
}

/// One captured driver module directory of the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirV2 {
    /// Its host path (`/kernel/drv/amd64`).
    pub path: String,
    /// `listed`, `absent` or `unreadable`.
    pub state: String,
    /// For a listed directory: the names of its files and symbolic links,
    /// sorted.
    #[serde(default)]
    pub entries: Vec<String>,
    /// For an unreadable directory: the error as the system worded it.
    #[serde(default)]
    pub error: Option<String>,
}

/// The boot media whose files are recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootMediaV2 {
    /// The directory as given (or found), as messages name it.
    pub dir: String,
    /// `grub` or `loader`.
    pub style: String,
}

/// The bhyve zones and their pass-through devices, or why not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmsV2 {
    /// `known` or `unknown`.
    pub state: String,
    /// Why unknown.
    pub reason: Option<String>,
    /// The zones, when known.
    pub zones: Vec<BhyveZone>,
}

impl SnapshotV2 {
    /// The JSON text (pretty, trailing newline).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }

    /// Parses a version 2 document; `file` names it in messages.
    pub fn parse(bytes: &[u8], file: &str) -> Result<SnapshotV2, SnapshotError> {
        let invalid = |message: String| SnapshotError::Invalid {
            file: file.to_string(),
            message,
        };
        let snap: SnapshotV2 = serde_json::from_slice(bytes).map_err(|e| {
            invalid(format!(
                "not a {FORMAT_V2} snapshot: {}",
                escape(&e.to_string())
            ))
        })?;
        if snap.format != FORMAT_V2 {
            return Err(invalid(format!(
                "format {:?} is not {FORMAT_V2:?}",
                snap.format
            )));
        }
        Ok(snap)
    }

    /// The host the snapshot records.
    pub fn to_host(&self) -> Result<Host, String> {
        let mut host = Host {
            functions: self
                .functions
                .iter()
                .map(convert::function)
                .collect::<Result<_, _>>()?,
            nexus: self
                .nexus
                .iter()
                .map(convert::node)
                .collect::<Result<_, _>>()?,
            ppt_links: self.ppt_links.iter().map(convert::link).collect(),
            facts: convert::facts(&self.facts, self.host.os.clone())?,
            warnings: Vec::<Diagnostic>::new(),
        };
        pci_core::sources::sort_functions(&mut host.functions);
        Ok(host)
    }
}

/// The `format` of a snapshot document, read first so a wrong document
/// gets a clear message.
pub(crate) fn format_of(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct FormatOnly {
        format: Option<serde_json::Value>,
    }
    let f: FormatOnly = serde_json::from_slice(bytes).ok()?;
    f.format.and_then(|v| v.as_str().map(str::to_string))
}

/// Reads at most [`SNAPSHOT_LIMIT`] bytes of `path`.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    // pci-core owns bounded reads of a file given on the command line (a
    // refused read says to run as root or use an offline source).
    pci_core::sources::read_bounded(path, SNAPSHOT_LIMIT).map_err(|e| match e {
        SourceError::NotRecognised { file, .. } => SnapshotError::Invalid {
            file,
            message: format!("larger than {SNAPSHOT_LIMIT} bytes; not a pptctl snapshot"),
        },
        other => SnapshotError::Read(other),
    })
}
