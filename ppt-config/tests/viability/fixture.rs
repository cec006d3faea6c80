//! Hosts for the viability rule tests: config space built by hand, functions
//! with devinfo paths, VM payloads, and the report's codes.

// Each test binary uses only part of it; a panic is a test failure.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use pci_core::{Address, CpuVendor, Function, Host, HostFacts, Identity, IllumosNode, IommuFacts};
use pci_core::{PathSource, PropValue};
use pci_illumos::binding::BoundBy;
use ppt_config::viability::function_rules::Prediction;
use ppt_config::viability::pending::VmPlan;
use ppt_config::viability::{evaluate, Plan, Report};

/// Builds 4 KiB of config space by hand.
#[derive(Clone)]
pub struct Cfg {
    pub b: Vec<u8>,
    pub next_cap: usize,
    pub last_cap: Option<usize>,
    pub next_ext: usize,
    pub last_ext: Option<usize>,
}

impl Cfg {
    pub fn new(vendor: u16, device: u16, class: u32, header: u8) -> Cfg {
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

    pub fn endpoint() -> Cfg {
        Cfg::new(0x8086, 0x10d3, 0x020000, 0)
    }

    pub fn w32(&mut self, off: usize, v: u32) -> &mut Self {
        self.b[off..off + 4].copy_from_slice(&v.to_le_bytes());
        self
    }

    pub fn bar32(&mut self, index: usize, v: u32) -> &mut Self {
        self.w32(0x10 + 4 * index, v)
    }

    pub fn bar64(&mut self, index: usize, v: u64) -> &mut Self {
        self.w32(0x10 + 4 * index, (v as u32) | 0x4);
        self.w32(0x14 + 4 * index, (v >> 32) as u32)
    }

    /// Appends a standard capability with `body` after its 2-byte header.
    pub fn cap(&mut self, id: u8, body: &[u8]) -> &mut Self {
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

    pub fn ext(&mut self, id: u16, body: &[u8]) -> &mut Self {
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

    pub fn pm(&mut self, no_soft_reset: bool) -> &mut Self {
        let pmcsr: u16 = if no_soft_reset { 0x0008 } else { 0 };
        let mut body = vec![0x03, 0x00];
        body.extend_from_slice(&pmcsr.to_le_bytes());
        body.extend_from_slice(&[0, 0]);
        self.cap(0x01, &body)
    }

    pub fn msi(&mut self) -> &mut Self {
        self.cap(0x05, &[0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    pub fn msix(&mut self) -> &mut Self {
        self.cap(0x11, &[0x03, 0x00, 0x00, 0x20, 0, 0, 0x00, 0x30, 0, 0])
    }

    /// PCI Express capability version 2 with `port_type` and DevCap FLR.
    pub fn pcie(&mut self, port_type: u8, flr: bool) -> &mut Self {
        let mut body = vec![0u8; 0x3a];
        body[0] = 0x02 | (port_type << 4);
        let devcap: u32 = if flr { 1 << 28 } else { 0 };
        body[2..6].copy_from_slice(&devcap.to_le_bytes());
        self.cap(0x10, &body)
    }

    pub fn af(&mut self, flr: bool) -> &mut Self {
        self.cap(0x13, &[0x06, if flr { 0x03 } else { 0x01 }, 0, 0])
    }

    pub fn acs(&mut self, cap: u16, ctrl: u16) -> &mut Self {
        let mut body = cap.to_le_bytes().to_vec();
        body.extend_from_slice(&ctrl.to_le_bytes());
        self.ext(0x000d, &body)
    }

    pub fn sriov(&mut self, total: u16, num: u16) -> &mut Self {
        let mut body = vec![0u8; 0x3c];
        body[0x0c - 4..0x0e - 4].copy_from_slice(&total.to_le_bytes()); // InitialVFs
        body[0x0e - 4..0x10 - 4].copy_from_slice(&total.to_le_bytes()); // TotalVFs
        body[0x10 - 4..0x12 - 4].copy_from_slice(&num.to_le_bytes()); // NumVFs
        self.ext(0x0010, &body)
    }

    pub fn rebar(&mut self) -> &mut Self {
        // One entry: BAR 0, 256 MiB supported, 1 BAR in the control register.
        let mut body = vec![0u8; 8];
        body[0..4].copy_from_slice(&(1u32 << 12).to_le_bytes());
        body[4..8].copy_from_slice(&((1u32 << 5) | (8 << 8)).to_le_bytes());
        self.ext(0x0015, &body)
    }

    pub fn bridge_buses(&mut self, primary: u8, secondary: u8, subordinate: u8) -> &mut Self {
        self.b[0x18] = primary;
        self.b[0x19] = secondary;
        self.b[0x1a] = subordinate;
        self
    }

    /// A healthy PCIe endpoint: PM, MSI, MSI-X, PCIe with FLR, 16 KiB BAR 0.
    pub fn good() -> Cfg {
        let mut c = Cfg::endpoint();
        c.bar64(0, 0xf000_0000).pm(false).msi().msix().pcie(0, true);
        c
    }
}

pub fn func(addr: &str, cfg: &Cfg, sizes: &[u64]) -> Function {
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

pub fn good_host_facts() -> HostFacts {
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

pub fn host(functions: Vec<Function>) -> Host {
    Host {
        functions,
        facts: good_host_facts(),
        ..Default::default()
    }
}

pub fn report(h: &Host, plan: &Plan) -> Report {
    evaluate(h, plan)
}

pub fn codes_for(h: &Host, plan: &Plan, slot: &str) -> Vec<&'static str> {
    let slot: Address = slot.parse().unwrap();
    let r = report(h, plan);
    r.functions
        .iter()
        .find(|f| f.slot == slot.to_string())
        .map(|f| f.reasons.iter().map(|r| r.code).collect())
        .unwrap_or_else(|| panic!("{slot} not in report"))
}

/// Every code for `f` alone on a host; `all` so that infrastructure
/// (host bridges, ISA bridges) is judged as well.
pub fn codes(f: Function) -> Vec<&'static str> {
    let slot = f.address.to_string();
    let plan = Plan {
        all: true,
        ..Default::default()
    };
    codes_for(&host(vec![f]), &plan, &slot)
}

pub const SIZES_16K: &[u64] = &[0x4000];

/// The next boot binds the function to ppt by a path alias.
pub fn to_ppt() -> Prediction {
    Prediction::decided(
        "/pci@0,0/x@1",
        "ppt",
        BoundBy::PathAlias,
        "/etc/ppt_aliases",
        1,
    )
}

pub fn gpu_pair() -> Vec<Function> {
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

pub fn with_path(mut f: Function, path: &str, driver: &str) -> Function {
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

pub fn vm(devices: &[(&str, &str)]) -> VmPlan {
    let entries: Vec<serde_json::Value> = devices
        .iter()
        .map(|(p, s)| serde_json::json!({"path": p, "pci_slot": s}))
        .collect();
    VmPlan::from_payload(
        "vm.json",
        serde_json::json!({"alias": "gpu-vm", "pci_devices": entries}),
    )
}

pub fn config_codes(h: &Host, plan: &Plan) -> Vec<&'static str> {
    report(h, plan)
        .config
        .reasons
        .iter()
        .map(|r| r.code)
        .collect()
}
