//! Linux sysfs source end to end: a sysfs tree generated here (from real
//! config bytes of ../shared/realdata when present, hand-made bytes
//! otherwise) read by `pptctl --from sysfs:DIR show -n` and compared with
//! `lspci -A linux-sysfs -O sysfs.path=DIR/bus/pci -n`; the facts sysfs
//! adds (BAR sizes, driver, IOMMU group, SR-IOV links, boot_vga); bad
//! trees (dangling symlink, junk files); and this machine's own /sys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

mod support;
use pci_core::sources::{dump::load_dump_file, Source, SysfsSource};
use support::{have_lspci, lspci, realdata};

/// Config bytes of `slot` in a real dump, or `fallback` when the corpus is
/// absent.
fn real_config(file: &str, slot: &str, fallback: Vec<u8>) -> Vec<u8> {
    let Some(root) = realdata() else {
        return fallback;
    };
    let host = load_dump_file(&root.join(file)).unwrap();
    host.functions
        .iter()
        .find(|f| f.address.to_string() == slot)
        .unwrap_or_else(|| panic!("{slot} not in {file}"))
        .config
        .clone()
}

/// 64 hand-made bytes: IDs, revision, class, header type.
fn cfg(vendor: u16, device: u16, class: u32, rev: u8, header: u8) -> Vec<u8> {
    let mut c = vec![0u8; 64];
    c[0..2].copy_from_slice(&vendor.to_le_bytes());
    c[2..4].copy_from_slice(&device.to_le_bytes());
    c[8] = rev;
    c[9..12].copy_from_slice(&class.to_le_bytes()[..3]);
    c[0x0e] = header;
    c
}

struct Dev<'a> {
    /// Path below DIR/devices, e.g. `pci0000:00/0000:00:1c.0/0000:02:00.0`.
    path: &'a str,
    config: Vec<u8>,
    /// Overrides of the attribute files (kernel view); default from config.
    vendor: Option<u16>,
    device: Option<u16>,
    class: Option<u32>,
    revision_file: bool,
    resource: Option<String>,
    driver: Option<&'a str>,
    iommu_group: Option<u32>,
    boot_vga: Option<&'a str>,
}

impl<'a> Dev<'a> {
    fn new(path: &'a str, config: Vec<u8>) -> Self {
        Dev {
            path,
            config,
            vendor: None,
            device: None,
            class: None,
            revision_file: true,
            resource: None,
            driver: None,
            iommu_group: None,
            boot_vga: None,
        }
    }
    fn name(&self) -> &'a str {
        self.path.rsplit('/').next().unwrap()
    }
}

fn w(path: &Path, text: impl AsRef<[u8]>) {
    fs::write(path, text).unwrap();
}

/// Writes one device directory and its bus/pci/devices link.
fn add(dir: &Path, d: &Dev) {
    let dev = dir.join("devices").join(d.path);
    fs::create_dir_all(&dev).unwrap();
    let c = &d.config;
    let word = |p: usize| u16::from_le_bytes([c[p], c[p + 1]]);
    w(&dev.join("config"), c);
    w(
        &dev.join("vendor"),
        format!("0x{:04x}\n", d.vendor.unwrap_or(word(0))),
    );
    w(
        &dev.join("device"),
        format!("0x{:04x}\n", d.device.unwrap_or(word(2))),
    );
    let class = u32::from(c[9]) | u32::from(word(0x0a)) << 8;
    w(
        &dev.join("class"),
        format!("0x{:06x}\n", d.class.unwrap_or(class)),
    );
    if d.revision_file {
        w(&dev.join("revision"), format!("0x{:02x}\n", c[8]));
    }
    if c[0x0e] & 0x7f == 0 {
        w(
            &dev.join("subsystem_vendor"),
            format!("0x{:04x}\n", word(0x2c)),
        );
        w(
            &dev.join("subsystem_device"),
            format!("0x{:04x}\n", word(0x2e)),
        );
    }
    let resource = d.resource.clone().unwrap_or_else(|| {
        let zero = "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
        zero.repeat(13)
    });
    w(&dev.join("resource"), resource);
    if let Some(drv) = d.driver {
        let target = dir.join("bus/pci/drivers").join(drv);
        fs::create_dir_all(&target).unwrap();
        symlink(&target, dev.join("driver")).unwrap();
    }
    if let Some(g) = d.iommu_group {
        let target = dir.join("kernel/iommu_groups").join(g.to_string());
        fs::create_dir_all(&target).unwrap();
        symlink(&target, dev.join("iommu_group")).unwrap();
    }
    if let Some(v) = d.boot_vga {
        w(&dev.join("boot_vga"), v);
    }
    let links = dir.join("bus/pci/devices");
    fs::create_dir_all(&links).unwrap();
    symlink(format!("../../../devices/{}", d.path), links.join(d.name())).unwrap();
}

/// A line of `resource`.
fn res(start: u64, end: u64, flags: u64) -> String {
    format!("0x{start:016x} 0x{end:016x} 0x{flags:016x}\n")
}

/// The fixture: a host bridge, a boot VGA, a root port with an SR-IOV PF
/// and two VFs behind it, an SMBus function whose class the kernel fixed,
/// a function without a `revision` file, and a function in domain 2.
fn build(dir: &Path) {
    let dh77 = "MrArtemSid+coreboot_dh77df/logs/lspci.log";
    let pf_cfg = real_config(
        "pciutils+pciutils/tests/cap-pcie-2",
        "0000:01:00.0",
        cfg(0x8086, 0x10c9, 0x020000, 1, 0x80),
    );
    let mut vf_cfg = pf_cfg.clone();
    // A VF's config space reads vendor/device ffff (PCIe SR-IOV spec §3.4.1.1);
    // the kernel reports the IDs from the PF's SR-IOV capability instead.
    vf_cfg[0..4].copy_from_slice(&[0xff; 4]);

    add(
        dir,
        &Dev::new(
            "pci0000:00/0000:00:00.0",
            real_config(dh77, "0000:00:00.0", cfg(0x8086, 0x0150, 0x060000, 9, 0)),
        ),
    );
    let mut vga = Dev::new(
        "pci0000:00/0000:00:02.0",
        real_config(dh77, "0000:00:02.0", cfg(0x8086, 0x0152, 0x030000, 9, 0)),
    );
    vga.driver = Some("i915");
    vga.iommu_group = Some(1);
    vga.boot_vga = Some("1\n");
    vga.resource = Some(
        res(0xf780_0000, 0xf7bf_ffff, 0x40200)
            + &res(0xe000_0000, 0xefff_ffff, 0x4120c)
            + &res(0, 0, 0)
            + &res(0, 0, 0)
            + &res(0xf000, 0xf03f, 0x40101)
            + &res(0, 0, 0)
            + &res(0xc0000, 0xdffff, 0x212),
    );
    add(dir, &vga);
    add(
        dir,
        &Dev::new(
            "pci0000:00/0000:00:1c.0",
            real_config(
                dh77,
                "0000:00:1c.0",
                cfg(0x8086, 0x1e10, 0x060400, 0xc4, 0x81),
            ),
        ),
    );
    let mut smbus = Dev::new(
        "pci0000:00/0000:00:1f.3",
        real_config(dh77, "0000:00:1f.3", cfg(0x8086, 0x1e22, 0x0c0500, 4, 0)),
    );
    smbus.class = Some(0x0c8000);
    add(dir, &smbus);
    let mut norev = Dev::new(
        "pci0000:00/0000:00:1f.2",
        real_config(dh77, "0000:00:1f.2", cfg(0x8086, 0x1e02, 0x010601, 4, 0)),
    );
    norev.revision_file = false;
    add(dir, &norev);

    add_sriov(dir, pf_cfg, &vf_cfg);
    add(
        dir,
        &Dev::new(
            "pci0002:01/0002:01:00.0",
            real_config(
                "pciutils+pciutils/tests/cap-ea-1",
                "0002:01:00.0",
                cfg(0x177d, 0xa01e, 0x020000, 8, 0),
            ),
        ),
    );
}

/// The SR-IOV physical function behind the root port and two of its
/// virtual functions, linked both ways as the kernel links them.
fn add_sriov(dir: &Path, pf_cfg: Vec<u8>, vf_cfg: &[u8]) {
    let mut pf = Dev::new("pci0000:00/0000:00:1c.0/0000:02:00.0", pf_cfg);
    pf.driver = Some("igb");
    pf.iommu_group = Some(7);
    add(dir, &pf);
    for (n, vf) in ["0000:02:10.0", "0000:02:10.2"].iter().enumerate() {
        let path = format!("pci0000:00/0000:00:1c.0/{vf}");
        let mut d = Dev::new(&path, vf_cfg.to_vec());
        d.vendor = Some(0x8086);
        d.device = Some(0x10ca);
        d.driver = Some("igbvf");
        add(dir, &d);
        let pf_dir = dir.join("devices/pci0000:00/0000:00:1c.0/0000:02:00.0");
        symlink(format!("../{vf}"), pf_dir.join(format!("virtfn{n}"))).unwrap();
        let vf_dir = dir.join("devices").join(&path);
        symlink("../0000:02:00.0", vf_dir.join("physfn")).unwrap();
    }
}

fn lspci_sysfs(dir: &Path, args: &[&str]) -> String {
    let o = lspci()
        .args(["-A", "linux-sysfs", "-O"])
        .arg(format!("sysfs.path={}", dir.join("bus/pci").display()))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "lspci: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn pptctl(from: &str, args: &[&str]) -> std::process::Output {
    support::pptctl()
        .args(["--from", from, "show"])
        .args(args)
        .output()
        .unwrap()
}

const SELECTIONS: &[&[&str]] = &[
    &["-n"],
    &["-n", "-D"],
    &["-n", "-s", "02:"],
    &["-n", "-s", "2::"],
    &["-n", "-s", ".2"],
    &["-n", "-d", "8086:10ca"],
    &["-n", "-d", "::0c80"],
    &["-n", "-d", "::06xx"],
    &["-nn"],
    &["-n", "-x"],
    &["-n", "-xxx"],
    &["-n", "-xxxx"],
];

#[test]
fn fixture_matches_lspci() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let from = format!("sysfs:{}", tmp.path().display());
    let got = String::from_utf8(pptctl(&from, &["-n"]).stdout).unwrap();
    // The kernel's view wins over config space, as in lspci: the fixed
    // class of 1f.3 and the VFs' IDs.
    assert!(got.contains("0000:00:1f.3 0c80: 8086:1e22"), "{got}");
    assert!(got.contains("0000:02:10.2 0200: 8086:10ca"), "{got}");
    assert_eq!(got.lines().count(), 9, "{got}");
    if !have_lspci() {
        eprintln!("skipped the lspci comparison: lspci is not installed");
        return;
    }
    for args in SELECTIONS {
        let want = lspci_sysfs(tmp.path(), args);
        let o = pptctl(&from, args);
        assert!(o.status.success());
        assert_eq!(String::from_utf8(o.stdout).unwrap(), want, "{args:?}");
        assert!(
            o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn fixture_facts() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let host = SysfsSource::new(tmp.path()).load().unwrap();
    assert!(host.warnings.is_empty(), "{:?}", host.warnings);
    let f = |s: &str| {
        host.functions
            .iter()
            .find(|f| f.address.to_string() == s)
            .unwrap()
    };
    let vga = f("0000:00:02.0");
    assert_eq!(vga.driver.as_deref(), Some("i915"));
    assert_eq!(vga.iommu_group, Some(1));
    assert_eq!(vga.boot_vga, Some(true));
    assert_eq!(
        vga.bar_sizes,
        [Some(4 << 20), Some(256 << 20), None, None, Some(64), None]
    );
    assert_eq!(vga.rom_size, Some(128 << 10));
    let pf = f("0000:02:00.0");
    assert_eq!(
        pf.virtfns.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        ["0000:02:10.0", "0000:02:10.2"]
    );
    let vf = f("0000:02:10.2");
    assert_eq!(
        vf.physfn.map(|a| a.to_string()).as_deref(),
        Some("0000:02:00.0")
    );
    assert_eq!((vf.ids.vendor, vf.ids.device), (0x8086, 0x10ca));
    assert_eq!(&vf.config[..2], &[0xff, 0xff]);
    // No revision file: the revision comes from config byte 8.
    assert_eq!(f("0000:00:1f.2").ids.revision, f("0000:00:1f.2").config[8]);
    let order: Vec<String> = host
        .functions
        .iter()
        .map(|f| f.address.to_string())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn dangling_symlink_and_junk_are_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let from = format!("sysfs:{}", tmp.path().display());
    // -v: a plain listing (-n) reads no `resource` file since the
    // identity-only sysfs read; the decode does.
    let before = pptctl(&from, &["-n", "-v"]);
    let links = tmp.path().join("bus/pci/devices");
    symlink(
        "../../../devices/pci0000:00/0000:00:1f.0",
        links.join("0000:00:1f.0"),
    )
    .unwrap();
    w(&links.join("0000:00:00.0/resource"), "junk\n");
    symlink("nowhere", links.join("not-an-address")).unwrap();
    let o = pptctl(&from, &["-n", "-v"]);
    assert!(o.status.success());
    assert_eq!(o.stdout, before.stdout);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("0000:00:1f.0: dangling symlink"), "{err}");
    assert!(
        err.contains("0000:00:00.0/resource:1: expected `start end flags`"),
        "{err}"
    );
    assert!(err.contains("not-an-address: not a PCI address"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn not_a_sysfs_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let o = pptctl(&format!("sysfs:{}", tmp.path().display()), &["-n"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("not a sysfs tree"), "{err}");
}

#[test]
fn this_machine_matches_lspci() {
    if !cfg!(target_os = "linux") || !Path::new("/sys/bus/pci/devices").is_dir() {
        eprintln!("skipped: no Linux /sys/bus/pci here");
        return;
    }
    if !have_lspci() {
        eprintln!("skipped: lspci is not installed");
        return;
    }
    for args in [
        &["-n"][..],
        &["-n", "-D"],
        &["-n", "-s", "0"],
        &["-n", "-d", "1af4:"],
    ] {
        let want = lspci().args(args).output().unwrap();
        let got = support::pptctl().arg("show").args(args).output().unwrap();
        assert!(got.status.success());
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{args:?}"
        );
    }
}
