//! Predicts which functions Linux would put into one IOMMU group, from
//! config space alone.
//!
//! illumos has no IOMMU groups and checks no ACS (nothing in illumos-gate
//! `ppt.c`, `iommu.c` or libppt does), but
//! a device that is not isolated can still reach its neighbours by
//! peer-to-peer DMA, so the prediction is an advisory. The rule is the Linux
//! kernel's (docs/viability.md; `drivers/iommu/iommu.c`
//! `pci_device_group`, `drivers/pci/pci.c` `pci_acs_enabled`,
//! `pci_acs_flags_enabled`, `pci_acs_path_enabled`), re-expressed here:
//!
//! * Starting at the function, climb to the bridge above it as long as that
//!   bridge's path to the root does not have ACS Source Validation, Request
//!   Redirect, Completion Redirect and Upstream Forwarding enabled
//!   (`REQ_ACS_FLAGS`). Where the climb stops is the group's anchor.
//! * A bridge's ACS counts as enabled when the flags it is capable of are
//!   enabled (flags it cannot control are hard-wired on). Root and
//!   downstream ports need an ACS capability; endpoints, upstream ports and
//!   integrated endpoints need one only when they are multifunction;
//!   conventional PCI devices and PCIe-to-PCI bridges never have working ACS.
//! * Functions of a multifunction device without ACS share one group.
//!
//! Kernel quirks (`pci_dev_specific_acs_enabled`, DMA alias quirks) are not
//! modelled: on some chipsets Linux forms smaller groups than predicted here.

use std::collections::BTreeMap;

use pci_core::Address;

use pci_core::caps::PciePortType;

use super::facts::{AcsFacts, FunctionFacts};

/// ACS Source Validation.
pub(crate) const ACS_SV: u16 = 0x0001;
/// ACS Request Redirect.
pub(crate) const ACS_RR: u16 = 0x0004;
/// ACS Completion Redirect.
pub(crate) const ACS_CR: u16 = 0x0008;
/// ACS Upstream Forwarding.
pub(crate) const ACS_UF: u16 = 0x0010;
/// ACS Egress Control: always required when asked, even if not capable.
pub(crate) const ACS_EC: u16 = 0x0020;
/// The flags Linux requires for isolation (`REQ_ACS_FLAGS`).
pub(crate) const REQ_ACS_FLAGS: u16 = ACS_SV | ACS_RR | ACS_CR | ACS_UF;

/// Whether ACS `acs` has every flag of `required` the device can control
/// enabled (Linux `pci_acs_flags_enabled`).
pub(crate) fn acs_flags_enabled(acs: Option<AcsFacts>, required: u16) -> bool {
    let Some(acs) = acs else { return false };
    let needed = required & (acs.cap | ACS_EC);
    acs.ctrl & needed == needed
}

/// The predicted groups of a host.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    /// Group number per function; absent when the facts do not allow a
    /// prediction (config space or extended capabilities unknown on the path).
    group_of: BTreeMap<Address, usize>,
    /// Members of each group.
    members: Vec<Vec<Address>>,
    /// Why a function could not be predicted.
    unknown: BTreeMap<Address, String>,
}

impl Groups {
    /// The predicted group members of `a` (including `a`), when known.
    pub(crate) fn members_of(&self, a: &Address) -> Option<&[Address]> {
        self.group_of.get(a).map(|&g| self.members[g].as_slice())
    }

    /// Why no prediction exists for `a`.
    pub fn unknown_reason(&self, a: &Address) -> Option<&str> {
        self.unknown.get(a).map(String::as_str)
    }
}

/// The topology the prediction walks.
struct Topology<'a> {
    facts: &'a [FunctionFacts],
    /// Index of the bridge directly above each function.
    parent: Vec<Option<usize>>,
}

impl<'a> Topology<'a> {
    fn new(facts: &'a [FunctionFacts]) -> Self {
        // Secondary bus → bridge (first claimant wins on bad data).
        let mut bridge_of_bus: BTreeMap<(u32, u8), usize> = BTreeMap::new();
        for (i, f) in facts.iter().enumerate() {
            if let Some((secondary, _)) = f.bridge_buses {
                if secondary != 0 && secondary != f.address.bus {
                    bridge_of_bus
                        .entry((f.address.domain, secondary))
                        .or_insert(i);
                }
            }
        }
        // illumos paths as a fallback when a bridge has no config space.
        let by_path: BTreeMap<&str, usize> = facts
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.path.as_deref().map(|p| (p, i)))
            .collect();
        let parent = facts
            .iter()
            .map(|f| {
                bridge_of_bus
                    .get(&(f.address.domain, f.address.bus))
                    .copied()
                    .or_else(|| {
                        let p = f.path.as_deref()?;
                        let up = &p[..p.rfind('/')?];
                        by_path.get(up).copied()
                    })
            })
            .collect();
        Topology { facts, parent }
    }

    /// Linux `pci_acs_enabled` without quirks; `None` when unknown.
    fn acs_enabled(&self, i: usize) -> Option<bool> {
        let f = &self.facts[i];
        if !f.depth.has_caps() {
            return None;
        }
        let Some(pcie) = f.pcie else {
            // Conventional PCI: the shared bus lets every device snoop.
            return Some(false);
        };
        let needs_acs = match pcie.port_type {
            PciePortType::PciToPcieBridge
            | PciePortType::PcieToPciBridge
            | PciePortType::RcEventCollector => return Some(false),
            PciePortType::DownstreamPort | PciePortType::RootPort => true,
            PciePortType::Endpoint
            | PciePortType::UpstreamPort
            | PciePortType::LegacyEndpoint
            | PciePortType::RcIntegratedEndpoint => f.multifunction.unwrap_or(false),
            _ => false,
        };
        if !needs_acs {
            return Some(true);
        }
        if !f.depth.has_ext_caps() {
            return None;
        }
        Some(acs_flags_enabled(f.acs, REQ_ACS_FLAGS))
    }

    /// Linux `pci_acs_path_enabled(start, NULL)`.
    fn acs_path_enabled(&self, start: usize) -> Option<bool> {
        let mut cur = start;
        for _ in 0..=self.facts.len() {
            if !self.acs_enabled(cur)? {
                return Some(false);
            }
            match self.parent[cur] {
                Some(p) => cur = p,
                None => return Some(true),
            }
        }
        // A parent loop in bad data: no answer.
        None
    }

    /// Where the upstream climb of function `i` stops, or why it cannot be told.
    fn anchor(&self, i: usize) -> Result<usize, String> {
        let mut cur = i;
        for _ in 0..=self.facts.len() {
            let Some(up) = self.parent[cur] else {
                return Ok(cur);
            };
            match self.acs_path_enabled(up) {
                Some(true) => return Ok(cur),
                Some(false) => cur = up,
                None => {
                    return Err(format!(
                    "ACS of {} upstream is unknown (config space or extended capabilities missing)",
                    self.facts[up].address
                ))
                }
            }
        }
        Err("the bridge topology loops".to_string())
    }
}

/// Predicts the Linux IOMMU groups of all `facts`.
pub fn predict(facts: &[FunctionFacts]) -> Groups {
    let topo = Topology::new(facts);
    let n = facts.len();
    let mut uf: Vec<usize> = (0..n).collect();
    fn find(uf: &mut [usize], mut x: usize) -> usize {
        while uf[x] != x {
            uf[x] = uf[uf[x]];
            x = uf[x];
        }
        x
    }
    let mut anchors: Vec<Option<usize>> = vec![None; n];
    let mut groups = Groups::default();
    for (i, f) in facts.iter().enumerate() {
        if f.depth == super::facts::ConfigDepth::Missing {
            groups
                .unknown
                .insert(f.address, "the source has no config space".to_string());
            continue;
        }
        match topo.anchor(i) {
            Ok(a) => anchors[i] = Some(a),
            Err(why) => {
                groups.unknown.insert(f.address, why);
            }
        }
    }
    // Union each function with its anchor.
    for (i, anchor) in anchors.iter().enumerate() {
        if let Some(a) = *anchor {
            let (ra, ri) = (find(&mut uf, a), find(&mut uf, i));
            uf[ri] = ra;
        }
    }
    // Functions of a multifunction device without ACS share a group
    // (Linux get_pci_function_alias_group).
    let mut by_device: BTreeMap<(u32, u8, u8), Vec<usize>> = BTreeMap::new();
    for (j, g) in facts.iter().enumerate() {
        by_device
            .entry((g.address.domain, g.address.bus, g.address.device))
            .or_default()
            .push(j);
    }
    for i in 0..n {
        let Some(a) = anchors[i] else { continue };
        let fa = &facts[a];
        if !fa.multifunction.unwrap_or(false) {
            continue;
        }
        match topo.acs_enabled(a) {
            Some(false) => {}
            Some(true) => continue,
            None => {
                groups.unknown.insert(
                    facts[i].address,
                    format!("ACS of multifunction device {} is unknown", fa.address),
                );
                anchors[i] = None;
                continue;
            }
        }
        let device = (fa.address.domain, fa.address.bus, fa.address.device);
        for &j in by_device.get(&device).map_or(&[][..], Vec::as_slice) {
            if j != a && topo.acs_enabled(j) == Some(false) {
                let (ra, rj) = (find(&mut uf, a), find(&mut uf, j));
                uf[rj] = ra;
            }
        }
    }
    let mut root_to_group: BTreeMap<usize, usize> = BTreeMap::new();
    for i in 0..n {
        if anchors[i].is_none() {
            continue;
        }
        let r = find(&mut uf, i);
        let g = *root_to_group.entry(r).or_insert_with(|| {
            groups.members.push(Vec::new());
            groups.members.len() - 1
        });
        groups.members[g].push(facts[i].address);
        groups.group_of.insert(facts[i].address, g);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viability::facts::{ConfigDepth, PcieFacts};

    fn addr(s: &str) -> Address {
        s.parse().unwrap()
    }

    fn pcie(a: &str, header: u8, pt: PciePortType, acs: Option<(u16, u16)>) -> FunctionFacts {
        let mut f = FunctionFacts::bare(addr(a), 0x020000, Some(header));
        f.depth = ConfigDepth::Extended;
        f.cap_list = Some(true);
        f.pcie = Some(PcieFacts {
            port_type: pt,
            flr: false,
        });
        f.acs = acs.map(|(cap, ctrl)| AcsFacts { cap, ctrl });
        f
    }

    fn port(a: &str, pt: PciePortType, secondary: u8, acs: Option<(u16, u16)>) -> FunctionFacts {
        let mut f = pcie(a, 1, pt, acs);
        f.class = 0x060400;
        f.bridge_buses = Some((secondary, secondary));
        f
    }

    const FULL: Option<(u16, u16)> = Some((0x5f, 0x1d));

    #[test]
    fn acs_on_every_port_isolates() {
        let facts = vec![
            port("00:1c.0", PciePortType::RootPort, 1, FULL),
            port("00:1c.1", PciePortType::RootPort, 2, FULL),
            pcie("01:00.0", 0, PciePortType::Endpoint, None),
            pcie("02:00.0", 0, PciePortType::Endpoint, None),
        ];
        let g = predict(&facts);
        assert_eq!(g.members_of(&addr("01:00.0")).unwrap(), [addr("01:00.0")]);
        assert_eq!(g.members_of(&addr("02:00.0")).unwrap(), [addr("02:00.0")]);
    }

    #[test]
    fn missing_acs_merges_siblings_of_a_multifunction_port() {
        // Two root ports as functions of one multifunction device without ACS.
        let facts = vec![
            port("00:1c.0", PciePortType::RootPort, 1, None),
            port("00:1c.1", PciePortType::RootPort, 2, None),
            pcie("01:00.0", 0, PciePortType::Endpoint, None),
            pcie("02:00.0", 0, PciePortType::Endpoint, None),
        ];
        let mut facts = facts;
        facts[0].multifunction = Some(true);
        facts[1].multifunction = Some(true);
        let g = predict(&facts);
        let m = g.members_of(&addr("01:00.0")).unwrap();
        assert!(m.contains(&addr("02:00.0")), "{m:?}");
        assert!(m.contains(&addr("00:1c.0")) && m.contains(&addr("00:1c.1")));
    }

    #[test]
    fn only_capable_flags_are_required() {
        // Capable of SV and UF only, both enabled: Linux treats RR/CR as hard-wired.
        assert!(acs_flags_enabled(
            Some(AcsFacts {
                cap: ACS_SV | ACS_UF,
                ctrl: ACS_SV | ACS_UF
            }),
            REQ_ACS_FLAGS
        ));
        assert!(!acs_flags_enabled(
            Some(AcsFacts {
                cap: 0x1f,
                ctrl: ACS_SV
            }),
            REQ_ACS_FLAGS
        ));
        assert!(!acs_flags_enabled(None, REQ_ACS_FLAGS));
    }

    #[test]
    fn root_port_without_acs_takes_the_whole_switch() {
        let facts = vec![
            port("00:01.0", PciePortType::RootPort, 1, None),
            port("01:00.0", PciePortType::UpstreamPort, 2, None),
            port("02:00.0", PciePortType::DownstreamPort, 3, FULL),
            port("02:01.0", PciePortType::DownstreamPort, 4, FULL),
            pcie("03:00.0", 0, PciePortType::Endpoint, None),
            pcie("04:00.0", 0, PciePortType::Endpoint, None),
        ];
        let g = predict(&facts);
        let m = g.members_of(&addr("03:00.0")).unwrap();
        assert!(m.contains(&addr("04:00.0")), "{m:?}");
        assert!(m.contains(&addr("00:01.0")), "{m:?}");
    }

    #[test]
    fn downstream_port_without_acs_groups_its_own_subtree() {
        // Linux climbs from 03:00.0 to the downstream port lacking ACS, then
        // stops because the path from the upstream port is ACS-clean; the
        // sibling downstream port is another device, so not merged.
        let facts = vec![
            port("00:01.0", PciePortType::RootPort, 1, FULL),
            port("01:00.0", PciePortType::UpstreamPort, 2, None),
            port("02:00.0", PciePortType::DownstreamPort, 3, None),
            port("02:01.0", PciePortType::DownstreamPort, 4, FULL),
            pcie("03:00.0", 0, PciePortType::Endpoint, None),
            pcie("03:00.1", 0, PciePortType::Endpoint, None),
            pcie("04:00.0", 0, PciePortType::Endpoint, None),
        ];
        let g = predict(&facts);
        let m = g.members_of(&addr("03:00.0")).unwrap();
        assert_eq!(m, [addr("02:00.0"), addr("03:00.0"), addr("03:00.1")]);
        assert_eq!(g.members_of(&addr("04:00.0")).unwrap(), [addr("04:00.0")]);
    }

    #[test]
    fn unknown_ext_caps_give_no_prediction() {
        let mut rp = port("00:1c.0", PciePortType::RootPort, 1, None);
        rp.depth = ConfigDepth::Standard;
        let facts = vec![rp, pcie("01:00.0", 0, PciePortType::Endpoint, None)];
        let g = predict(&facts);
        assert!(g.members_of(&addr("01:00.0")).is_none());
        assert!(g
            .unknown_reason(&addr("01:00.0"))
            .unwrap()
            .contains("00:1c.0"));
    }

    #[test]
    fn conventional_pci_behind_bridge_shares() {
        let mut b = port("00:1e.0", PciePortType::PcieToPciBridge, 5, None);
        b.pcie = None; // a conventional PCI bridge
        let mut d1 = FunctionFacts::bare(addr("05:00.0"), 0x020000, Some(0));
        d1.depth = ConfigDepth::Standard;
        let mut d2 = d1.clone();
        d2.address = addr("05:01.0");
        let g = predict(&[b, d1, d2]);
        assert_eq!(g.members_of(&addr("05:00.0")).unwrap().len(), 3);
    }
}
