//! Host-wide rules: is there an IOMMU that illumos bhyve can drive, and do
//! the `/dev/ppt*` links resolve?

use pci_core::{CpuVendor, Host, HostFacts};

use super::rules;
use super::Reason;

/// Every host finding for `facts`.
pub fn check(facts: &HostFacts) -> Vec<Reason> {
    let mut out = Vec::new();
    let kind = facts.iommu.as_ref().and_then(|i| i.kind.as_deref());
    // rules::IOMMU_UNSUPPORTED (illumos-gate iommu.c `iommu_init`: only
    // misc/vmm_vtd exists upstream). The CPU vendor decides which IOMMU the platform has.
    let vendor_problem = match (facts.cpu_vendor, kind) {
        (_, Some("amd-vi")) | (Some(CpuVendor::Amd), _) => {
            Some("the host has an AMD CPU (AMD-Vi IOMMU)")
        }
        (Some(CpuVendor::Other), _) => Some("the host CPU is neither Intel nor AMD"),
        _ => None,
    };
    if let Some(what) = vendor_problem {
        out.push(Reason::new(
            &rules::IOMMU_UNSUPPORTED,
            format!("{what}: upstream illumos bhyve drives only Intel VT-d (vmm_vtd); there is no vmm_amdvi"),
        ));
    }
    match &facts.iommu {
        // rules::NO_IOMMU (illumos-gate vmm.c: vm_assign_pptdev fails with ENXIO).
        Some(i) if !i.present => out.push(Reason::new(
            &rules::NO_IOMMU,
            format!(
                "no IOMMU found ({}): bhyve cannot assign devices and prints \"PCI device at N is not using the ppt driver\"",
                i.evidence
            ),
        )),
        Some(i) => {
            // rules::IOMMU_OFF_IN_LINUX (libvirt virt-host-validate,
            // docs/viability.md).
            if i.evidence.contains("not enabled by the running kernel") {
                out.push(Reason::new(&rules::IOMMU_OFF_IN_LINUX, i.evidence.clone()));
            }
        }
        None if facts.cpu_vendor.is_none() => out.push(Reason::new(
            &rules::IOMMU_UNKNOWN,
            "the source records neither the CPU vendor nor the IOMMU, so the VT-d requirement could not be checked",
        )),
        None => out.push(Reason::new(
            &rules::IOMMU_UNKNOWN,
            "the source does not say whether the IOMMU (VT-d) is present and enabled",
        )),
    }
    out
}

/// rules::STALE_PPT_LINK: one finding per `/dev/ppt*` link that does not
/// resolve (pci-illumos `pptdev::unresolved_links` decides).
pub fn links(host: &Host) -> Vec<Reason> {
    pci_illumos::pptdev::unresolved_links(host)
        .into_iter()
        .map(|(_, why)| {
            Reason::new(
                &rules::STALE_PPT_LINK,
                format!(
                    "{why}; zoneadmd resolves every /dev/ppt* link when a VM with pass-through starts, so every such VM fails (\"failed to resolve passthru device\")"
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pci_core::IommuFacts;

    fn codes(f: &HostFacts) -> Vec<&'static str> {
        check(f).into_iter().map(|r| r.code).collect()
    }

    fn iommu(present: bool, kind: Option<&str>, evidence: &str) -> Option<IommuFacts> {
        Some(IommuFacts {
            present,
            kind: kind.map(str::to_string),
            evidence: evidence.to_string(),
        })
    }

    #[test]
    fn intel_with_vtd_is_clean() {
        let f = HostFacts {
            cpu_vendor: Some(CpuVendor::Intel),
            iommu: iommu(true, Some("vt-d"), "/sys/firmware/acpi/tables/DMAR"),
            ..Default::default()
        };
        assert!(codes(&f).is_empty());
    }

    #[test]
    fn no_iommu_fails() {
        let f = HostFacts {
            cpu_vendor: Some(CpuVendor::Intel),
            iommu: iommu(false, None, "no DMAR table"),
            ..Default::default()
        };
        assert_eq!(codes(&f), ["no-iommu"]);
    }

    #[test]
    fn amd_is_unsupported() {
        let f = HostFacts {
            cpu_vendor: Some(CpuVendor::Amd),
            iommu: iommu(true, Some("amd-vi"), "IVRS"),
            ..Default::default()
        };
        assert_eq!(codes(&f), ["iommu-unsupported"]);
        let f = HostFacts {
            cpu_vendor: None,
            iommu: iommu(true, Some("amd-vi"), "IVRS"),
            ..Default::default()
        };
        assert_eq!(codes(&f), ["iommu-unsupported"]);
    }

    #[test]
    fn unknown_warns() {
        assert_eq!(codes(&HostFacts::default()), ["iommu-unknown"]);
    }

    #[test]
    fn linux_off_is_info() {
        let f = HostFacts {
            cpu_vendor: Some(CpuVendor::Intel),
            iommu: iommu(
                true,
                Some("vt-d"),
                "ACPI DMAR table present, but the IOMMU is not enabled by the running kernel",
            ),
            ..Default::default()
        };
        assert_eq!(codes(&f), ["iommu-off-in-linux"]);
    }

    #[test]
    fn links_that_do_not_resolve_fail_the_host() {
        use pci_core::{Address, Function, Identity, IllumosNode, PathSource, PptLink};
        let node = |path: &str, driver: &str| IllumosNode {
            path: path.to_string(),
            path_source: Some(PathSource::Devinfo),
            driver: Some(driver.to_string()),
            ..IllumosNode::default()
        };
        let func = |dev: u8, n: IllumosNode| {
            let ids = Identity {
                vendor: 0x8086,
                device: 0x1502,
                subsystem_vendor: None,
                subsystem: None,
                class: 0x020000,
                revision: 1,
                header_type: Some(0),
            };
            let mut f = Function::new(Address::new(0, 0, dev, 0).unwrap(), ids, Vec::new());
            f.illumos = Some(n);
            f
        };
        let link = |n: u32, path: &str| PptLink {
            dev: format!("/dev/ppt{n}"),
            target: Some(format!("../devices{path}:ppt")),
            path: Some(path.to_string()),
        };
        let mut host = Host {
            functions: vec![
                func(0x19, node("/pci@0,0/pci1028,52c@19", "e1000g")),
                func(0x1a, node("/pci@0,0/pci1028,577@1a", "ppt")),
            ],
            ppt_links: vec![link(0, "/pci@0,0/pci1028,577@1a")],
            ..Host::default()
        };
        assert!(links(&host).is_empty());
        host.ppt_links
            .push(link(1, "/pci@0,0/pci8086,151@1/display@0"));
        host.ppt_links.push(link(2, "/pci@0,0/pci1028,52c@19"));
        let r = links(&host);
        let codes: Vec<&str> = r.iter().map(|r| r.code).collect();
        assert_eq!(codes, ["stale-ppt-link", "stale-ppt-link"]);
        assert!(
            r[0].message.contains("/dev/ppt1") && r[0].message.contains("names no device node")
        );
        assert!(r[1].message.contains("/dev/ppt2") && r[1].message.contains("e1000g holds now"));
        assert!(r
            .iter()
            .all(|r| r.severity == crate::viability::Severity::Fail));
    }
}
