//! Every rule from hand-made config bytes: one case that triggers it and
//! one that does not, evaluated end to end (`FunctionFacts::extract` through
//! pci-core's decoders, then `viability::evaluate`).

// Test helpers may unwrap: a panic is a test failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use pci_core::{Address, CpuVendor, Function, Host, HostFacts, Identity, IllumosNode, IommuFacts};
use pci_core::{PathSource, PropValue};
use pci_illumos::binding::BoundBy;
use pci_illumos::matches::{Lint, LintCode};
use ppt_config::viability::function_rules::Prediction;
use ppt_config::viability::pending::{AliasReport, Pending, VmDevice, VmPlan};
use ppt_config::viability::{evaluate, Plan, Report, Verdict};

/// Builds 4 KiB of config space by hand.
#[derive(Clone)]
struct Cfg {
    b: Vec<u8>,
    next_cap: usize,
    last_cap: Option<usize>,
    next_ext: usize,
    last_ext: Option<usize>,
}

impl Cfg {
    fn new(vendor: u16, device: u16, class: u32, header: u8) -> Cfg {
        let mut b = vec![0u8; 4096];
        b[0..2].copy_from_slice(&vendor.to_le_bytes());
        b[2..4].copy_from_slice(&device.to_le_bytes());
        b[0x08] = 1;
        b[0x09] = class as u8;
        b[0x0a] = (class >> 8) as u8;
        b[0x0b] = (class >> 16) as u8;
        b[0x0e] = header;
        Cfg {
            b,
            next_cap: 0x40,
            last_cap: None,
            next_ext: 0x100,
            last_ext: None,
        }
    }

    fn endpoint() -> Cfg {
        Cfg::new(0x8086, 0x10d3, 0x020000, 0)
    }

    fn w32(&mut self, off: usize, v: u32) -> &mut Self {
        self.b[off..off + 4].copy_from_slice(&v.to_le_bytes());
        self
    }

    fn bar32(&mut self, index: usize, v: u32) -> &mut Self {
        self.w32(0x10 + 4 * index, v)
    }

    fn bar64(&mut self, index: usize, v: u64) -> &mut Self {
        self.w32(0x10 + 4 * index, (v as u32) | 0x4);
        self.w32(0x14 + 4 * index, (v >> 32) as u32)
    }

    /// Appends a standard capability with `body` after its 2-byte header.
    fn cap(&mut self, id: u8, body: &[u8]) -> &mut Self {
        let off = self.next_cap;
        self.b[off] = id;
        self.b[off + 1] = 0;
        self.b[off + 2..off + 2 + body.len()].copy_from_slice(body);
        match self.last_cap {
            Some(prev) => self.b[prev + 1] = off as u8,
            None => {
                self.b[0x34] = off as u8;
                self.b[0x06] |= 0x10; // Status: capability list
            }
        }
        self.last_cap = Some(off);
        self.next_cap = (off + 2 + body.len() + 3) & !3;
        self
    }

    fn ext(&mut self, id: u16, body: &[u8]) -> &mut Self {
        let off = self.next_ext;
        let header = u32::from(id) | (1 << 16);
        self.w32(off, header);
        self.b[off + 4..off + 4 + body.len()].copy_from_slice(body);
        if let Some(prev) = self.last_ext {
            let h = u32::from_le_bytes(self.b[prev..prev + 4].try_into().unwrap());
            self.w32(prev, h | ((off as u32) << 20));
        }
        self.last_ext = Some(off);
        self.next_ext = (off + 4 + body.len() + 3) & !3;
        self
    }

    fn pm(&mut self, no_soft_reset: bool) -> &mut Self {
        let pmcsr: u16 = if no_soft_reset { 0x0008 } else { 0 };
        let mut body = vec![0x03, 0x00];
        body.extend_from_slice(&pmcsr.to_le_bytes());
        body.extend_from_slice(&[0, 0]);
        self.cap(0x01, &body)
    }

    fn msi(&mut self) -> &mut Self {
        self.cap(0x05, &[0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    fn msix(&mut self) -> &mut Self {
        self.cap(0x11, &[0x03, 0x00, 0x00, 0x20, 0, 0, 0x00, 0x30, 0, 0])
    }

    /// PCI Express capability version 2 with `port_type` and DevCap FLR.
    fn pcie(&mut self, port_type: u8, flr: bool) -> &mut Self {
        let mut body = vec![0u8; 0x3a];
        body[0] = 0x02 | (port_type << 4);
        let devcap: u32 = if flr { 1 << 28 } else { 0 };
        body[2..6].copy_from_slice(&devcap.to_le_bytes());
        self.cap(0x10, &body)
    }

    fn af(&mut self, flr: bool) -> &mut Self {
        self.cap(0x13, &[0x06, if flr { 0x03 } else { 0x01 }, 0, 0])
    }

    fn acs(&mut self, cap: u16, ctrl: u16) -> &mut Self {
        let mut body = cap.to_le_bytes().to_vec();
        body.extend_from_slice(&ctrl.to_le_bytes());
        self.ext(0x000d, &body)
    }

    fn sriov(&mut self, total: u16, num: u16) -> &mut Self {
        let mut body = vec![0u8; 0x3c];
        body[0x0c - 4..0x0e - 4].copy_from_slice(&total.to_le_bytes()); // InitialVFs
        body[0x0e - 4..0x10 - 4].copy_from_slice(&total.to_le_bytes()); // TotalVFs
        body[0x10 - 4..0x12 - 4].copy_from_slice(&num.to_le_bytes()); // NumVFs
        self.ext(0x0010, &body)
    }

    fn rebar(&mut self) -> &mut Self {
        // One entry: BAR 0, 256 MiB supported, 1 BAR in the control register.
        let mut body = vec![0u8; 8];
        body[0..4].copy_from_slice(&(1u32 << 12).to_le_bytes());
        body[4..8].copy_from_slice(&((1u32 << 5) | (8 << 8)).to_le_bytes());
        self.ext(0x0015, &body)
    }

    fn bridge_buses(&mut self, primary: u8, secondary: u8, subordinate: u8) -> &mut Self {
        self.b[0x18] = primary;
        self.b[0x19] = secondary;
        self.b[0x1a] = subordinate;
        self
    }

    /// A healthy PCIe endpoint: PM, MSI, MSI-X, PCIe with FLR, 16 KiB BAR 0.
    fn good() -> Cfg {
        let mut c = Cfg::endpoint();
        c.bar64(0, 0xf000_0000).pm(false).msi().msix().pcie(0, true);
        c
    }
}

fn func(addr: &str, cfg: &Cfg, sizes: &[u64]) -> Function {
    let b = &cfg.b;
    let ids = Identity {
        vendor: u16::from_le_bytes([b[0], b[1]]),
        device: u16::from_le_bytes([b[2], b[3]]),
        subsystem_vendor: None,
        subsystem: None,
        class: u32::from(b[0x09]) | (u32::from(b[0x0a]) << 8) | (u32::from(b[0x0b]) << 16),
        revision: b[0x08],
        header_type: Some(b[0x0e]),
    };
    let mut f = Function::new(addr.parse().unwrap(), ids, b.clone());
    for (i, s) in sizes.iter().enumerate() {
        f.bar_sizes[i] = (*s != 0).then_some(*s);
    }
    f
}

fn good_host_facts() -> HostFacts {
    HostFacts {
        os: Some("linux".into()),
        cpu_vendor: Some(CpuVendor::Intel),
        iommu: Some(IommuFacts {
            present: true,
            kind: Some("vt-d".into()),
            evidence: "test".into(),
        }),
        boot_devices: Vec::new(),
    }
}

fn host(functions: Vec<Function>) -> Host {
    Host {
        functions,
        facts: good_host_facts(),
        ..Default::default()
    }
}

fn report(h: &Host, plan: &Plan) -> Report {
    evaluate(h, plan)
}

fn codes_for(h: &Host, plan: &Plan, slot: &str) -> Vec<&'static str> {
    let slot: Address = slot.parse().unwrap();
    let r = report(h, plan);
    r.functions
        .iter()
        .find(|f| f.slot == slot.to_string())
        .map(|f| f.reasons.iter().map(|r| r.code).collect())
        .unwrap_or_else(|| panic!("{slot} not in report"))
}

fn codes(f: Function) -> Vec<&'static str> {
    let slot = f.address.to_string();
    codes_for(&host(vec![f]), &Plan::default(), &slot)
}

const SIZES_16K: &[u64] = &[0x4000];

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

#[test]
fn good_endpoint_is_ok() {
    let h = host(vec![func("01:00.0", &Cfg::good(), SIZES_16K)]);
    let r = report(&h, &Plan::default());
    assert_eq!(r.functions[0].verdict, Verdict::Ok, "{:?}", r.functions[0]);
    assert_eq!(r.host.verdict, Verdict::Ok);
    assert_eq!(r.config.verdict, Verdict::Ok);
    assert!(!r.has_failure());
}

#[test]
fn no_msi_fires_without_msi_and_msix() {
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000).pm(false).pcie(0, true);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"no-msi"), "{got:?}");
    // MSI-X only is enough.
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000).msix().pcie(0, true);
    assert!(!codes(func("01:00.0", &c, SIZES_16K)).contains(&"no-msi"));
    // No capability list at all (Status bit 4 clear).
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"no-msi"), "{got:?}");
}

#[test]
fn bar_not_page_aligned_fires_on_small_or_misaligned_bars() {
    let mut c = Cfg::good();
    c.bar32(2, 0xf100_0000);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 256]));
    assert!(got.contains(&"bar-not-page-aligned"), "{got:?}");
    let mut c = Cfg::good();
    c.bar32(2, 0xf100_0800);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 0]));
    assert!(got.contains(&"bar-not-page-aligned"), "{got:?}");
    let mut c = Cfg::good();
    c.bar32(2, 0xf100_1000);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 0x1000]));
    assert!(!got.contains(&"bar-not-page-aligned"), "{got:?}");
}

#[test]
fn bar_size_unknown_fires_without_sizes() {
    let got = codes(func("01:00.0", &Cfg::good(), &[]));
    assert!(got.contains(&"bar-size-unknown"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"bar-size-unknown"));
}

#[test]
fn io_bar_fires_on_io_bars() {
    let mut c = Cfg::good();
    c.bar32(2, 0xe001);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 32]));
    assert!(got.contains(&"io-bar"), "{got:?}");
    assert!(!got.contains(&"bar-not-page-aligned"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"io-bar"));
}

#[test]
fn large_bar_fires_on_4g_bars_and_rebar() {
    let got = codes(func("01:00.0", &Cfg::good(), &[8 << 30]));
    assert!(got.contains(&"large-bar"), "{got:?}");
    let mut c = Cfg::good();
    c.rebar();
    assert!(codes(func("01:00.0", &c, SIZES_16K)).contains(&"large-bar"));
    assert!(!codes(func("01:00.0", &Cfg::good(), &[256 << 20])).contains(&"large-bar"));
}

#[test]
fn no_reset_fires_without_pcie_flr() {
    let mut c = Cfg::endpoint();
    c.bar64(0, 0xf000_0000).pm(false).msi().pcie(0, false);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(
        got.contains(&"no-reset") && got.contains(&"other-reset"),
        "{got:?}"
    );
    // AF FLR does not help ppt (ppt_flr reads only PCIe DevCap).
    let mut c = Cfg::endpoint();
    c.bar64(0, 0xf000_0000).msi().af(true);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"no-reset"), "{got:?}");
    // PM with NoSoftRst set: no other reset either.
    let mut c = Cfg::endpoint();
    c.bar64(0, 0xf000_0000).pm(true).msi().pcie(0, false);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(
        got.contains(&"no-reset") && !got.contains(&"other-reset"),
        "{got:?}"
    );
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"no-reset"));
}

#[test]
fn bridge_fires_on_type_1_headers() {
    let mut c = Cfg::new(0x8086, 0x1901, 0x060400, 1);
    c.msi().pcie(4, false).bridge_buses(0, 1, 1);
    let got = codes_for(
        &host(vec![func("00:01.0", &c, &[])]),
        &Plan {
            selected: vec!["00:01.0".parse().unwrap()],
            ..Default::default()
        },
        "00:01.0",
    );
    assert!(got.contains(&"bridge"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"bridge"));
}

#[test]
fn bridges_are_not_listed_by_default() {
    let mut c = Cfg::new(0x8086, 0x1901, 0x060400, 1);
    c.msi().pcie(4, false).bridge_buses(0, 1, 1);
    let h = host(vec![
        func("00:01.0", &c, &[]),
        func("01:00.0", &Cfg::good(), SIZES_16K),
    ]);
    let r = report(&h, &Plan::default());
    let slots: Vec<&str> = r.functions.iter().map(|f| f.slot.as_str()).collect();
    assert_eq!(slots, ["0000:01:00.0"]);
}

#[test]
fn host_critical_fires_on_host_and_isa_bridges() {
    let mut c = Cfg::new(0x8086, 0x29c0, 0x060000, 0);
    c.bar32(0, 0);
    assert!(codes(func("00:00.0", &c, &[])).contains(&"host-critical"));
    let c = Cfg::new(0x8086, 0x2918, 0x060100, 0x80);
    assert!(codes(func("00:1f.0", &c, &[])).contains(&"host-critical"));
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"host-critical"));
}

#[test]
fn console_vga_fires_on_boot_vga() {
    let mut c = Cfg::good();
    c.b[0x0b] = 0x03;
    c.b[0x0a] = 0x00;
    let mut f = func("00:02.0", &c, SIZES_16K);
    f.boot_vga = Some(true);
    assert!(codes(f.clone()).contains(&"console-vga"));
    f.boot_vga = Some(false);
    assert!(!codes(f).contains(&"console-vga"));
}

#[test]
fn sriov_pf_with_vfs() {
    let mut c = Cfg::good();
    c.sriov(8, 4);
    assert!(codes(func("01:00.0", &c, SIZES_16K)).contains(&"sriov-pf-with-vfs"));
    let mut c = Cfg::good();
    c.sriov(8, 0);
    assert!(!codes(func("01:00.0", &c, SIZES_16K)).contains(&"sriov-pf-with-vfs"));
}

#[test]
fn no_assigned_addresses_on_devinfo_nodes() {
    let mut f = func("01:00.0", &Cfg::good(), SIZES_16K);
    f.illumos = Some(IllumosNode {
        path: "/pci@0,0/pci8086,151@1/display@0".into(),
        path_source: Some(PathSource::Devinfo),
        ..Default::default()
    });
    assert!(codes(f.clone()).contains(&"no-assigned-addresses"));
    f.illumos.as_mut().unwrap().props.insert(
        "assigned-addresses".into(),
        PropValue::Ints(vec![1, 2, 3, 4, 5]),
    );
    assert!(!codes(f).contains(&"no-assigned-addresses"));
}

#[test]
fn config_unknown_for_missing_or_64_byte_config() {
    let mut f = func("01:00.0", &Cfg::good(), SIZES_16K);
    f.config.clear();
    let got = codes(f);
    assert_eq!(got, ["config-unknown"]);
    let mut f = func("01:00.0", &Cfg::good(), SIZES_16K);
    f.config.truncate(64);
    let got = codes(f);
    assert!(got.contains(&"config-unknown"), "{got:?}");
    assert!(!got.contains(&"no-msi"), "unknown is not absent: {got:?}");
}

#[test]
fn config_broken_on_a_looping_chain() {
    let mut c = Cfg::good();
    let last = c.last_cap.unwrap();
    c.b[last + 1] = 0x40; // points back to the first capability
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"config-broken"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"config-broken"));
}

fn gpu_pair() -> Vec<Function> {
    let mut gpu = Cfg::good();
    gpu.b[0x0e] = 0x80;
    let mut audio = Cfg::good();
    audio.b[0x0e] = 0x80;
    audio.b[0x0b] = 0x04;
    audio.b[0x0a] = 0x03;
    let mut a = func("01:00.0", &gpu, SIZES_16K);
    a.driver = Some("nvidia".into());
    let mut b = func("01:00.1", &audio, SIZES_16K);
    b.driver = Some("snd_hda_intel".into());
    vec![a, b]
}

#[test]
fn siblings_left_behind_when_only_function_0_is_reserved() {
    let h = host(gpu_pair());
    let mut plan = Plan::default();
    plan.next_boot.insert("01:00.0".parse().unwrap(), to_ppt());
    let got = codes_for(&h, &plan, "01:00.0");
    assert!(got.contains(&"siblings-left-behind"), "{got:?}");
    plan.next_boot.insert("01:00.1".parse().unwrap(), to_ppt());
    let got = codes_for(&h, &plan, "01:00.0");
    assert!(!got.contains(&"siblings-left-behind"), "{got:?}");
}

#[test]
fn shared_isolation_behind_a_root_port_without_acs() {
    let mk = |acs: bool| {
        let mut rp = Cfg::new(0x8086, 0x1901, 0x060400, 1);
        rp.msi().pcie(4, false).bridge_buses(0, 1, 1);
        if acs {
            rp.acs(0x1f, 0x1d);
        }
        host(vec![
            func("00:01.0", &rp, &[]),
            func("01:00.0", &Cfg::good(), SIZES_16K),
            func("01:01.0", &Cfg::good(), SIZES_16K),
        ])
    };
    let got = codes_for(&mk(false), &Plan::default(), "01:00.0");
    assert!(got.contains(&"shared-isolation"), "{got:?}");
    let got = codes_for(&mk(true), &Plan::default(), "01:00.0");
    assert!(!got.contains(&"shared-isolation"), "{got:?}");
}

#[test]
fn host_rules_from_facts() {
    let mut h = host(vec![func("01:00.0", &Cfg::good(), SIZES_16K)]);
    h.facts.iommu.as_mut().unwrap().present = false;
    let r = report(&h, &Plan::default());
    assert_eq!(r.host.verdict, Verdict::Fail);
    assert_eq!(r.host.reasons[0].code, "no-iommu");
    assert!(r.has_failure());
    h.facts = HostFacts {
        cpu_vendor: Some(CpuVendor::Amd),
        ..good_host_facts()
    };
    let r = report(&h, &Plan::default());
    assert_eq!(r.host.reasons[0].code, "iommu-unsupported");
}

fn with_path(mut f: Function, path: &str, driver: &str) -> Function {
    f.driver = Some(driver.into());
    f.illumos = Some(IllumosNode {
        path: path.into(),
        path_source: Some(PathSource::Devinfo),
        driver: Some(driver.into()),
        props: BTreeMap::from([(
            "assigned-addresses".to_string(),
            PropValue::Ints(vec![0; 5]),
        )]),
        ..Default::default()
    });
    f
}

fn vm(devices: &[(&str, &str)]) -> VmPlan {
    VmPlan {
        file: "vm.json".into(),
        name: Some("gpu-vm".into()),
        devices: devices
            .iter()
            .enumerate()
            .map(|(i, (p, s))| VmDevice {
                index: i,
                path: (*p).into(),
                pci_slot: Some((*s).into()),
                slot: {
                    let n: Vec<u8> = s.split(':').map(|x| x.parse().unwrap()).collect();
                    Some((n[0], n[1], n[2]))
                },
            })
            .collect(),
        errors: Vec::new(),
    }
}

fn config_codes(h: &Host, plan: &Plan) -> Vec<&'static str> {
    report(h, plan)
        .config
        .reasons
        .iter()
        .map(|r| r.code)
        .collect()
}

#[test]
fn ppt_not_bound_and_vm_device_missing() {
    let f = with_path(
        func("01:00.0", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/display@0",
        "nvidia",
    );
    let h = host(vec![f]);
    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[
        ("/devices/pci@0,0/pci8086,151@1/display@0", "0:8:0"),
        ("/devices/pci@0,0/pci8086,151@1/display@9", "0:9:0"),
    ]));
    let got = config_codes(&h, &plan);
    assert!(got.contains(&"ppt-not-bound"), "{got:?}");
    assert!(got.contains(&"vm-device-missing"), "{got:?}");
    plan.next_boot.insert("01:00.0".parse().unwrap(), to_ppt());
    let got = config_codes(&h, &plan);
    assert!(!got.contains(&"ppt-not-bound"), "{got:?}");
    assert!(got.contains(&"pending-change"), "{got:?}");
}

#[test]
fn guest_slot_rules() {
    let f = with_path(
        func("01:00.0", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/display@0",
        "ppt",
    );
    let g = with_path(
        func("01:00.1", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
        "ppt",
    );
    let h = host(vec![f, g]);
    let p0 = "/devices/pci@0,0/pci8086,151@1/display@0";
    let p1 = "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1";
    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[(p0, "0:8:0"), (p1, "0:8:1")]));
    assert!(
        config_codes(&h, &plan).is_empty(),
        "{:?}",
        config_codes(&h, &plan)
    );

    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[(p0, "0:4:0"), (p1, "0:4:0")]));
    let got = config_codes(&h, &plan);
    assert!(got.contains(&"guest-slot-reserved"), "{got:?}");
    assert!(got.contains(&"guest-slot-conflict"), "{got:?}");

    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[(p0, "0:8:1")]));
    plan.pending.vms.push(VmPlan {
        file: "other.json".into(),
        ..vm(&[(p0, "0:9:0")])
    });
    let got = config_codes(&h, &plan);
    assert!(got.contains(&"guest-slot-no-function-0"), "{got:?}");
    assert!(got.contains(&"vm-device-shared"), "{got:?}");
}

#[test]
fn alias_rules_and_reserved_fails() {
    let mut bad = Cfg::endpoint();
    bad.bar32(0, 0xf000_0000);
    let h = host(vec![
        with_path(
            func("01:00.0", &Cfg::good(), SIZES_16K),
            "/pci@0,0/pci8086,10d3@1",
            "e1000g",
        ),
        with_path(
            func("02:00.0", &Cfg::good(), SIZES_16K),
            "/pci@0,0/pci8086,10d3@2",
            "e1000g",
        ),
        func("03:00.0", &bad, SIZES_16K),
    ]);
    let mut plan = Plan::default();
    plan.pending.aliases = vec![
        AliasReport {
            alias: "pciex8086,10d3".into(),
            file: "/etc/ppt_aliases".into(),
            line: 1,
            kind: "compatible",
            matches: vec![
                "/pci@0,0/pci8086,10d3@1".into(),
                "/pci@0,0/pci8086,10d3@2".into(),
            ],
            lints: vec![],
        },
        AliasReport {
            alias: "/pci@0,0/nothing@1".into(),
            file: "/etc/ppt_aliases".into(),
            line: 2,
            kind: "path",
            matches: vec![],
            lints: vec![Lint {
                code: LintCode::MissingUnitAddress,
                message: "a function-1 node needs its unit address".into(),
            }],
        },
    ];
    plan.next_boot.insert("03:00.0".parse().unwrap(), to_ppt());
    let r = report(&h, &plan);
    let got: Vec<&str> = r.config.reasons.iter().map(|r| r.code).collect();
    assert!(got.contains(&"alias-takes-more"), "{got:?}");
    assert!(got.contains(&"alias-binds-nothing"), "{got:?}");
    let nothing = r
        .config
        .reasons
        .iter()
        .find(|x| x.code == "alias-binds-nothing")
        .unwrap();
    assert!(
        nothing.message.contains("/etc/ppt_aliases:2"),
        "{}",
        nothing.message
    );
    assert!(
        nothing.message.contains("unit address"),
        "{}",
        nothing.message
    );
    assert!(got.contains(&"reserved-fails"), "{got:?}");
    assert_eq!(r.config.verdict, Verdict::Fail);
    // A single-function path alias that binds is fine.
    let mut plan = Plan::default();
    plan.pending.aliases = vec![AliasReport {
        alias: "/pci@0,0/pci8086,10d3@1".into(),
        file: "/etc/ppt_aliases".into(),
        line: 1,
        kind: "path",
        matches: vec!["/pci@0,0/pci8086,10d3@1".into()],
        lints: vec![],
    }];
    assert!(config_codes(&h, &plan).is_empty());
}

#[test]
fn matches_only_warns() {
    let h = host(vec![with_path(
        func("01:00.0", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/display@0",
        "nvidia",
    )]);
    let mut plan = Plan {
        pending: Pending::default(),
        ..Default::default()
    };
    plan.pending
        .matches_listed
        .insert("01:00.0".parse().unwrap());
    assert!(config_codes(&h, &plan).contains(&"matches-only"));
}

#[test]
fn json_document_shape() {
    let h = host(vec![func("01:00.0", &Cfg::good(), &[])]);
    let r = report(&h, &Plan::default());
    let v = serde_json::to_value(&r).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["host", "functions", "config"]);
    let f = &v["functions"][0];
    let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "slot",
            "path",
            "ids",
            "verdict",
            "reasons",
            "now",
            "next_boot"
        ]
    );
    assert_eq!(
        f["next_boot"],
        serde_json::json!({"driver": null, "dev": null, "by": null})
    );
    assert_eq!(f["slot"], "0000:01:00.0");
    assert_eq!(f["ids"], "8086:10d3");
    assert_eq!(f["verdict"], "warn");
    let reason = &f["reasons"][0];
    let keys: Vec<&str> = reason
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "severity", "message", "hint"]);
    assert_eq!(reason["code"], "bar-size-unknown");
    assert_eq!(reason["severity"], "warn");
    assert_eq!(v["host"]["verdict"], "ok");
    assert_eq!(v["config"]["reasons"], serde_json::json!([]));
}

#[test]
fn docs_list_every_rule_with_its_severity() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/check.md")).unwrap();
    for r in ppt_config::viability::rules::ALL {
        let row = format!("| `{}` | {} |", r.code, r.severity);
        assert!(doc.contains(&row), "docs/check.md lacks {row}");
    }
}

#[test]
fn header_only_config_without_capability_list_is_known_no_msi() {
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000);
    let mut f = func("01:00.0", &c, SIZES_16K);
    f.config.truncate(64);
    let got = codes(f);
    assert!(got.contains(&"no-msi"), "{got:?}");
    assert!(!got.contains(&"config-unknown"), "{got:?}");
}
