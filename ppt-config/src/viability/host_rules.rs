//! Host-wide rules: is there an IOMMU that illumos bhyve can drive?

use pci_core::{CpuVendor, HostFacts};

use super::rules;
use super::Reason;

/// Every host finding for `facts`.
pub fn check(facts: &HostFacts) -> Vec<Reason> {
    let mut out = Vec::new();
    let kind = facts.iommu.as_ref().and_then(|i| i.kind.as_deref());
    // rules::IOMMU_UNSUPPORTED (illumos.md §2.3: only misc/vmm_vtd exists
    // upstream). The CPU vendor decides which IOMMU the platform has.
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
        // rules::NO_IOMMU (illumos.md §2.3: vm_assign_pptdev fails with ENXIO).
        Some(i) if !i.present => out.push(Reason::new(
            &rules::NO_IOMMU,
            format!(
                "no IOMMU found ({}): bhyve cannot assign devices and prints \"PCI device at N is not using the ppt driver\"",
                i.evidence
            ),
        )),
        Some(i) => {
            // rules::IOMMU_OFF_IN_LINUX (viability.md row 2).
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
}
