//! Short machine names of capability IDs, for JSON.
//!
//! Every ID `lspci` 3.9.0 decodes has a name here (PCI Code and ID
//! Assignment spec rev 1.11 §2 and §3); unknown IDs have none, so callers
//! print the number instead of guessing.

/// snake_case name of a standard capability ID.
pub fn cap_name(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "null",
        0x01 => "pm",
        0x02 => "agp",
        0x03 => "vpd",
        0x04 => "slot_id",
        0x05 => "msi",
        0x06 => "compactpci_hotswap",
        0x07 => "pcix",
        0x08 => "hypertransport",
        0x09 => "vendor",
        0x0a => "debug_port",
        0x0b => "compactpci_crc",
        0x0c => "hotplug",
        0x0d => "ssvid",
        0x0e => "agp3",
        0x0f => "secure",
        0x10 => "pcie",
        0x11 => "msix",
        0x12 => "sata",
        0x13 => "af",
        0x14 => "ea",
        0x15 => "fpb",
        _ => return None,
    })
}

/// snake_case name of an extended capability ID.
pub fn ext_cap_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x0000 => "null",
        0x0001 => "aer",
        0x0002 => "vc",
        0x0003 => "dsn",
        0x0004 => "power_budgeting",
        0x0005 => "rclink",
        0x0006 => "rcilink",
        0x0007 => "rcec",
        0x0008 => "mfvc",
        0x0009 => "vc2",
        0x000a => "rcrb",
        0x000b => "vendor",
        0x000c => "cac",
        0x000d => "acs",
        0x000e => "ari",
        0x000f => "ats",
        0x0010 => "sriov",
        0x0011 => "mriov",
        0x0012 => "multicast",
        0x0013 => "pri",
        0x0015 => "rebar",
        0x0016 => "dpa",
        0x0017 => "tph",
        0x0018 => "ltr",
        0x0019 => "secondary_pcie",
        0x001a => "pmux",
        0x001b => "pasid",
        0x001c => "lnr",
        0x001d => "dpc",
        0x001e => "l1pm",
        0x001f => "ptm",
        0x0020 => "m_pcie",
        0x0021 => "frs",
        0x0022 => "rtr",
        0x0023 => "dvsec",
        0x0024 => "vf_rebar",
        0x0025 => "data_link",
        0x0026 => "phy_16gt",
        0x0027 => "lane_margining",
        0x0028 => "hierarchy_id",
        0x0029 => "npem",
        0x002a => "phy_32gt",
        0x002b => "alternate_protocol",
        0x002c => "sfi",
        0x002d => "shadow_functions",
        0x002e => "doe",
        0x002f => "device_3",
        0x0030 => "ide",
        0x0031 => "phy_64gt",
        0x0032 => "flit_logging",
        0x0033 => "flit_performance",
        0x0034 => "flit_error_injection",
        _ => return None,
    })
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
    }
}
