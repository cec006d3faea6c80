//! Writes a generated host as an illumos devinfo snapshot cache
//! (`/etc/devices/snapshot_cache`), in the layout of illumos-gate
//! `usr/src/uts/common/sys/devinfo_impl.h` (version 2 with
//! `aliases`/`req_path`, little-endian, 64-bit kernel struct sizes), so the
//! illumos reader can be benchmarked on large trees.
//!
//! Nodes are named with the x86 rules (illumos-gate `pci_props.c`: `pci_prop_name_node`,
//! unit address `dev[,fn]`, the `compatible` alias table), root complexes
//! are `/pci@D,0` (one per generated domain), and every function carries the
//! hw properties libppt and pcieadm read.
//!
//! Limit: x86 illumos has one PCI segment, and `reg` holds no domain, so
//! the functions of generated domains other than 0 (hosts above ~800
//! functions) repeat bus numbers under their own root complex. The whole
//! tree is still parsed (what the parse benchmark measures); the reader's
//! conversion to a host skips such repeats with a warning.

use crate::topology::{GenFunction, GenHost};

// Struct sizes (`devinfo_impl.h`, 64-bit kernel).
const ALL_FIXED: usize = 0x4c;
const REQ_PATH_LEN: usize = 1024;
const NODE_SIZE: usize = 0xa8;
const PROP_SIZE: usize = 0x24;
const MINOR_SIZE: usize = 0x30;
const DEVNM_SIZE: usize = 0x18;

/// `cache_magic` of a cached snapshot.
pub const CACHE_MAGIC: u32 = 0xdfca_c6ed;
/// Snapshot flags with the ioctl base masked off: SUBTREE, MINOR, PROP, PATH, FORCE.
const COMMAND: u32 = 0x2f;
/// A fixed snapshot time, so output is reproducible.
const SNAPSHOT_TIME: u64 = 1_764_000_000;

// Property type bits (ddipropdefs.h) and lists.
const PROP_INT: u32 = 0x100;
const PROP_STRING: u32 = 0x200;
const LIST_DRV: u32 = 0;
const LIST_HW: u32 = 3;

/// Node states (DS_*): 6 = ready (attached), 2 = bound.
const DS_READY: i32 = 6;
const DS_BOUND: i32 = 2;

/// CRC-32 as illumos computes the cache checksum (sys/crc32.h: reflected
/// polynomial 0xEDB88320, start value -1, no final inversion), which is the
/// bitwise NOT of the usual zlib CRC-32.
pub fn illumos_crc32(bytes: &[u8]) -> u32 {
    !crc32fast::hash(bytes)
}

/// The drivers of the generated tree, in major-number order.
const DRIVERS: &[&str] = &[
    "rootnex", "npe", "pcieb", "ppt", "igb", "nvme", "xhci", "ahci", "audiohd", "vgatext",
    "pci_pci", "isa", "ehci", "smbus", "pcie_pci",
];
/// Size of the major-number table (real ones are a few hundred).
const DEVCNT: usize = 300;

fn major(name: &str) -> i32 {
    DRIVERS
        .iter()
        .position(|d| *d == name)
        .map_or(-1, |m| m as i32)
}

/// The illumos driver the generated tree binds to a function; every tenth
/// endpoint is bound to `ppt` (pass-through), a few stay unbound.
pub fn illumos_driver(f: &GenFunction, index: usize) -> Option<&'static str> {
    if f.is_bridge() {
        return Some("pcieb");
    }
    if index % 10 == 5 {
        return Some("ppt");
    }
    match f.class() >> 8 {
        0x0106 => Some("ahci"),
        0x0108 => Some("nvme"),
        0x0200 => Some("igb"),
        0x0300 => Some("vgatext"),
        0x0403 => Some("audiohd"),
        0x0c03 if f.class() & 0xff == 0x30 => Some("xhci"),
        0x0c03 if f.class() & 0xff == 0x20 => Some("ehci"),
        0x0c05 => Some("smbus"),
        0x0601 => Some("isa"),
        _ => None,
    }
}

/// Node name by the x86 rules (`pci_props.c` `pci_prop_name_node`).
pub fn node_name(f: &GenFunction) -> String {
    let class = f.class();
    let (base, sub, pi) = ((class >> 16) as u8, (class >> 8) as u8, class as u8);
    if matches!((base, sub, pi), (0, 1, 0) | (3, 0, 0) | (3, 0, 1)) {
        return "display".into();
    }
    if base == 6 && sub == 1 {
        return "isa".into();
    }
    let (sv, ss) = f.subsystem();
    if sv != 0 && !f.is_bridge() {
        format!("pci{sv:x},{ss:x}")
    } else {
        format!("pci{:x},{:x}", f.vendor(), f.device())
    }
}

/// Unit address (`pci_props.c` `pci_prop_set_common_props`).
pub fn unit_address(f: &GenFunction) -> String {
    if f.address.function == 0 {
        format!("{:x}", f.address.device)
    } else {
        format!("{:x},{:x}", f.address.device, f.address.function)
    }
}

/// The `compatible` list (`pci_props.c` `pci_prop_set_compatible`): a PCIe pass (for functions
/// with a PCI Express capability) then the PCI pass.
pub fn compatible(f: &GenFunction) -> Vec<String> {
    let (v, d, r) = (f.vendor(), f.device(), f.revision());
    let (sv, ss) = f.subsystem();
    let class = f.class();
    let (cc, cs, cp) = ((class >> 16) as u8, (class >> 8) as u8, class as u8);
    let no_subsys =
        (v == 0x10de && cc == 3) || (v == 0x8086 && d == 0x0166 && sv == 0x8086 && ss == 0x2044);
    let mut out = Vec::with_capacity(15);
    let passes: &[&str] = if f.pcie_cap().is_some() {
        &["pciex", "pci"]
    } else {
        &["pci"]
    };
    for &p in passes {
        let pci = p == "pci";
        if sv != 0 {
            out.push(format!("{p}{v:x},{d:x}.{sv:x}.{ss:x}.{r:x}"));
            out.push(format!("{p}{v:x},{d:x}.{sv:x}.{ss:x}"));
            if pci && !no_subsys {
                out.push(format!("{p}{sv:x},{ss:x},s"));
                if !f.is_bridge() {
                    out.push(format!("{p}{sv:x},{ss:x}"));
                }
            }
        }
        out.push(format!("{p}{v:x},{d:x}.{r:x}"));
        if pci {
            out.push(format!("{p}{v:x},{d:x},p"));
        }
        out.push(format!("{p}{v:x},{d:x}"));
        out.push(format!("{p}class,{cc:02x}{cs:02x}{cp:02x}"));
        out.push(format!("{p}class,{cc:02x}{cs:02x}"));
    }
    out
}

/// The devfs path of every function (`/pci@D,0/...`), by index.
pub fn devfs_paths(host: &GenHost) -> Vec<String> {
    let mut paths: Vec<String> = Vec::with_capacity(host.functions.len());
    for f in &host.functions {
        let comp = format!("{}@{}", node_name(f), unit_address(f));
        let p = match f.parent {
            Some(p) if p < paths.len() => format!("{}/{comp}", paths[p]),
            _ => format!("/pci@{:x},0/{comp}", f.address.domain),
        };
        paths.push(p);
    }
    paths
}

enum Val {
    Ints(Vec<i32>),
    Strs(Vec<String>),
}

struct Buf {
    b: Vec<u8>,
}

impl Buf {
    /// Reserves `n` zero bytes at an 8-aligned offset (the kernel rounds
    /// every allocation up to 8).
    fn alloc(&mut self, n: usize) -> i32 {
        let off = self.b.len();
        let end = (off + n).div_ceil(8) * 8;
        self.b.resize(end, 0);
        off as i32
    }
    fn i32_at(&mut self, off: i32, v: i32) {
        let o = off as usize;
        self.b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn u32_at(&mut self, off: i32, v: u32) {
        self.i32_at(off, v as i32);
    }
    fn str(&mut self, s: &str) -> i32 {
        let off = self.alloc(s.len() + 1);
        let o = off as usize;
        self.b[o..o + s.len()].copy_from_slice(s.as_bytes());
        off
    }
    /// Packed NUL-separated strings; returns (offset, byte length).
    fn strs(&mut self, list: &[String]) -> (i32, i32) {
        let len: usize = list.iter().map(|s| s.len() + 1).sum();
        let off = self.alloc(len);
        let mut o = off as usize;
        for s in list {
            self.b[o..o + s.len()].copy_from_slice(s.as_bytes());
            o += s.len() + 1;
        }
        (off, len as i32)
    }
    /// A property list; returns the offset of its first `di_prop` (0 if empty).
    fn props(&mut self, list: &[(&str, Val)], which: u32) -> i32 {
        let mut first = 0;
        let mut prev: Option<i32> = None;
        for (name, val) in list {
            let p = self.alloc(PROP_SIZE);
            self.i32_at(p, p);
            let n = self.str(name);
            let (data, len, flags) = match val {
                Val::Ints(v) => {
                    let d = self.alloc(v.len() * 4);
                    for (i, x) in v.iter().enumerate() {
                        self.i32_at(d + 4 * i as i32, *x);
                    }
                    (d, (v.len() * 4) as i32, PROP_INT)
                }
                Val::Strs(v) => {
                    let (d, l) = self.strs(v);
                    (d, l, PROP_STRING)
                }
            };
            self.i32_at(p + 0x08, n);
            self.i32_at(p + 0x0c, data);
            self.u32_at(p + 0x10, u32::MAX); // DDI_DEV_T_NONE
            self.u32_at(p + 0x14, u32::MAX);
            self.u32_at(p + 0x18, flags);
            self.i32_at(p + 0x1c, len);
            self.u32_at(p + 0x20, which);
            match prev {
                Some(q) => self.i32_at(q + 0x04, p),
                None => first = p,
            }
            prev = Some(p);
        }
        first
    }
}

struct NodeSpec<'a> {
    name: &'a str,
    address: Option<&'a str>,
    driver: Option<&'a str>,
    compatible: Vec<String>,
    hw: Vec<(&'a str, Val)>,
    drv: Vec<(&'a str, Val)>,
    minors: Vec<(&'a str, &'a str)>,
}

struct Writer {
    buf: Buf,
    devnames: i32,
    /// Last node bound to each major (for the per-driver `next` chain).
    last_of_major: Vec<i32>,
    instances: Vec<i32>,
}

impl Writer {
    fn node(&mut self, spec: &NodeSpec<'_>, parent: i32) -> i32 {
        let b = &mut self.buf;
        let n = b.alloc(NODE_SIZE);
        b.i32_at(n, n);
        b.i32_at(n + 0x04, parent);
        let name = b.str(spec.name);
        b.i32_at(n + 0x14, name);
        if let Some(a) = spec.address {
            let a = b.str(a);
            b.i32_at(n + 0x18, a);
        }
        if !spec.compatible.is_empty() {
            let (c, len) = b.strs(&spec.compatible);
            b.i32_at(n + 0x20, c);
            b.i32_at(n + 0x50, len);
        }
        let drv = b.props(&spec.drv, LIST_DRV);
        b.i32_at(n + 0x28, drv);
        b.i32_at(n + 0x30, -1); // no global properties
        let hw = b.props(&spec.hw, LIST_HW);
        b.i32_at(n + 0x34, hw);
        b.i32_at(n + 0x5c, -2); // DEVI_SID_NODEID: self-identifying node
        let m = spec.driver.map_or(-1, major);
        b.i32_at(n + 0x54, m);
        if m >= 0 {
            let mu = m as usize;
            let inst = self.instances[mu];
            self.instances[mu] += 1;
            let b = &mut self.buf;
            b.i32_at(n + 0x58, inst);
            b.i32_at(n + 0x6c, DS_READY);
            // The bind name is the compatible entry the driver matched; the
            // generated tree uses the most specific one (or the node name).
            let bind = spec.compatible.first().map_or(spec.name, String::as_str);
            let bn = b.str(bind);
            b.i32_at(n + 0x1c, bn);
            match self.last_of_major[mu] {
                0 => {
                    let slot = self.devnames + (mu * DEVNM_SIZE) as i32;
                    self.buf.i32_at(slot + 0x08, n);
                }
                prev => self.buf.i32_at(prev + 0x10, n),
            }
            self.last_of_major[mu] = n;
            let mut prev_minor = 0;
            for (mname, mtype) in &spec.minors {
                let b = &mut self.buf;
                let mo = b.alloc(MINOR_SIZE);
                b.i32_at(mo, mo);
                let s = b.str(mname);
                b.i32_at(mo + 0x08, s);
                let t = b.str(mtype);
                b.i32_at(mo + 0x0c, t);
                b.i32_at(mo + 0x14, m);
                b.i32_at(mo + 0x18, inst);
                b.u32_at(mo + 0x1c, 0x2000); // S_IFCHR
                b.i32_at(mo + 0x24, n);
                if prev_minor == 0 {
                    b.i32_at(n + 0x24, mo);
                } else {
                    b.i32_at(prev_minor + 0x04, mo);
                }
                prev_minor = mo;
            }
        } else {
            let b = &mut self.buf;
            b.i32_at(n + 0x58, -1);
            b.i32_at(n + 0x6c, DS_BOUND);
        }
        n
    }

    /// Links `child` as the last child of `parent`.
    fn link_child(&mut self, parent: i32, last_child: &mut Option<i32>, child: i32) {
        match *last_child {
            None => self.buf.i32_at(parent + 0x08, child),
            Some(prev) => self.buf.i32_at(prev + 0x0c, child),
        }
        *last_child = Some(child);
    }
}

fn function_spec<'a>(f: &GenFunction, index: usize, name: &'a str, addr: &'a str) -> NodeSpec<'a> {
    let (sv, ss) = f.subsystem();
    let a = f.address;
    let phys_hi = i32::from(a.bus) << 16 | i32::from(a.device) << 11 | i32::from(a.function) << 8;
    let mut hw = vec![
        ("vendor-id", Val::Ints(vec![i32::from(f.vendor())])),
        ("device-id", Val::Ints(vec![i32::from(f.device())])),
        ("revision-id", Val::Ints(vec![i32::from(f.revision())])),
        ("class-code", Val::Ints(vec![f.class() as i32])),
    ];
    if sv != 0 {
        hw.push(("subsystem-vendor-id", Val::Ints(vec![i32::from(sv)])));
        hw.push(("subsystem-id", Val::Ints(vec![i32::from(ss)])));
    }
    hw.push(("unit-address", Val::Strs(vec![addr.to_string()])));
    hw.push(("reg", Val::Ints(vec![phys_hi, 0, 0, 0, 0])));
    let compat = compatible(f);
    hw.push(("compatible", Val::Strs(compat.clone())));
    let mut drv = Vec::new();
    if f.is_bridge() {
        let t = if f.pcie_cap().is_some() {
            "pciex"
        } else {
            "pci"
        };
        hw.push(("device_type", Val::Strs(vec![t.into()])));
        drv.push(("device_type", Val::Strs(vec![t.into()])));
    }
    let driver = illumos_driver(f, index);
    let minors = match driver {
        Some("ppt") => vec![("ppt", "ddi_pseudo")],
        Some("pcieb") => vec![("devctl", "ddi_ctl:devctl")],
        _ => Vec::new(),
    };
    NodeSpec {
        name,
        address: Some(addr),
        driver,
        compatible: compat,
        hw,
        drv,
        minors,
    }
}

/// The snapshot bytes for `host`.
pub fn snapshot_bytes(host: &GenHost) -> Vec<u8> {
    let mut w = Writer {
        buf: Buf {
            b: Vec::with_capacity(host.functions.len() * 2048 + 65536),
        },
        devnames: 0,
        last_of_major: vec![0; DEVCNT],
        instances: vec![0; DEVCNT],
    };
    let hdr = w.buf.alloc(ALL_FIXED + REQ_PATH_LEN + 2);
    w.buf.b[ALL_FIXED] = b'/';
    w.buf.b[ALL_FIXED + REQ_PATH_LEN] = b'/';
    w.devnames = w.buf.alloc(DEVCNT * DEVNM_SIZE);
    for (m, name) in DRIVERS.iter().enumerate() {
        let s = w.buf.str(name);
        let slot = w.devnames + (m * DEVNM_SIZE) as i32;
        w.buf.i32_at(slot, s);
    }
    let root = w.node(
        &NodeSpec {
            name: "i86pc",
            address: None,
            driver: Some("rootnex"),
            compatible: Vec::new(),
            hw: Vec::new(),
            drv: Vec::new(),
            minors: Vec::new(),
        },
        0,
    );
    w.pci_tree(host, root);
    let size = w.buf.b.len() as u32;
    let b = &mut w.buf;
    b.i32_at(hdr, 2); // DI_SNAPSHOT_VERSION
    b.u32_at(hdr + 0x04, CACHE_MAGIC);
    b.i32_at(hdr + 0x0c, 1); // little-endian
    let t = SNAPSHOT_TIME.to_le_bytes();
    b.b[0x18..0x20].copy_from_slice(&t);
    b.i32_at(hdr + 0x20, root);
    b.i32_at(hdr + 0x28, w.devnames);
    b.i32_at(hdr + 0x40, DEVCNT as i32);
    b.u32_at(hdr + 0x44, COMMAND);
    b.u32_at(hdr + 0x48, size);
    let crc = illumos_crc32(&b.b);
    b.u32_at(hdr + 0x14, crc);
    w.buf.b
}

impl Writer {
    /// The PCI nodes below `root`: a root complex per domain, then every
    /// function under its parent bridge or its domain's root complex.
    fn pci_tree(&mut self, host: &GenHost, root: i32) {
        let w = self;
        let mut root_last = None;
        let mut offsets = vec![0i32; host.functions.len()];
        let mut last_child = vec![None; host.functions.len()];
        let mut nexus_of = std::collections::BTreeMap::new();
        for &d in &host.domains {
            let addr = format!("{d:x},0");
            let n = w.node(
                &NodeSpec {
                    name: "pci",
                    address: Some(&addr),
                    driver: Some("npe"),
                    compatible: vec!["pciex_root_complex".into()],
                    hw: vec![("reg", Val::Ints(vec![d as i32, 0, 0]))],
                    drv: vec![("device_type", Val::Strs(vec!["pciex".into()]))],
                    minors: vec![("devctl", "ddi_ctl:devctl"), ("reg", "ddi_ctl")],
                },
                root,
            );
            w.link_child(root, &mut root_last, n);
            nexus_of.insert(d, (n, None::<i32>));
        }
        // Parents sort before their children, so one pass in address order
        // builds the tree.
        for (i, f) in host.functions.iter().enumerate() {
            let name = node_name(f);
            let addr = unit_address(f);
            let spec = function_spec(f, i, &name, &addr);
            match f.parent {
                Some(p) if p < i => {
                    let n = w.node(&spec, offsets[p]);
                    let mut lc = last_child[p];
                    w.link_child(offsets[p], &mut lc, n);
                    last_child[p] = lc;
                    offsets[i] = n;
                }
                _ => {
                    let Some(&(nexus, lc0)) = nexus_of.get(&f.address.domain) else {
                        continue;
                    };
                    let n = w.node(&spec, nexus);
                    let mut lc = lc0;
                    w.link_child(nexus, &mut lc, n);
                    nexus_of.insert(f.address.domain, (nexus, lc));
                    offsets[i] = n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_real_omnios_cache() {
        let p = crate::pool::default_realdata()
            .join("BartVanLooveren+omniosEindwerk/devices/snapshot_cache");
        let Ok(mut bytes) = std::fs::read(&p) else {
            eprintln!("skipping: {} absent", p.display());
            return;
        };
        let stored = u32::from_le_bytes(bytes[0x14..0x18].try_into().unwrap());
        bytes[0x14..0x18].fill(0);
        assert_eq!(stored, 0x14de_0352);
        assert_eq!(illumos_crc32(&bytes), stored);
    }
}
