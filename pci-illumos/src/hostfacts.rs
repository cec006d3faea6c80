//! illumos host facts for the viability check, read as data under `--root`
//! (docs/illumos.md).
//!
//! bhyve drives the IOMMU through the `misc/vmm_vtd` module, installed as
//! `/usr/kernel/misc/amd64/vmm_vtd` (gate `usr/src/uts/intel/vmm_vtd/Makefile`
//! installs into `$(USR_MISC_DIR)`). Its absence from an installed
//! `/usr/kernel/misc/amd64` means no pass-through; its presence does not
//! prove the hardware has VT-d, which only the running kernel knows (the
//! ACPI DMAR table is not a file on illumos). That live probe is not done
//! here, so an illumos host reports the IOMMU as unknown unless the module
//! is provably missing.

use pci_core::{Diagnostic, Host, HostFacts, IommuFacts};

use crate::root::HostRoot;

/// Where illumos installs the VT-d backend of vmm (illumos-gate
/// `usr/src/uts/intel/vmm_vtd/Makefile`: `USR_MISC_DIR`).
pub(crate) const VMM_VTD_MODULE: &str = "/usr/kernel/misc/amd64/vmm_vtd";

/// Collects illumos host facts from files under `root` (data only; see the
/// module documentation for what this cannot know).
pub fn illumos(root: &HostRoot) -> (HostFacts, Vec<Diagnostic>) {
    let mut facts = HostFacts {
        os: Some("illumos".to_string()),
        ..Default::default()
    };
    let misc = VMM_VTD_MODULE.rsplit_once('/').map_or("/", |(dir, _)| dir);
    if !root.exists(VMM_VTD_MODULE) && root.is_dir(misc) {
        facts.iommu = Some(IommuFacts {
            present: false,
            kind: Some("vt-d".to_string()),
            evidence: format!("{VMM_VTD_MODULE} is not installed"),
        });
    }
    (facts, Vec::new())
}

/// Gives `host` the facts [`illumos`] reads under `root` when its source
/// recorded none (a devinfo snapshot, the live illumos tree). Sysfs
/// sources and snapshots carry their own and are left alone; the boot
/// devices the source found are kept. Returns the diagnostics met.
pub fn fill(host: &mut Host, root: &HostRoot) -> Vec<Diagnostic> {
    if host.facts.iommu.is_some() || host.facts.cpu_vendor.is_some() {
        return Vec::new();
    }
    let (facts, warnings) = illumos(root);
    let boot_devices = std::mem::take(&mut host.facts.boot_devices);
    host.facts = HostFacts {
        boot_devices,
        ..facts
    };
    warnings
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn module_presence() {
        let t = tempfile::tempdir().unwrap();
        let root = HostRoot::new(t.path());
        let (f, _) = illumos(&root);
        assert_eq!(f.iommu, None, "no installed tree: unknown");
        std::fs::create_dir_all(t.path().join("usr/kernel/misc/amd64")).unwrap();
        let (f, _) = illumos(&root);
        assert!(!f.iommu.unwrap().present);
        std::fs::write(t.path().join("usr/kernel/misc/amd64/vmm_vtd"), b"x").unwrap();
        let (f, _) = illumos(&root);
        assert_eq!(f.iommu, None, "module present, hardware unknown");
    }
}
