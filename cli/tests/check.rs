//! `pptctl check` end to end on a Linux sysfs tree generated here: an
//! emulated machine with a host bridge, a legacy PCI device, a PCIe switch,
//! an SR-IOV PF, a device with a 256-byte BAR and a healthy endpoint; the
//! JSON document, the readable report, selectors, `--vm` payloads and the
//! exit codes 0/1/2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

mod support;
use serde_json::Value;
use support::{example_dir, example_from, snapshot_from};

/// Hand-made config space (4 KiB) with a capability chain.
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
        b[0x09..0x0c].copy_from_slice(&class.to_le_bytes()[..3]);
        b[0x0e] = header;
        Cfg {
            b,
            next_cap: 0x40,
            last_cap: None,
            next_ext: 0x100,
            last_ext: None,
        }
    }

    fn w32(&mut self, off: usize, v: u32) -> &mut Self {
        self.b[off..off + 4].copy_from_slice(&v.to_le_bytes());
        self
    }

    fn bar32(&mut self, i: usize, v: u32) -> &mut Self {
        self.w32(0x10 + 4 * i, v)
    }

    fn cap(&mut self, id: u8, body: &[u8]) -> &mut Self {
        let off = self.next_cap;
        self.b[off] = id;
        self.b[off + 2..off + 2 + body.len()].copy_from_slice(body);
        match self.last_cap {
            Some(p) => self.b[p + 1] = off as u8,
            None => {
                self.b[0x34] = off as u8;
                self.b[0x06] |= 0x10;
            }
        }
        self.last_cap = Some(off);
        self.next_cap = (off + 2 + body.len() + 3) & !3;
        self
    }

    fn ext(&mut self, id: u16, body: &[u8]) -> &mut Self {
        let off = self.next_ext;
        self.w32(off, u32::from(id) | (1 << 16));
        self.b[off + 4..off + 4 + body.len()].copy_from_slice(body);
        if let Some(p) = self.last_ext {
            let h = u32::from_le_bytes(self.b[p..p + 4].try_into().unwrap());
            self.w32(p, h | ((off as u32) << 20));
        }
        self.last_ext = Some(off);
        self.next_ext = (off + 4 + body.len() + 3) & !3;
        self
    }

    fn msi(&mut self) -> &mut Self {
        self.cap(0x05, &[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    fn msix(&mut self) -> &mut Self {
        self.cap(0x11, &[0x03, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0])
    }

    fn pcie(&mut self, port_type: u8, flr: bool) -> &mut Self {
        let mut body = vec![0u8; 0x3a];
        body[0] = 0x02 | (port_type << 4);
        let devcap: u32 = if flr { 1 << 28 } else { 0 };
        body[2..6].copy_from_slice(&devcap.to_le_bytes());
        self.cap(0x10, &body)
    }

    fn acs(&mut self) -> &mut Self {
        self.ext(0x000d, &[0x1f, 0x00, 0x1d, 0x00])
    }

    fn sriov(&mut self, total: u16, num: u16) -> &mut Self {
        let mut body = vec![0u8; 0x3c];
        body[8..10].copy_from_slice(&total.to_le_bytes());
        body[10..12].copy_from_slice(&total.to_le_bytes());
        body[12..14].copy_from_slice(&num.to_le_bytes());
        self.ext(0x0010, &body)
    }

    fn buses(&mut self, primary: u8, secondary: u8, subordinate: u8) -> &mut Self {
        self.b[0x18] = primary;
        self.b[0x19] = secondary;
        self.b[0x1a] = subordinate;
        self
    }
}

fn w(path: &Path, text: impl AsRef<[u8]>) {
    fs::write(path, text).unwrap();
}

/// One `resource` line.
fn res(start: u64, size: u64, flags: u64) -> String {
    let end = if size == 0 { 0 } else { start + size - 1 };
    format!("0x{start:016x} 0x{end:016x} 0x{flags:016x}\n")
}

const MEM: u64 = 0x40200;
const IO: u64 = 0x40101;

/// Writes a device under `sys/devices/<path>` with its bus link.
fn add(sys: &Path, path: &str, cfg: &Cfg, resources: &[String], driver: Option<&str>) {
    let dev = sys.join("devices").join(path);
    fs::create_dir_all(&dev).unwrap();
    let c = &cfg.b;
    let word = |p: usize| u16::from_le_bytes([c[p], c[p + 1]]);
    w(&dev.join("config"), c);
    w(&dev.join("vendor"), format!("0x{:04x}\n", word(0)));
    w(&dev.join("device"), format!("0x{:04x}\n", word(2)));
    w(
        &dev.join("class"),
        format!("0x{:06x}\n", u32::from(c[9]) | u32::from(word(0x0a)) << 8),
    );
    w(&dev.join("revision"), format!("0x{:02x}\n", c[8]));
    let mut lines: Vec<String> = resources.to_vec();
    while lines.len() < 13 {
        lines.push(res(0, 0, 0));
    }
    w(&dev.join("resource"), lines.concat());
    if let Some(d) = driver {
        let target = sys.join("bus/pci/drivers").join(d);
        fs::create_dir_all(&target).unwrap();
        symlink(&target, dev.join("driver")).unwrap();
    }
    let links = sys.join("bus/pci/devices");
    fs::create_dir_all(&links).unwrap();
    let name = path.rsplit('/').next().unwrap();
    symlink(format!("../../../devices/{path}"), links.join(name)).unwrap();
}

/// An emulated Intel machine with VT-d.
fn machine(root: &Path) -> std::path::PathBuf {
    let sys = root.join("sys");
    fs::create_dir_all(sys.join("firmware/acpi/tables")).unwrap();
    w(&sys.join("firmware/acpi/tables/DMAR"), b"DMAR");
    fs::create_dir_all(sys.join("class/iommu/dmar0")).unwrap();
    fs::create_dir_all(root.join("proc")).unwrap();
    w(&root.join("proc/cpuinfo"), "vendor_id\t: GenuineIntel\n");
    // The sysfs source reads procfs at DIR/proc for a copied tree.
    fs::create_dir_all(sys.join("proc")).unwrap();
    w(&sys.join("proc/cpuinfo"), "vendor_id\t: GenuineIntel\n");

    // 00:00.0 host bridge, no capabilities.
    add(
        &sys,
        "pci0000:00/0000:00:00.0",
        &Cfg::new(0x8086, 0x29c0, 0x060000, 0),
        &[],
        None,
    );
    // 00:03.0 legacy PCI NIC: I/O BAR, no capability list.
    let mut legacy = Cfg::new(0x10ec, 0x8139, 0x020000, 0);
    legacy.bar32(0, 0xc001).bar32(1, 0xfebf_1000);
    add(
        &sys,
        "pci0000:00/0000:00:03.0",
        &legacy,
        &[res(0xc000, 256, IO), res(0xfebf_1000, 256, MEM)],
        Some("8139too"),
    );
    // 00:1c.0 root port with ACS → 01:00.0 healthy NIC (MSI-X, FLR, 16 KiB).
    let mut rp = Cfg::new(0x8086, 0x3a40, 0x060400, 1);
    rp.msi().pcie(4, false).acs().buses(0, 1, 1);
    add(&sys, "pci0000:00/0000:00:1c.0", &rp, &[], Some("pcieport"));
    let mut nic = Cfg::new(0x8086, 0x10d3, 0x020000, 0);
    nic.bar32(0, 0xfe80_0000).msi().msix().pcie(0, true);
    add(
        &sys,
        "pci0000:00/0000:00:1c.0/0000:01:00.0",
        &nic,
        &[res(0xfe80_0000, 0x4000, MEM)],
        Some("e1000e"),
    );
    // 00:1c.1 root port with ACS → switch without ACS on its downstream
    // port → two endpoints without FLR below one downstream port.
    let mut rp2 = Cfg::new(0x8086, 0x3a42, 0x060400, 1);
    rp2.msi().pcie(4, false).acs().buses(0, 2, 4);
    add(&sys, "pci0000:00/0000:00:1c.1", &rp2, &[], Some("pcieport"));
    let mut up = Cfg::new(0x10b5, 0x8747, 0x060400, 1);
    up.msi().pcie(5, false).buses(2, 3, 4);
    add(
        &sys,
        "pci0000:00/0000:00:1c.1/0000:02:00.0",
        &up,
        &[],
        Some("pcieport"),
    );
    let mut down = Cfg::new(0x10b5, 0x8747, 0x060400, 1);
    down.msi().pcie(6, false).buses(3, 4, 4);
    add(
        &sys,
        "pci0000:00/0000:00:1c.1/0000:02:00.0/0000:03:00.0",
        &down,
        &[],
        Some("pcieport"),
    );
    for (slot, bar) in [
        ("0000:04:00.0", 0xfd00_0000u32),
        ("0000:04:01.0", 0xfd10_0000),
    ] {
        let mut ep = Cfg::new(0x1b36, 0x0010, 0x010802, 0);
        ep.bar32(0, bar).msix().pcie(0, false);
        add(
            &sys,
            &format!("pci0000:00/0000:00:1c.1/0000:02:00.0/0000:03:00.0/{slot}"),
            &ep,
            &[res(u64::from(bar), 0x4000, MEM)],
            Some("nvme"),
        );
    }
    // 00:1d.0 SR-IOV PF with 2 VFs enabled, FLR, MSI-X.
    let mut pf = Cfg::new(0x8086, 0x10c9, 0x020000, 0);
    pf.bar32(0, 0xfc00_0000).msix().pcie(9, true).sriov(7, 2);
    add(
        &sys,
        "pci0000:00/0000:00:1d.0",
        &pf,
        &[res(0xfc00_0000, 0x2_0000, MEM)],
        Some("igb"),
    );
    // 00:1f.3 SMBus-like function: MSI but a 256-byte memory BAR.
    let mut small = Cfg::new(0x8086, 0x2930, 0x0c0500, 0);
    small.bar32(0, 0xfebf_2000).msi();
    add(
        &sys,
        "pci0000:00/0000:00:1f.3",
        &small,
        &[res(0xfebf_2000, 256, MEM)],
        None,
    );
    sys
}

fn pptctl(sys: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    // An empty root: no illumos files (a --root must be a directory).
    fs::create_dir_all(sys.parent().unwrap().join("empty-root")).unwrap();
    support::pptctl()
        .arg("--from")
        .arg(format!("sysfs:{}", sys.display()))
        .arg("--root")
        .arg(sys.parent().unwrap().join("empty-root"))
        .args(args)
        .env_remove("NO_COLOR")
        .assert()
}

fn json(sys: &Path, args: &[&str]) -> (Value, i32) {
    let out = pptctl(sys, args).get_output().clone();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

fn function<'v>(v: &'v Value, slot: &str) -> &'v Value {
    v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["slot"] == slot)
        .unwrap_or_else(|| panic!("{slot} not in {v}"))
}

fn codes(f: &Value) -> Vec<String> {
    f["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn emulated_machine_json() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let (v, code) = json(&sys, &["check", "--json"]);
    assert_eq!(code, 1, "the legacy NIC and the 256-byte BAR fail");
    assert_eq!(v["host"]["verdict"], "ok", "{}", v["host"]);
    assert_eq!(v["config"]["verdict"], "ok");
    let slots: Vec<&str> = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slot"].as_str().unwrap())
        .collect();
    assert_eq!(
        slots,
        [
            "0000:00:03.0",
            "0000:00:1d.0",
            "0000:00:1f.3",
            "0000:01:00.0",
            "0000:04:00.0",
            "0000:04:01.0"
        ],
        "every function a user could pass through: no bridges, no host bridge"
    );
    // --all judges the infrastructure too.
    let (all, code) = json(&sys, &["check", "--json", "--all"]);
    assert_eq!(code, 1);
    let all_slots: Vec<&str> = all["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slot"].as_str().unwrap())
        .collect();
    assert!(all_slots.contains(&"0000:00:00.0"), "{all_slots:?}");
    assert!(all_slots.contains(&"0000:00:1c.0"), "{all_slots:?}");
    let hb = function(&all, "0000:00:00.0");
    assert_eq!(hb["verdict"], "fail");
    assert!(codes(hb).contains(&"host-critical".into()));
    assert!(codes(hb).contains(&"no-msi".into()));
    let legacy = function(&v, "0000:00:03.0");
    assert_eq!(legacy["verdict"], "fail");
    for c in ["no-msi", "bar-not-page-aligned", "io-bar", "no-reset"] {
        assert!(codes(legacy).contains(&c.to_string()), "{c}: {legacy}");
    }
    let nic = function(&v, "0000:01:00.0");
    assert_eq!(nic["verdict"], "ok", "{nic}");
    assert_eq!(nic["ids"], "8086:10d3");
    assert_eq!(nic["reasons"], serde_json::json!([]));
    for slot in ["0000:04:00.0", "0000:04:01.0"] {
        let ep = function(&v, slot);
        assert_eq!(ep["verdict"], "warn", "{ep}");
        assert!(codes(ep).contains(&"no-reset".into()), "{ep}");
        assert!(codes(ep).contains(&"shared-isolation".into()), "{ep}");
    }
    let pf = function(&v, "0000:00:1d.0");
    assert_eq!(codes(pf), ["sriov-pf-with-vfs"], "{pf}");
    let small = function(&v, "0000:00:1f.3");
    assert_eq!(small["verdict"], "fail");
    assert!(
        codes(small).contains(&"bar-not-page-aligned".into()),
        "{small}"
    );
    let r = &small["reasons"][0];
    assert_eq!(r["severity"], "fail");
    assert!(r["message"].as_str().unwrap().contains("256 bytes"), "{r}");
    assert!(!r["hint"].as_str().unwrap().is_empty());
}

#[test]
fn selectors_narrow_the_report_and_set_the_exit_code() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let (v, code) = json(&sys, &["check", "--json", "01:00.0"]);
    assert_eq!(code, 0);
    assert_eq!(v["functions"].as_array().unwrap().len(), 1);
    let (v, code) = json(&sys, &["check", "--json", "1b36:0010"]);
    assert_eq!(code, 0, "warnings do not fail");
    assert_eq!(v["functions"].as_array().unwrap().len(), 2);
    let (_, code) = json(&sys, &["check", "--json", "00:1f.3"]);
    assert_eq!(code, 1);
    // A bridge asked for by name is reported as one.
    let (v, code) = json(&sys, &["check", "--json", "00:1c.0"]);
    assert_eq!(code, 1);
    assert!(codes(function(&v, "0000:00:1c.0")).contains(&"bridge".into()));
}

#[test]
fn readable_report_without_colour_when_piped() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let out = pptctl(&sys, &["check"]).code(1).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\x1b'), "no colour on a pipe");
    assert!(text.starts_with("host: ok\n"), "{text}");
    assert!(text.contains("\ndevice 0000:04:00"), "{text}");
    assert!(
        text.contains("  0000:01:00.0 8086:10d3 ok"),
        "functions under their device: {text}"
    );
    assert!(text.contains("fail no-msi: "), "{text}");
    assert!(text.contains("hint: "), "{text}");
    let last = text.lines().last().unwrap();
    assert_eq!(
        last, "6 functions: 1 ok, 3 warn, 2 fail; host ok; config ok",
        "{text}"
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    pptctl(&sys, &["check", "not-a-selector"]).code(2);
    pptctl(&sys, &["check", "09:00.0"]).code(2);
    pptctl(&sys, &["check", "--vm", "/nonexistent/vm.json"]).code(2);
    let bad = t.path().join("bad.json");
    w(&bad, "{ not json");
    let err = pptctl(&sys, &["check", "--vm", bad.to_str().unwrap()])
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("bad.json:1"), "{err}");
    pptctl(&sys, &["check", "--bogus"]).code(2);
}

#[test]
fn vm_payload_findings() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let vm = t.path().join("vm.json");
    w(
        &vm,
        r#"{"alias": "gpu-vm", "pci_devices": [
            {"path": "/devices/pci@0,0/nothing@9", "pci_slot": "0:4:0"},
            {"path": "/devices/pci@0,0/other@8", "pci_slot": "0:4:0"},
            {"path": "devices/bad", "pci_slot": "0x8"}
        ]}"#,
    );
    let (v, code) = json(
        &sys,
        &["check", "--json", "01:00.0", "--vm", vm.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let config = codes(&v["config"]);
    for c in [
        "vm-payload-invalid",
        "vm-device-missing",
        "guest-slot-reserved",
        "guest-slot-conflict",
    ] {
        assert!(config.contains(&c.to_string()), "{c}: {config:?}");
    }
    assert_eq!(v["config"]["verdict"], "fail");
    let invalid: Vec<&str> = v["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "vm-payload-invalid")
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("Invalid value(s) for: pci_devices.2.path")),
        "{invalid:?}"
    );
    assert!(
        invalid.iter().any(|m| m.contains("pci_devices.2.pci_slot")),
        "{invalid:?}"
    );
}

fn example_check(root: &Path, args: &[&str]) -> (Value, i32) {
    let out = support::pptctl_at(root, example_from())
        .arg("check")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

#[test]
fn example_host_reserved_card_is_clean() {
    let (v, code) = example_check(&example_dir().join("root"), &["10de:a65", "10de:be3"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["host"]["verdict"], "ok");
    for slot in ["0000:01:00.0", "0000:01:00.1"] {
        let f = function(&v, slot);
        assert_ne!(f["verdict"], "fail", "{f}");
        let c = codes(f);
        assert!(!c.contains(&"siblings-left-behind".into()), "{f}");
        assert!(c.contains(&"next-boot".into()), "{f}");
    }
    assert_eq!(
        function(&v, "0000:01:00.0")["path"],
        "/pci@0,0/pci8086,151@1/display@0"
    );
    assert_eq!(v["config"]["verdict"], "ok", "{}", v["config"]);
    let config = codes(&v["config"]);
    assert_eq!(config, ["ppt-kept", "ppt-kept"], "{}", v["config"]);
    let msg = v["config"]["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("/dev/ppt0"), "{msg}");
}

#[test]
fn example_host_only_function_0_reserved() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    w(
        &root.join("etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n",
    );
    let (v, code) = example_check(&root, &[]);
    assert_eq!(
        code, 0,
        "a plain check leaves the host bridge and root port out: {v}"
    );
    assert!(v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["slot"] != "0000:00:00.0" && f["slot"] != "0000:00:01.0"));
    let gpu = function(&v, "0000:01:00.0");
    assert_ne!(gpu["verdict"], "fail", "{gpu}");
    assert!(codes(gpu).contains(&"siblings-left-behind".into()), "{gpu}");
    let msg = gpu["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "siblings-left-behind")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("0000:01:00.1"), "{msg}");
    let audio = function(&v, "0000:01:00.1");
    assert!(!codes(audio).contains(&"siblings-left-behind".into()));
    let config = codes(&v["config"]);
    assert!(config.contains(&"pending-change".into()), "{config:?}");
    assert!(config.contains(&"ppt-kept".into()), "{config:?}");
    // A VM that still wants function 1 will not find it on ppt.
    let vm = t.path().join("vm.json");
    w(
        &vm,
        r#"{"alias":"gpu","pci_devices":[
            {"path":"/devices/pci@0,0/pci8086,151@1/display@0","pci_slot":"0:8:0"},
            {"path":"/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1","pci_slot":"0:8:1"}]}"#,
    );
    let (v, code) = example_check(&root, &["01:00.0", "--vm", vm.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["config"]["verdict"], "fail");
    let reason = v["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "ppt-not-bound")
        .unwrap_or_else(|| panic!("{}", v["config"]));
    assert!(
        reason["message"]
            .as_str()
            .unwrap()
            .contains("pci_devices.1"),
        "{reason}"
    );
}

#[test]
fn example_host_blog_typo_alias_is_explained() {
    // The 2018 blog's second alias lacks function 1's unit address.
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    w(
        &root.join("etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt \"/pci@0,0/pci8086,151@1/pci1462,2291\"\n",
    );
    let (v, code) = example_check(&root, &["10de:a65"]);
    assert_eq!(code, 0, "warnings only");
    assert_eq!(v["config"]["verdict"], "warn");
    let r = v["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "alias-binds-nothing")
        .unwrap_or_else(|| panic!("{}", v["config"]));
    let msg = r["message"].as_str().unwrap();
    assert!(msg.starts_with("/etc/ppt_aliases:2: "), "{msg}");
    assert!(
        msg.contains("pci1462,2291@0,1"),
        "the note names the real path: {msg}"
    );
    assert!(codes(function(&v, "0000:01:00.0")).contains(&"siblings-left-behind".into()));
}

#[test]
fn a_snapshot_gives_the_same_verdicts() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let snap = pptctl(&sys, &["snapshot"])
        .success()
        .get_output()
        .stdout
        .clone();
    let file = t.path().join("host.json");
    fs::write(&file, snap).unwrap();
    let (live, live_code) = json(&sys, &["check", "--json"]);
    let out = support::pptctl_at(t.path().join("empty-root"), snapshot_from(&file))
        .args(["check", "--json"])
        .output()
        .unwrap();
    let offline: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(live_code));
    assert_eq!(offline, live);
}
