//! The example host of examples/levon-2018: John Levon's 2018 SmartOS
//! machine (an MSI GeForce 210 behind the Ivy Bridge root port 8086:0151,
//! both functions bound to ppt). `host.json` is generated from the model
//! below; this test fails when the file drifts and rewrites it when
//! `PPTCTL_REGEN=1` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use pci_core::{
    Address, CpuVendor, Function, Host, HostFacts, Identity, IllumosNode, IommuFacts, PathSource,
    PptLink, PropValue,
};
use pci_illumos::naming::{compatible, node_name, unit_address, CompatStyle};

mod support;
use support::{example_dir, example_from, pptctl, pptctl_at};

/// Little-endian config-space writer.
struct Cfg(Vec<u8>);

impl Cfg {
    fn new(len: usize) -> Self {
        Cfg(vec![0; len])
    }
    fn b(&mut self, at: usize, v: u8) -> &mut Self {
        self.0[at] = v;
        self
    }
    fn w(&mut self, at: usize, v: u16) -> &mut Self {
        self.0[at..at + 2].copy_from_slice(&v.to_le_bytes());
        self
    }
    fn d(&mut self, at: usize, v: u32) -> &mut Self {
        self.0[at..at + 4].copy_from_slice(&v.to_le_bytes());
        self
    }
    /// Vendor, device, command, status, revision, class, header type.
    #[allow(clippy::too_many_arguments)]
    fn header(
        &mut self,
        v: u16,
        d: u16,
        cmd: u16,
        status: u16,
        rev: u8,
        class: u32,
        ht: u8,
    ) -> &mut Self {
        self.w(0, v).w(2, d).w(4, cmd).w(6, status).b(8, rev);
        self.b(9, class as u8)
            .b(10, (class >> 8) as u8)
            .b(11, (class >> 16) as u8);
        self.b(0x0c, 0x10).b(0x0e, ht)
    }
}

/// PM at 0x60, MSI (64-bit, 1 vector) at 0x68, PCIe v2 endpoint at 0x78
/// without FLR, linked at 2.5GT/s x16: what a GT218 and its HDA function
/// show.
fn endpoint_caps(c: &mut Cfg) {
    c.b(0x34, 0x60);
    c.b(0x60, 0x01)
        .b(0x61, 0x68)
        .w(0x62, 0x0003)
        .w(0x64, 0x0008);
    c.b(0x68, 0x05).b(0x69, 0x78).w(0x6a, 0x0080);
    c.b(0x78, 0x10).b(0x79, 0x00).w(0x7a, 0x0002);
    // DevCap: MaxPayload 128, ExtTag, L0s <512ns, L1 <4us, RBE, no FLR.
    c.d(0x7c, 0x0000_84e0).w(0x80, 0x2810);
    // LnkCap 2.5GT/s x16 ASPM L0s/L1; LnkCtl common clock; LnkSta 2.5GT/s x16.
    c.d(0x84, 0x0001_4d01).w(0x88, 0x0040).w(0x8a, 0x1101);
    c.w(0xa4, 0x0001);
}

fn vga_config() -> Vec<u8> {
    let mut c = Cfg::new(4096);
    c.header(0x10de, 0x0a65, 0x0007, 0x0010, 0xa2, 0x030000, 0x80);
    c.d(0x10, 0xf600_0000); // BAR0 mem32 16M
    c.d(0x14, 0xe000_000c).d(0x18, 0); // BAR1 mem64 pref 256M
    c.d(0x1c, 0xf000_000c).d(0x20, 0); // BAR3 mem64 pref 32M
    c.d(0x24, 0x0000_e001); // BAR5 I/O 128
    c.w(0x2c, 0x1462).w(0x2e, 0x2291);
    c.d(0x30, 0xf700_0000); // ROM, disabled
    c.b(0x3c, 0x0b).b(0x3d, 0x01);
    endpoint_caps(&mut c);
    // Extended: VC -> power budgeting -> vendor specific.
    c.d(0x100, 0x1281_0002).d(0x114, 0x8000_00ff);
    c.d(0x128, 0x6001_0004);
    c.d(0x600, 0x0001_000b).d(0x604, 0x0240_0001);
    c.0
}

fn audio_config() -> Vec<u8> {
    let mut c = Cfg::new(4096);
    c.header(0x10de, 0x0be3, 0x0006, 0x0010, 0xa1, 0x040300, 0x80);
    c.d(0x10, 0xf708_0000); // BAR0 mem32 16K
    c.w(0x2c, 0x1462).w(0x2e, 0x2291);
    c.b(0x3c, 0x0a).b(0x3d, 0x02);
    endpoint_caps(&mut c);
    c.0
}

fn root_port_config() -> Vec<u8> {
    let mut c = Cfg::new(4096);
    c.header(0x8086, 0x0151, 0x0107, 0x0010, 0x09, 0x060400, 0x81);
    c.b(0x18, 0).b(0x19, 1).b(0x1a, 1);
    c.b(0x1c, 0xe0).b(0x1d, 0xe0).w(0x1e, 0x2000);
    c.w(0x20, 0xf600).w(0x22, 0xf700);
    c.w(0x24, 0xe001).w(0x26, 0xf1f1);
    c.b(0x34, 0x88);
    c.b(0x3c, 0x0b).b(0x3d, 0x01).w(0x3e, 0x0018);
    c.b(0x88, 0x0d)
        .b(0x89, 0x80)
        .w(0x8c, 0x1462)
        .w(0x8e, 0x7758);
    c.b(0x80, 0x01).b(0x81, 0x90).w(0x82, 0xc803);
    c.b(0x90, 0x05).b(0x91, 0xa0).w(0x92, 0x0000);
    c.b(0xa0, 0x10).b(0xa1, 0x00).w(0xa2, 0x0142);
    c.d(0xa4, 0x0000_8000);
    c.d(0xac, 0x0221_4d03).w(0xb0, 0x0040).w(0xb2, 0x3101);
    c.d(0xb4, 0x0008_0060);
    c.d(0x100, 0x1401_0002).d(0x140, 0x0001_0005);
    c.0
}

fn host_bridge_config() -> Vec<u8> {
    let mut c = Cfg::new(256);
    c.header(0x8086, 0x0150, 0x0006, 0x0090, 0x09, 0x060000, 0x00);
    c.w(0x2c, 0x1462).w(0x2e, 0x7758);
    c.b(0x34, 0xe0).b(0xe0, 0x09).b(0xe1, 0x00).b(0xe2, 0x0c);
    c.0
}

fn ints(v: &[u32]) -> PropValue {
    PropValue::Ints(v.iter().map(|&x| x as i32).collect())
}

/// The devinfo node a 2018 SmartOS kernel would have for `f`.
fn node(
    f: &Function,
    parent: &str,
    driver: Option<(&str, i32)>,
    reg: &[u32],
    assigned: &[u32],
) -> IllumosNode {
    let ht = f.ids.header_type;
    let pcie = pci_illumos::naming::pcie_cap(&f.config) != pci_illumos::naming::PcieCap::None;
    let name = node_name(&f.ids, ht);
    let ua = unit_address(&f.address);
    let compat = compatible(&f.ids, ht, pcie, CompatStyle::Legacy);
    let mut props = BTreeMap::new();
    props.insert("vendor-id".into(), ints(&[u32::from(f.ids.vendor)]));
    props.insert("device-id".into(), ints(&[u32::from(f.ids.device)]));
    props.insert("revision-id".into(), ints(&[u32::from(f.ids.revision)]));
    props.insert("class-code".into(), ints(&[f.ids.class]));
    if let (Some(sv), Some(ss), false) = (f.ids.subsystem_vendor, f.ids.subsystem, ht == Some(0x81))
    {
        props.insert("subsystem-vendor-id".into(), ints(&[u32::from(sv)]));
        props.insert("subsystem-id".into(), ints(&[u32::from(ss)]));
    }
    props.insert("unit-address".into(), PropValue::Strings(vec![ua.clone()]));
    props.insert("reg".into(), ints(reg));
    if !assigned.is_empty() {
        props.insert("assigned-addresses".into(), ints(assigned));
    }
    props.insert("compatible".into(), PropValue::Strings(compat.clone()));
    let device_type = match f.ids.class >> 8 {
        0x0604 => Some("pciex".to_string()),
        0x0300 => Some("display".to_string()),
        _ => None,
    };
    if let Some(dt) = &device_type {
        props.insert("device_type".into(), PropValue::Strings(vec![dt.clone()]));
    }
    let bound_ppt = driver.is_some_and(|(d, _)| d == "ppt");
    IllumosNode {
        path: format!("{parent}/{name}@{ua}"),
        path_source: Some(PathSource::Devinfo),
        node_name: name,
        unit_address: Some(ua),
        driver: driver.map(|(d, _)| d.to_string()),
        instance: driver.map(|(_, i)| i),
        binding_name: driver
            .map(|_| compat.last().cloned().unwrap_or_default())
            .filter(|_| !bound_ppt),
        compatible: compat,
        parent_device_type: Some(if parent == "/pci@0,0" { "pci" } else { "pciex" }.to_string()),
        device_type,
        props,
        minors: if bound_ppt {
            vec!["ppt".to_string()]
        } else {
            Vec::new()
        },
        ..IllumosNode::default()
    }
}

fn function(addr: &str, config: Vec<u8>) -> Function {
    let c = &config;
    let ht = c[0x0e];
    let ids = Identity {
        vendor: u16::from_le_bytes([c[0], c[1]]),
        device: u16::from_le_bytes([c[2], c[3]]),
        subsystem_vendor: Some(if ht & 0x7f == 1 {
            0x1462
        } else {
            u16::from_le_bytes([c[0x2c], c[0x2d]])
        }),
        subsystem: Some(if ht & 0x7f == 1 {
            0x7758
        } else {
            u16::from_le_bytes([c[0x2e], c[0x2f]])
        }),
        class: u32::from(c[9]) | u32::from(c[10]) << 8 | u32::from(c[11]) << 16,
        revision: c[8],
        header_type: Some(ht),
    };
    Function::new(addr.parse::<Address>().unwrap(), ids, config)
}

/// The whole example host, after the reservation and the reboot.
fn build_host() -> Host {
    build_host_in(State::After)
}

/// Before the reservation (the GPU on vgatext, its audio function on
/// audiohd, no /dev/ppt links) or after it and the reboot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Before,
    After,
}

fn build_host_in(state: State) -> Host {
    let (vga_driver, hda_driver) = match state {
        State::Before => (("vgatext", 0), ("audiohd", 0)),
        State::After => (("ppt", 0), ("ppt", 1)),
    };
    let mut hb = function("0000:00:00.0", host_bridge_config());
    hb.illumos = Some(node(&hb, "/pci@0,0", None, &[0, 0, 0, 0, 0], &[]));

    let mut rp = function("0000:00:01.0", root_port_config());
    rp.illumos = Some(node(
        &rp,
        "/pci@0,0",
        Some(("pcieb", 0)),
        &[0x800, 0, 0, 0, 0],
        &[],
    ));
    rp.driver = Some("pcieb".into());
    let link = |n: u32, p: &str| PptLink {
        dev: format!("/dev/ppt{n}"),
        target: Some(format!("../devices{p}:ppt")),
        path: Some(p.to_string()),
    };
    let ppt_links = match state {
        State::Before => Vec::new(),
        State::After => vec![
            link(0, "/pci@0,0/pci8086,151@1/display@0"),
            link(1, "/pci@0,0/pci8086,151@1/pci1462,2291@0,1"),
        ],
    };
    Host {
        ppt_links,
        functions: vec![hb, rp, gpu(vga_driver), gpu_audio(hda_driver)],
        nexus: vec![root_nexus()],
        facts: HostFacts {
            os: Some("illumos".into()),
            cpu_vendor: Some(CpuVendor::Intel),
            iommu: Some(IommuFacts {
                present: true,
                kind: Some("vt-d".into()),
                evidence: "example host: Intel VT-d enabled in firmware, vmm_vtd loaded".into(),
            }),
            boot_devices: Vec::new(),
        },
        warnings: Vec::new(),
    }
}

/// The root port the card sits behind.
const CARD_PARENT: &str = "/pci@0,0/pci8086,151@1";

/// The GeForce 210's `reg` (config header, BARs 0, 1, 3, 5 and the ROM).
const GPU_REG: [u32; 30] = [
    0x0001_0000,
    0,
    0,
    0,
    0,
    0x0201_0010,
    0,
    0,
    0,
    0x0100_0000,
    0x4301_0014,
    0,
    0,
    0,
    0x1000_0000,
    0x4301_001c,
    0,
    0,
    0,
    0x0200_0000,
    0x0101_0024,
    0,
    0,
    0,
    0x80,
    0x0201_0030,
    0,
    0,
    0,
    0x0008_0000,
];

/// The GeForce 210's `assigned-addresses`.
const GPU_ASSIGNED: [u32; 25] = [
    0x8201_0010,
    0,
    0xf600_0000,
    0,
    0x0100_0000,
    0xc301_0014,
    0,
    0xe000_0000,
    0,
    0x1000_0000,
    0xc301_001c,
    0,
    0xf000_0000,
    0,
    0x0200_0000,
    0x8101_0024,
    0,
    0xe000,
    0,
    0x80,
    0x8201_0030,
    0,
    0xf700_0000,
    0,
    0x0008_0000,
];

/// The GeForce 210 (01:00.0) on `driver`.
fn gpu(driver: (&str, i32)) -> Function {
    let mut vga = function("0000:01:00.0", vga_config());
    vga.illumos = Some(node(
        &vga,
        CARD_PARENT,
        Some(driver),
        &GPU_REG,
        &GPU_ASSIGNED,
    ));
    vga.driver = Some(driver.0.into());
    vga.bar_sizes = [
        Some(0x0100_0000),
        Some(0x1000_0000),
        None,
        Some(0x0200_0000),
        None,
        Some(0x80),
    ];
    vga.rom_size = Some(0x0008_0000);
    vga
}

/// The card's HD audio function (01:00.1) on `driver`.
fn gpu_audio(driver: (&str, i32)) -> Function {
    let mut hda = function("0000:01:00.1", audio_config());
    let reg = [0x0001_0100, 0, 0, 0, 0, 0x0201_0110, 0, 0, 0, 0x4000];
    let assigned = [0x8201_0110, 0, 0xf708_0000, 0, 0x4000];
    hda.illumos = Some(node(&hda, CARD_PARENT, Some(driver), &reg, &assigned));
    hda.driver = Some(driver.0.into());
    hda.bar_sizes = [Some(0x4000), None, None, None, None, None];
    hda
}

/// The root complex `/pci@0,0`.
fn root_nexus() -> IllumosNode {
    let mut nexus_props = BTreeMap::new();
    nexus_props.insert(
        "device_type".to_string(),
        PropValue::Strings(vec!["pci".into()]),
    );
    nexus_props.insert("reg".to_string(), ints(&[0, 0, 0]));
    IllumosNode {
        path: "/pci@0,0".into(),
        path_source: Some(PathSource::Devinfo),
        node_name: "pci".into(),
        unit_address: Some("0,0".into()),
        driver: Some("npe".into()),
        instance: Some(0),
        binding_name: Some("pciex_root_complex".into()),
        compatible: vec!["pciex_root_complex".into()],
        parent_device_type: None,
        device_type: Some("pci".into()),
        props: nexus_props,
        minors: vec!["devctl".into(), "reg".into(), "intr".into()],
        ..IllumosNode::default()
    }
}

/// The snapshot document: `format`, `source`, then the host's fields.
fn snapshot_json(host: &Host) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert("format".into(), "pptctl-snapshot/1".into());
    doc.insert("source".into(), "auto".into());
    let serde_json::Value::Object(fields) = serde_json::to_value(host).unwrap() else {
        panic!("host is not an object");
    };
    doc.extend(fields);
    let mut s = serde_json::to_string_pretty(&serde_json::Value::Object(doc)).unwrap();
    s.push('\n');
    s
}

#[test]
fn host_json_is_current() {
    let want = snapshot_json(&build_host());
    let file = example_dir().join("host.json");
    if std::env::var_os("PPTCTL_REGEN").is_some() {
        std::fs::write(&file, &want).unwrap();
    }
    let have = std::fs::read_to_string(&file).unwrap();
    assert!(
        have == want,
        "{} is stale; regenerate with PPTCTL_REGEN=1",
        file.display()
    );
    // It loads back into the same host.
    let back: Host = serde_json::from_str(&have).unwrap();
    assert_eq!(back, build_host());
}

#[test]
fn before_json_is_current() {
    let want = snapshot_json(&build_host_in(State::Before));
    let file = example_dir().join("before/host.json");
    if std::env::var_os("PPTCTL_REGEN").is_some() {
        std::fs::write(&file, &want).unwrap();
    }
    let have = std::fs::read_to_string(&file).unwrap();
    assert!(
        have == want,
        "{} is stale; regenerate with PPTCTL_REGEN=1",
        file.display()
    );
}

#[test]
fn example_command_prints_the_seed_table() {
    let dir = example_dir();
    let out = pptctl_at(dir.join("root"), example_from())
        .args(["list", "-a", "-o", "dev,vendor,device,path"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "DEV        VENDOR DEVICE PATH\n\
         /dev/ppt0  10de   a65    /pci@0,0/pci8086,151@1/display@0\n\
         /dev/ppt1  10de   be3    /pci@0,0/pci8086,151@1/pci1462,2291@0,1\n"
    );
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "");
}

#[test]
fn assigned_list_follows_the_links() {
    let dir = example_dir();
    let out = pptctl_at(dir.join("root"), example_from())
        .args(["list", "-j"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("{\n\t\"devices\": [\n\t\t{\"dev\":\"/dev/ppt0\",\"path\":\"/pci@0,0/pci8086,151@1/display@0\",\"vendor-id\":\"10de\",\"device-id\":\"a65\",\"revision-id\":\"a2\",\"subsystem-vendor-id\":\"1462\",\"subsystem-id\":\"2291\""), "{text}");
    assert!(text.ends_with("}\n\t]\n}\n"));
    assert_eq!(text.matches("\"dev\":").count(), 2);
}

#[test]
fn snapshot_keeps_its_links_without_root() {
    let out = pptctl()
        .arg("--from")
        .arg(example_from())
        .args(["list", "-p", "-o", "dev,path"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "/dev/ppt0:/pci@0,0/pci8086,151@1/display@0\n/dev/ppt1:/pci@0,0/pci8086,151@1/pci1462,2291@0,1\n"
    );
}
