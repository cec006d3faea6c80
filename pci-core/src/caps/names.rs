//! Capability IDs by name: the one table of capability names.
//!
//! Each known ID has a short machine name (snake_case, for JSON) and, where
//! `lspci -v` prints one, a title in the short form of the PCI Code and ID
//! Assignment specification (rev 1.11 §2 and §3; compared against lspci on
//! the real dumps by cli/tests/show_names_lspci.rs). Every ID `lspci` 3.9.0
//! decodes has a name here; unknown IDs have none, so callers print the
//! number instead of guessing.

/// Standard capabilities: (ID, machine name, title).
const CAPS: &[(u8, &str, Option<&str>)] = &[
    (0x00, "null", None),
    (0x01, "pm", Some("Power Management")),
    (0x02, "agp", Some("AGP")),
    (0x03, "vpd", Some("Vital Product Data")),
    (0x04, "slot_id", Some("Slot ID")),
    (0x05, "msi", Some("MSI")),
    (0x06, "compactpci_hotswap", Some("CompactPCI hot-swap")),
    (0x07, "pcix", Some("PCI-X")),
    (0x08, "hypertransport", Some("HyperTransport")),
    (0x09, "vendor", Some("Vendor Specific Information")),
    (0x0a, "debug_port", Some("Debug port")),
    (
        0x0b,
        "compactpci_crc",
        Some("CompactPCI central resource control"),
    ),
    (0x0c, "hotplug", Some("Hot-plug capable")),
    (0x0d, "ssvid", Some("Subsystem")),
    (0x0e, "agp3", Some("AGP3")),
    (0x0f, "secure", Some("Secure device")),
    (0x10, "pcie", Some("Express")),
    (0x11, "msix", Some("MSI-X")),
    (0x12, "sata", Some("SATA HBA")),
    (0x13, "af", Some("PCI Advanced Features")),
    (0x14, "ea", Some("Enhanced Allocation (EA)")),
    (0x15, "fpb", Some("Flattening Portal Bridge")),
];

/// Extended capabilities: (ID, machine name, title).
const EXT_CAPS: &[(u16, &str, Option<&str>)] = &[
    (0x0000, "null", None),
    (0x0001, "aer", Some("Advanced Error Reporting")),
    (0x0002, "vc", Some("Virtual Channel")),
    (0x0003, "dsn", Some("Device Serial Number")),
    (0x0004, "power_budgeting", Some("Power Budgeting")),
    (0x0005, "rclink", Some("Root Complex Link")),
    (0x0006, "rcilink", Some("Root Complex Internal Link")),
    (
        0x0007,
        "rcec",
        Some("Root Complex Event Collector Endpoint Association"),
    ),
    (0x0008, "mfvc", Some("Multi-Function Virtual Channel")),
    (0x0009, "vc2", Some("Virtual Channel")),
    (0x000a, "rcrb", Some("Root Complex Register Block")),
    (0x000b, "vendor", Some("Vendor Specific Information")),
    (0x000c, "cac", Some("Configuration Access Correlation")),
    (0x000d, "acs", Some("Access Control Services")),
    (
        0x000e,
        "ari",
        Some("Alternative Routing-ID Interpretation (ARI)"),
    ),
    (0x000f, "ats", Some("Address Translation Service (ATS)")),
    (
        0x0010,
        "sriov",
        Some("Single Root I/O Virtualization (SR-IOV)"),
    ),
    (0x0011, "mriov", Some("Multi-Root I/O Virtualization")),
    (0x0012, "multicast", Some("Multicast")),
    (0x0013, "pri", Some("Page Request Interface (PRI)")),
    (0x0015, "rebar", Some("Physical Resizable BAR")),
    (0x0016, "dpa", Some("Dynamic Power Allocation")),
    (0x0017, "tph", Some("Transaction Processing Hints")),
    (0x0018, "ltr", Some("Latency Tolerance Reporting")),
    (0x0019, "secondary_pcie", Some("Secondary PCI Express")),
    (0x001a, "pmux", Some("Protocol Multiplexing")),
    (0x001b, "pasid", Some("Process Address Space ID (PASID)")),
    (0x001c, "lnr", Some("LN Requester")),
    (0x001d, "dpc", Some("Downstream Port Containment")),
    (0x001e, "l1pm", Some("L1 PM Substates")),
    (0x001f, "ptm", Some("Precision Time Measurement")),
    (0x0020, "m_pcie", Some("PCI Express over M-PHY")),
    (0x0021, "frs", Some("FRS Queueing")),
    (0x0022, "rtr", Some("Readiness Time Reporting")),
    (0x0023, "dvsec", Some("Designated Vendor-Specific")),
    (0x0024, "vf_rebar", Some("VF Resizable BAR")),
    (0x0025, "data_link", Some("Data Link Feature")),
    (0x0026, "phy_16gt", Some("Physical Layer 16.0 GT/s")),
    (
        0x0027,
        "lane_margining",
        Some("Lane Margining at the Receiver"),
    ),
    (0x0028, "hierarchy_id", Some("Hierarchy ID")),
    (0x0029, "npem", Some("Native PCIe Enclosure Management")),
    (0x002a, "phy_32gt", Some("Physical Layer 32.0 GT/s")),
    (0x002b, "alternate_protocol", Some("Alternate Protocol")),
    (0x002c, "sfi", Some("System Firmware Intermediary")),
    (0x002d, "shadow_functions", Some("Shadow Functions")),
    (0x002e, "doe", Some("Data Object Exchange")),
    (0x002f, "device_3", Some("Device 3")),
    (0x0030, "ide", Some("Integrity and Data Encryption")),
    (0x0031, "phy_64gt", Some("Physical Layer 64.0 GT/s")),
    (0x0032, "flit_logging", None),
    (0x0033, "flit_performance", None),
    (0x0034, "flit_error_injection", None),
];

/// snake_case name of a standard capability ID.
pub(crate) fn cap_name(id: u8) -> Option<&'static str> {
    CAPS.iter().find(|c| c.0 == id).map(|c| c.1)
}

/// snake_case name of an extended capability ID.
pub(crate) fn ext_cap_name(id: u16) -> Option<&'static str> {
    EXT_CAPS.iter().find(|c| c.0 == id).map(|c| c.1)
}

/// Title of a standard capability ID as `lspci -v` shows it (`MSI-X`,
/// `Power Management`), or `None` for an ID without one.
pub fn cap_title(id: u8) -> Option<&'static str> {
    CAPS.iter().find(|c| c.0 == id).and_then(|c| c.2)
}

/// Title of an extended capability ID, as [`cap_title`].
pub fn ext_cap_title(id: u16) -> Option<&'static str> {
    EXT_CAPS.iter().find(|c| c.0 == id).and_then(|c| c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for id in 0..=255u8 {
            if let Some(n) = cap_name(id) {
                assert!(n
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
                assert!(seen.insert(n), "duplicate {n}");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for id in 0..=0xffffu16 {
            if let Some(n) = ext_cap_name(id) {
                assert!(n
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
                assert!(seen.insert(n), "duplicate {n}");
            }
        }
        assert_eq!(cap_name(0x10), Some("pcie"));
        assert_eq!(ext_cap_name(0x10), Some("sriov"));
        assert_eq!(cap_name(0x16), None);
        assert_eq!(cap_title(0x11), Some("MSI-X"));
        assert_eq!(ext_cap_title(0x0009), Some("Virtual Channel"));
        assert_eq!(cap_title(0x00), None);
    }
}
