//! Per-rule tests on hand-built facts: each rule fires on one case and not
//! on its healthy twin. Config-byte tests live in ppt-config/tests/viability_rules.rs.

use super::*;
use crate::viability::facts::{AcsFacts, BarFact, PcieFacts};
use crate::viability::isolation;
use crate::viability::Severity;
use pci_illumos::binding::BoundBy;

/// The next boot binds the function to ppt by a path alias.
fn to_ppt() -> Prediction {
    Prediction::decided(
        "/pci@0,0/x@1",
        "ppt",
        BoundBy::PathAlias,
        "/etc/ppt_aliases",
        1,
    )
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

/// A healthy PCIe endpoint: MSI-X, FLR, one 16 KiB memory BAR.
fn good(a: &str) -> FunctionFacts {
    let mut f = FunctionFacts::bare(addr(a), 0x020000, Some(0));
    f.depth = ConfigDepth::Extended;
    f.cap_list = Some(true);
    f.msi = Some(true);
    f.msix = Some(true);
    f.pcie = Some(PcieFacts {
        port_type: pci_core::caps::PciePortType::Endpoint,
        flr: true,
    });
    f.bars = vec![BarFact {
        index: 0,
        kind: BarKind::Mem64,
        prefetchable: false,
        base: 0xf000_0000,
        size: Some(0x4000),
    }];
    f.driver = Some("igb".into());
    f
}

struct World {
    host: HostFacts,
    all: Vec<FunctionFacts>,
    planned: BTreeSet<Address>,
    next: BTreeMap<Address, Prediction>,
}

impl World {
    fn new(all: Vec<FunctionFacts>) -> Self {
        World {
            host: HostFacts::default(),
            all,
            planned: BTreeSet::new(),
            next: BTreeMap::new(),
        }
    }

    fn codes(&self, i: usize) -> Vec<&'static str> {
        let groups = isolation::predict(&self.all);
        let ctx = FunctionContext {
            host: &self.host,
            all: &self.all,
            by_address: &index(&self.all),
            groups: &groups,
            planned: &self.planned,
            next_boot: &self.next,
        };
        check(&self.all[i], &ctx)
            .into_iter()
            .map(|r| r.code)
            .collect()
    }
}

fn codes_of(f: FunctionFacts) -> Vec<&'static str> {
    World::new(vec![f]).codes(0)
}

#[test]
fn healthy_endpoint_has_no_findings() {
    assert!(codes_of(good("01:00.0")).is_empty());
}

#[test]
fn no_msi() {
    let mut f = good("01:00.0");
    f.msi = Some(false);
    f.msix = Some(false);
    assert!(codes_of(f).contains(&"no-msi"));
    let mut f = good("01:00.0");
    f.msi = Some(false);
    assert!(!codes_of(f).contains(&"no-msi"), "MSI-X alone is enough");
    let mut f = good("01:00.0");
    f.cap_list = Some(false);
    f.msi = Some(false);
    f.msix = Some(false);
    f.pcie = None;
    let c = codes_of(f);
    assert_eq!(c.iter().filter(|c| **c == "no-msi").count(), 1);
}

#[test]
fn bar_not_page_aligned() {
    let mut f = good("01:00.0");
    f.bars[0].size = Some(256);
    assert!(codes_of(f).contains(&"bar-not-page-aligned"));
    let mut f = good("01:00.0");
    f.bars[0].base = 0xf000_0800;
    f.bars[0].size = None;
    let c = codes_of(f);
    assert!(c.contains(&"bar-not-page-aligned"));
    assert!(!c.contains(&"bar-size-unknown"), "{c:?}");
    let mut f = good("01:00.0");
    f.bars[0].size = Some(0x1000);
    assert!(!codes_of(f).contains(&"bar-not-page-aligned"));
}

#[test]
fn bar_size_unknown() {
    let mut f = good("01:00.0");
    f.bars[0].size = None;
    assert!(codes_of(f).contains(&"bar-size-unknown"));
    assert!(!codes_of(good("01:00.0")).contains(&"bar-size-unknown"));
}

#[test]
fn bar_unassigned() {
    let mut f = good("01:00.0");
    f.bars[0].base = 0;
    assert!(codes_of(f).contains(&"bar-unassigned"));
}

#[test]
fn io_bar() {
    let mut f = good("01:00.0");
    f.bars.push(BarFact {
        index: 2,
        kind: BarKind::Io,
        prefetchable: false,
        base: 0xe000,
        size: Some(32),
    });
    let c = codes_of(f);
    assert!(c.contains(&"io-bar"));
    assert!(
        !c.contains(&"bar-not-page-aligned"),
        "I/O BARs are emulated: {c:?}"
    );
}

#[test]
fn large_bar() {
    let mut f = good("01:00.0");
    f.bars[0].size = Some(1 << 33);
    assert!(codes_of(f).contains(&"large-bar"));
    let mut f = good("01:00.0");
    f.rebar = true;
    assert!(codes_of(f).contains(&"large-bar"));
    let mut f = good("01:00.0");
    f.bars[0].size = Some(256 << 20);
    assert!(!codes_of(f).contains(&"large-bar"));
}

#[test]
fn bridge_and_host_critical() {
    let mut f = good("00:01.0");
    f.header_layout = Some(1);
    f.class = 0x060400;
    let c = codes_of(f);
    assert!(c.contains(&"bridge"));
    assert!(!c.contains(&"host-critical"));
    let mut f = good("00:00.0");
    f.class = 0x060000;
    assert!(codes_of(f).contains(&"host-critical"));
    let mut f = good("00:1f.0");
    f.class = 0x060100;
    assert!(codes_of(f).contains(&"host-critical"));
    assert!(!codes_of(good("00:1f.2")).contains(&"host-critical"));
}

#[test]
fn host_critical_boot_pool() {
    let mut f = good("00:17.0");
    f.path = Some("/pci@0,0/pci15d9,981@17".into());
    let mut w = World::new(vec![f]);
    w.host.boot_devices = vec!["/pci@0,0/pci15d9,981@17/disk@0,0".into()];
    assert!(w.codes(0).contains(&"host-critical"));
    w.host.boot_devices = vec!["/pci@0,0/pci15d9,981@170/disk@0,0".into()];
    assert!(!w.codes(0).contains(&"host-critical"));
}

#[test]
fn no_reset() {
    let mut f = good("01:00.0");
    f.pcie = Some(PcieFacts {
        port_type: pci_core::caps::PciePortType::Endpoint,
        flr: false,
    });
    f.pm_no_soft_reset = Some(false);
    let c = codes_of(f);
    assert!(c.contains(&"no-reset"));
    assert!(c.contains(&"other-reset"));
    let mut f = good("01:00.0");
    f.pcie = None;
    f.af_flr = true;
    let c = codes_of(f);
    assert!(c.contains(&"no-reset"), "ppt ignores AF FLR: {c:?}");
    assert!(!codes_of(good("01:00.0")).contains(&"no-reset"));
}

#[test]
fn config_unknown_never_ok() {
    let mut f = good("01:00.0");
    f.depth = ConfigDepth::Missing;
    f.msi = None;
    f.msix = None;
    let c = codes_of(f);
    assert_eq!(c, ["config-unknown"]);
    let mut f = good("01:00.0");
    f.depth = ConfigDepth::Header;
    assert!(codes_of(f).contains(&"config-unknown"));
}

#[test]
fn caps_broken() {
    let mut f = good("01:00.0");
    f.decode_errors = vec!["pointer 0x3 is outside 0x40..0xff".into()];
    assert!(codes_of(f).contains(&"config-broken"));
}

#[test]
fn no_assigned_addresses() {
    let mut f = good("01:00.0");
    f.path = Some("/pci@0,0/pci8086,151@1/display@0".into());
    f.path_from_devinfo = true;
    f.assigned_addresses = Some(false);
    assert!(codes_of(f.clone()).contains(&"no-assigned-addresses"));
    f.assigned_addresses = Some(true);
    assert!(!codes_of(f).contains(&"no-assigned-addresses"));
}

#[test]
fn console_vga() {
    let mut f = good("00:02.0");
    f.class = 0x030000;
    f.boot_vga = Some(true);
    assert!(codes_of(f.clone()).contains(&"console-vga"));
    f.boot_vga = Some(false);
    assert!(!codes_of(f).contains(&"console-vga"));
}

#[test]
fn sriov() {
    let mut f = good("01:00.0");
    f.sriov = Some((8, 2));
    assert!(codes_of(f).contains(&"sriov-pf-with-vfs"));
    let mut f = good("01:00.0");
    f.sriov = Some((8, 0));
    assert!(!codes_of(f).contains(&"sriov-pf-with-vfs"));
    let mut f = good("01:10.0");
    f.physfn = Some(addr("01:00.0"));
    assert!(codes_of(f).contains(&"sriov-vf"));
}

#[test]
fn siblings_left_behind() {
    let mut gpu = good("01:00.0");
    gpu.multifunction = Some(true);
    let mut audio = good("01:00.1");
    audio.multifunction = Some(true);
    audio.driver = Some("hdaudio".into());
    let mut w = World::new(vec![gpu, audio]);
    w.planned.insert(addr("01:00.0"));
    let c = w.codes(0);
    assert!(c.contains(&"siblings-left-behind"), "{c:?}");
    assert!(
        !w.codes(1).contains(&"siblings-left-behind"),
        "not planned itself"
    );
    w.planned.insert(addr("01:00.1"));
    assert!(!w.codes(0).contains(&"siblings-left-behind"));
}

#[test]
fn shared_isolation() {
    let mut rp = good("00:1c.0");
    rp.header_layout = Some(1);
    rp.class = 0x060400;
    rp.pcie = Some(PcieFacts {
        port_type: pci_core::caps::PciePortType::RootPort,
        flr: false,
    });
    rp.bridge_buses = Some((1, 1));
    let a = good("01:00.0");
    let b = good("01:01.0");
    // No ACS on the root port: both endpoints climb to it and share.
    let w = World::new(vec![rp.clone(), a.clone(), b.clone()]);
    assert!(w.codes(1).contains(&"shared-isolation"));
    rp.acs = Some(AcsFacts {
        cap: 0x1f,
        ctrl: 0x1d,
    });
    let w = World::new(vec![rp, a, b]);
    assert!(!w.codes(1).contains(&"shared-isolation"));
}

#[test]
fn ppt_now_and_next_boot() {
    let mut f = good("01:00.0");
    f.driver = Some("ppt".into());
    let mut w = World::new(vec![f]);
    assert!(w.codes(0).contains(&"ppt-now"));
    w.next.insert(addr("01:00.0"), to_ppt());
    let c = w.codes(0);
    assert!(c.contains(&"next-boot"), "{c:?}");
}

#[test]
fn severities_follow_the_rule_table() {
    let mut f = good("01:00.0");
    f.msi = Some(false);
    f.msix = Some(false);
    let w = World::new(vec![f]);
    let groups = isolation::predict(&w.all);
    let ctx = FunctionContext {
        host: &w.host,
        all: &w.all,
        by_address: &index(&w.all),
        groups: &groups,
        planned: &w.planned,
        next_boot: &w.next,
    };
    let r = check(&w.all[0], &ctx);
    let no_msi = r.iter().find(|r| r.code == "no-msi").unwrap();
    assert_eq!(no_msi.severity, Severity::Fail);
    assert!(!no_msi.hint.is_empty());
}
