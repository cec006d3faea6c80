//! The emulated machine `check.rs` runs on, built as a Linux sysfs tree:
//! hand-made config spaces with capability chains, `resource` files and
//! the `devices`/`bus/pci/devices` links.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

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

pub fn w(path: &Path, text: impl AsRef<[u8]>) {
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
pub fn machine(root: &Path) -> std::path::PathBuf {
    let sys = root.join("sys");
    firmware(root, &sys);
    root_complex(&sys);
    switch(&sys);
    sriov_and_small_bar(&sys);
    sys
}

/// VT-d in the ACPI tables and an Intel CPU, for the copied tree and the
/// root.
fn firmware(root: &Path, sys: &Path) {
    fs::create_dir_all(sys.join("firmware/acpi/tables")).unwrap();
    w(&sys.join("firmware/acpi/tables/DMAR"), b"DMAR");
    fs::create_dir_all(sys.join("class/iommu/dmar0")).unwrap();
    fs::create_dir_all(root.join("proc")).unwrap();
    w(&root.join("proc/cpuinfo"), "vendor_id\t: GenuineIntel\n");
    // The sysfs source reads procfs at DIR/proc for a copied tree.
    fs::create_dir_all(sys.join("proc")).unwrap();
    w(&sys.join("proc/cpuinfo"), "vendor_id\t: GenuineIntel\n");
}

/// The host bridge, a legacy PCI NIC, and a root port with ACS above a
/// healthy NIC.
fn root_complex(sys: &Path) {
    // 00:00.0 host bridge, no capabilities.
    add(
        sys,
        "pci0000:00/0000:00:00.0",
        &Cfg::new(0x8086, 0x29c0, 0x060000, 0),
        &[],
        None,
    );
    // 00:03.0 legacy PCI NIC: I/O BAR, no capability list.
    let mut legacy = Cfg::new(0x10ec, 0x8139, 0x020000, 0);
    legacy.bar32(0, 0xc001).bar32(1, 0xfebf_1000);
    add(
        sys,
        "pci0000:00/0000:00:03.0",
        &legacy,
        &[res(0xc000, 256, IO), res(0xfebf_1000, 256, MEM)],
        Some("8139too"),
    );
    // 00:1c.0 root port with ACS → 01:00.0 healthy NIC (MSI-X, FLR, 16 KiB).
    let mut rp = Cfg::new(0x8086, 0x3a40, 0x060400, 1);
    rp.msi().pcie(4, false).acs().buses(0, 1, 1);
    add(sys, "pci0000:00/0000:00:1c.0", &rp, &[], Some("pcieport"));
    let mut nic = Cfg::new(0x8086, 0x10d3, 0x020000, 0);
    nic.bar32(0, 0xfe80_0000).msi().msix().pcie(0, true);
    add(
        sys,
        "pci0000:00/0000:00:1c.0/0000:01:00.0",
        &nic,
        &[res(0xfe80_0000, 0x4000, MEM)],
        Some("e1000e"),
    );
}

/// A root port with ACS above a switch without ACS, two endpoints
/// without FLR below one downstream port.
fn switch(sys: &Path) {
    // 00:1c.1 root port with ACS → switch without ACS on its downstream
    // port → two endpoints without FLR below one downstream port.
    let mut rp2 = Cfg::new(0x8086, 0x3a42, 0x060400, 1);
    rp2.msi().pcie(4, false).acs().buses(0, 2, 4);
    add(sys, "pci0000:00/0000:00:1c.1", &rp2, &[], Some("pcieport"));
    let mut up = Cfg::new(0x10b5, 0x8747, 0x060400, 1);
    up.msi().pcie(5, false).buses(2, 3, 4);
    add(
        sys,
        "pci0000:00/0000:00:1c.1/0000:02:00.0",
        &up,
        &[],
        Some("pcieport"),
    );
    let mut down = Cfg::new(0x10b5, 0x8747, 0x060400, 1);
    down.msi().pcie(6, false).buses(3, 4, 4);
    add(
        sys,
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
            sys,
            &format!("pci0000:00/0000:00:1c.1/0000:02:00.0/0000:03:00.0/{slot}"),
            &ep,
            &[res(u64::from(bar), 0x4000, MEM)],
            Some("nvme"),
        );
    }
}

/// An SR-IOV PF with two VFs, and a function with a 256-byte BAR.
fn sriov_and_small_bar(sys: &Path) {
    // 00:1d.0 SR-IOV PF with 2 VFs enabled, FLR, MSI-X.
    let mut pf = Cfg::new(0x8086, 0x10c9, 0x020000, 0);
    pf.bar32(0, 0xfc00_0000).msix().pcie(9, true).sriov(7, 2);
    add(
        sys,
        "pci0000:00/0000:00:1d.0",
        &pf,
        &[res(0xfc00_0000, 0x2_0000, MEM)],
        Some("igb"),
    );
    // 00:1f.3 SMBus-like function: MSI but a 256-byte memory BAR.
    let mut small = Cfg::new(0x8086, 0x2930, 0x0c0500, 0);
    small.bar32(0, 0xfebf_2000).msi();
    add(
        sys,
        "pci0000:00/0000:00:1f.3",
        &small,
        &[res(0xfebf_2000, 256, MEM)],
        None,
    );
}
