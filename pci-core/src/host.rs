//! A whole host as one source saw it: its functions, `/dev/pptN` links,
//! host facts and the non-fatal problems met while reading.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::function::{Function, IllumosNode};

/// The CPU vendor, which decides the IOMMU flavour (VT-d or AMD-Vi).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuVendor {
    /// GenuineIntel.
    Intel,
    /// AuthenticAMD.
    Amd,
    /// Anything else.
    Other,
}

/// What is known about the host's IOMMU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IommuFacts {
    /// Whether an IOMMU is present and enabled.
    pub present: bool,
    /// `vt-d`, `amd-vi` or another name, when known.
    pub kind: Option<String>,
    /// What was read to decide (a path, a module name).
    pub evidence: String,
}

/// Host-wide facts the viability check uses, recorded in snapshots so an
/// offline check gives the same verdicts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostFacts {
    /// Operating system the data came from (`illumos`, `linux`), when known.
    pub os: Option<String>,
    /// CPU vendor, when known.
    pub cpu_vendor: Option<CpuVendor>,
    /// IOMMU presence, when known.
    pub iommu: Option<IommuFacts>,
    /// devfs paths (illumos) of the devices holding the boot pool, when known.
    pub boot_devices: Vec<String>,
}

/// A `/dev/pptN` link and where it leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PptLink {
    /// The link as the host names it, e.g. `/dev/ppt0`.
    pub dev: String,
    /// The raw link target (`../devices/pci@0,0/...:ppt`), if it is a link.
    pub target: Option<String>,
    /// devfs path without `/devices` and `:ppt`, when it resolves.
    pub path: Option<String>,
}

/// A non-fatal problem met while reading, with its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file (host path as the user knows it), if any.
    pub file: Option<String>,
    /// 1-based line number, if any.
    pub line: Option<usize>,
    /// What is wrong and, where possible, what to do.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic about a file (and optionally a line).
    pub fn at(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Some(file.into()),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None) => write!(f, "{file}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Everything one source read about a host.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Host {
    /// PCI functions, sorted by address.
    pub functions: Vec<Function>,
    /// devinfo nodes on the PCI paths that are not functions (root
    /// complexes such as `/pci@0,0`), so trees can show them.
    pub nexus: Vec<IllumosNode>,
    /// `/dev/ppt*` links, in glob (lexical) order.
    pub ppt_links: Vec<PptLink>,
    /// Host-wide facts.
    pub facts: HostFacts,
    /// Non-fatal problems met while reading (not saved in snapshots).
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

impl Host {
    /// Whether the host was read with a real device tree: some function
    /// has a node a devinfo tree described. A host whose paths are all
    /// predicted (a Linux sysfs tree, a dump) cannot say what is bound to
    /// ppt.
    pub fn has_devinfo_tree(&self) -> bool {
        self.functions.iter().any(Function::has_devinfo_node)
    }
}
