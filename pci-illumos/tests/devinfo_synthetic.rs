//! Hand-built snapshot bytes: both header layouts, both byte orders, and
//! hostile input (loops, offsets past the end, bad CRC, truncation).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_illumos::devinfo::{checksum_of, to_host, DevinfoError, Endian, Layout, Snapshot};
use proptest::prelude::*;

/// Writes snapshot structs the way the kernel lays them out: 8-byte
/// aligned allocations, offsets from byte 0, the writer's byte order.
struct Builder {
    b: Vec<u8>,
    endian: Endian,
    layout: Layout,
}

const NODE: usize = 0xa8;
const PROP: usize = 0x24;
const MINOR: usize = 0x30;

impl Builder {
    fn new(layout: Layout, endian: Endian) -> Self {
        let mut me = Builder {
            b: Vec::new(),
            endian,
            layout,
        };
        let root_at = match layout {
            Layout::Aliases => 0x44c,
            Layout::Old => 0x48,
        };
        me.alloc(root_at + 2);
        me.b[root_at] = b'/';
        me.put32(0, 2);
        me.put32(0xc, u32::from(endian == Endian::Little));
        me.put32(0x18, 1_462_404_576);
        me
    }
    fn alloc(&mut self, n: usize) -> usize {
        let at = self.b.len();
        let n = (n + 7) & !7;
        self.b.resize(at + n, 0);
        at
    }
    fn put32(&mut self, at: usize, v: u32) {
        let bytes = match self.endian {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        };
        self.b[at..at + 4].copy_from_slice(&bytes);
    }
    fn string(&mut self, s: &str) -> usize {
        let at = self.alloc(s.len() + 1);
        self.b[at..at + s.len()].copy_from_slice(s.as_bytes());
        at
    }
    fn strings(&mut self, list: &[&str]) -> (usize, usize) {
        let joined: Vec<u8> = list.iter().flat_map(|s| s.bytes().chain([0])).collect();
        let at = self.alloc(joined.len());
        self.b[at..at + joined.len()].copy_from_slice(&joined);
        (at, joined.len())
    }
    /// A node with name/address, driver major and instance.
    fn node(&mut self, name: &str, addr: Option<&str>, major: i32, inst: i32) -> usize {
        let at = self.alloc(NODE);
        self.put32(at, at as u32);
        let n = self.string(name);
        self.put32(at + 0x14, n as u32);
        if let Some(a) = addr {
            let a = self.string(a);
            self.put32(at + 0x18, a as u32);
        }
        self.put32(at + 0x30, u32::MAX); // glob_prop: none
        self.put32(at + 0x54, major as u32);
        self.put32(at + 0x58, inst as u32);
        self.put32(at + 0x6c, 6);
        at
    }
    fn child(&mut self, parent: usize, kid: usize) {
        self.put32(kid + 0x04, parent as u32);
        let first = self.get32(parent + 0x08);
        if first == 0 {
            self.put32(parent + 0x08, kid as u32);
        } else {
            let mut k = first as usize;
            while self.get32(k + 0x0c) != 0 {
                k = self.get32(k + 0x0c) as usize;
            }
            self.put32(k + 0x0c, kid as u32);
        }
    }
    fn get32(&self, at: usize) -> u32 {
        let a = [self.b[at], self.b[at + 1], self.b[at + 2], self.b[at + 3]];
        match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        }
    }
    /// Appends a property to list `list_field` (0x28 drv .. 0x34 hw).
    fn prop(
        &mut self,
        node: usize,
        list_field: usize,
        name: &str,
        flags: u32,
        data: &[u8],
    ) -> usize {
        let at = self.alloc(PROP);
        self.put32(at, at as u32);
        let n = self.string(name);
        self.put32(at + 0x08, n as u32);
        if !data.is_empty() {
            let d = self.alloc(data.len());
            self.b[d..d + data.len()].copy_from_slice(data);
            self.put32(at + 0x0c, d as u32);
        }
        self.put32(at + 0x10, u32::MAX);
        self.put32(at + 0x14, u32::MAX);
        self.put32(at + 0x18, flags);
        self.put32(at + 0x1c, data.len() as u32);
        // Prepend (order within one list does not matter to the tests).
        let head = self.get32(node + list_field);
        self.put32(at + 0x04, head);
        self.put32(node + list_field, at as u32);
        at
    }
    fn ints(&mut self, node: usize, name: &str, v: &[u32]) -> usize {
        let data: Vec<u8> = v
            .iter()
            .flat_map(|x| match self.endian {
                Endian::Little => x.to_le_bytes(),
                Endian::Big => x.to_be_bytes(),
            })
            .collect();
        self.prop(node, 0x34, name, 0x100, &data)
    }
    fn str_prop(&mut self, node: usize, field: usize, name: &str, v: &str) -> usize {
        let mut d = v.as_bytes().to_vec();
        d.push(0);
        self.prop(node, field, name, 0x200, &d)
    }
    fn minor(&mut self, node: usize, name: &str) {
        let at = self.alloc(MINOR);
        self.put32(at, at as u32);
        let n = self.string(name);
        self.put32(at + 0x08, n as u32);
        self.put32(at + 0x24, node as u32);
        self.put32(node + 0x24, at as u32);
    }
    fn devnames(&mut self, names: &[&str]) {
        let at = self.alloc(0x18 * names.len());
        for (i, n) in names.iter().enumerate() {
            let s = self.string(n);
            self.put32(at + i * 0x18, s as u32);
        }
        self.put32(0x28, at as u32);
        let devcnt_at = match self.layout {
            Layout::Aliases => 0x40,
            Layout::Old => 0x3c,
        };
        self.put32(devcnt_at, names.len() as u32);
    }
    /// Sets map_size, the cache magic and the CRC.
    fn finish(mut self, cached: bool) -> Vec<u8> {
        let len = self.b.len() as u32;
        let ms_at = match self.layout {
            Layout::Aliases => 0x48,
            Layout::Old => 0x44,
        };
        self.put32(ms_at, len);
        if cached {
            self.put32(4, 0xdfca_c6ed);
            let crc = checksum_of(&self.b);
            self.put32(0x14, crc);
        }
        self.b
    }
}

/// Offsets of interesting structs in the standard sample.
struct Sample {
    bytes: Vec<u8>,
    display: usize,
    audio: usize,
    vendor_prop: usize,
}

/// root / pci@0,0 (npe) / pci8086,151@1 (pcieb) / display@0 + pci1462,2291@0,1
/// (ppt 0 and 1); the audio function is not initialized (no address, only
/// `unit-address`).
fn sample(layout: Layout, endian: Endian, cached: bool) -> Sample {
    let mut b = Builder::new(layout, endian);
    b.devnames(&["rootnex", "npe", "pcieb", "ppt"]);
    let root = b.node("i86pc", None, 0, -1);
    b.put32(0x20, root as u32);
    let rc = b.node("pci", Some("0,0"), 1, 0);
    b.child(root, rc);
    b.str_prop(rc, 0x34, "device_type", "pci");
    b.minor(rc, "reg");
    let rp = b.node("pci8086,151", Some("1"), 2, 0);
    b.child(rc, rp);
    b.ints(rp, "reg", &[0x800, 0, 0, 0, 0]);
    b.ints(rp, "vendor-id", &[0x8086]);
    b.ints(rp, "device-id", &[0x151]);
    b.ints(rp, "class-code", &[0x060400]);
    b.str_prop(rp, 0x28, "device_type", "pciex");
    let display = b.node("display", Some("0"), 3, 0);
    b.child(rp, display);
    b.ints(display, "reg", &[0x10000, 0, 0, 0, 0]);
    let vendor_prop = b.ints(display, "vendor-id", &[0x10de]);
    b.ints(display, "device-id", &[0xa65]);
    b.ints(display, "class-code", &[0x030000]);
    b.ints(display, "revision-id", &[0xa2]);
    b.ints(
        display,
        "assigned-addresses",
        &[
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
        ],
    );
    b.minor(display, "ppt");
    let audio = b.node("pci1462,2291", None, 3, 1);
    b.child(rp, audio);
    b.ints(audio, "reg", &[0x10100, 0, 0, 0, 0]);
    b.ints(audio, "vendor-id", &[0x10de]);
    b.ints(audio, "device-id", &[0xbe3]);
    b.ints(audio, "subsystem-vendor-id", &[0x1462]);
    b.ints(audio, "subsystem-id", &[0x2291]);
    b.ints(audio, "class-code", &[0x040300]);
    b.str_prop(audio, 0x34, "unit-address", "0,1");
    let (c, n) = b.strings(&["pciex10de,be3.1462.2291.a1", "pciex10de,be3"]);
    b.put32(audio + 0x20, c as u32);
    b.put32(audio + 0x50, n as u32);
    Sample {
        bytes: b.finish(cached),
        display,
        audio,
        vendor_prop,
    }
}

fn expect_paths(s: &Snapshot) {
    let paths: Vec<String> = (0..s.nodes.len()).map(|i| s.path_ua(i)).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/pci@0,0",
            "/pci@0,0/pci8086,151@1",
            "/pci@0,0/pci8086,151@1/display@0",
            "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
        ]
    );
    // libdevinfo's own path leaves the uninitialized node without address.
    assert_eq!(s.devfs_path(4), "/pci@0,0/pci8086,151@1/pci1462,2291");
}

#[test]
fn all_layout_variants_read_the_same() {
    let mut hosts = Vec::new();
    for layout in [Layout::Aliases, Layout::Old] {
        for endian in [Endian::Little, Endian::Big] {
            for cached in [true, false] {
                let sm = sample(layout, endian, cached);
                let s = Snapshot::parse(&sm.bytes).unwrap();
                assert_eq!(s.header.layout, layout);
                assert_eq!(s.header.endian, endian);
                assert_eq!(s.header.cached, cached);
                expect_paths(&s);
                let display = &s.nodes[3];
                assert_eq!(display.driver.as_deref(), Some("ppt"));
                assert_eq!(display.int("vendor-id"), Some(0x10de));
                assert_eq!(display.minors[0].name, "ppt");
                assert_eq!(
                    s.nodes[4].compatible,
                    ["pciex10de,be3.1462.2291.a1", "pciex10de,be3"]
                );
                hosts.push(to_host(&s, "x"));
            }
        }
    }
    for h in &hosts[1..] {
        assert_eq!(h, &hosts[0]);
    }
    let h = &hosts[0];
    assert_eq!(h.functions.len(), 3);
    let d = &h.functions[1];
    assert_eq!(d.address.to_string(), "0000:01:00.0");
    assert_eq!(d.bar_sizes[0], Some(0x0100_0000));
    assert_eq!(d.bar_sizes[1], Some(0x1000_0000));
    let a = &h.functions[2];
    assert_eq!(a.address.to_string(), "0000:01:00.1");
    assert_eq!(a.illumos.as_ref().unwrap().instance, Some(1));
    assert_eq!(a.ids.subsystem_vendor, Some(0x1462));
    assert_eq!(h.nexus.len(), 1);
}

#[test]
fn live_buffer_padded_to_a_page() {
    let mut sm = sample(Layout::Aliases, Endian::Little, false);
    let len = sm.bytes.len();
    sm.bytes.resize(len.div_ceil(4096) * 4096, 0);
    let s = Snapshot::parse(&sm.bytes).unwrap();
    assert_eq!(s.header.map_size, len);
    expect_paths(&s);
}

fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Parse after editing an uncached (CRC-less) little-endian sample.
fn edited(f: impl FnOnce(&mut Vec<u8>, &Sample)) -> Result<Snapshot, DevinfoError> {
    let sm = sample(Layout::Aliases, Endian::Little, false);
    let mut b = sm.bytes.clone();
    f(&mut b, &sm);
    Snapshot::parse(&b)
}

#[test]
fn hostile_sibling_loop() {
    let e = edited(|b, sm| set32(b, sm.audio + 0x0c, sm.display as u32)).unwrap_err();
    assert!(matches!(e, DevinfoError::Loop { .. }), "{e}");
}

#[test]
fn hostile_child_points_up() {
    let e = edited(|b, sm| {
        let root = u32::from_le_bytes([b[0x20], b[0x21], b[0x22], b[0x23]]);
        set32(b, sm.display + 0x08, root)
    })
    .unwrap_err();
    assert!(matches!(e, DevinfoError::Loop { .. }), "{e}");
}

#[test]
fn hostile_property_loop() {
    let e = edited(|b, sm| set32(b, sm.vendor_prop + 4, sm.vendor_prop as u32)).unwrap_err();
    assert!(
        matches!(
            e,
            DevinfoError::Loop {
                what: "property list",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn hostile_offsets_past_end() {
    let e = edited(|b, sm| {
        let len = b.len() as u32;
        set32(b, sm.vendor_prop + 8, len + 64)
    })
    .unwrap_err();
    assert!(matches!(e, DevinfoError::OutOfBounds { .. }), "{e}");
    let e = edited(|b, sm| set32(b, sm.vendor_prop + 0x1c, 0x7fff_0000)).unwrap_err();
    assert!(matches!(e, DevinfoError::OutOfBounds { .. }), "{e}");
    let e = edited(|b, sm| set32(b, sm.display + 0x08, 0xffff_fff0)).unwrap_err();
    assert!(matches!(e, DevinfoError::OutOfBounds { .. }), "{e}");
    let e = edited(|b, _| set32(b, 0x20, 8)).unwrap_err();
    assert!(matches!(e, DevinfoError::SelfMismatch { .. }), "{e}");
}

#[test]
fn hostile_bad_crc() {
    let mut b = sample(Layout::Aliases, Endian::Little, true).bytes;
    let last = b.len() - 1;
    b[last] ^= 0x55;
    let e = Snapshot::parse(&b).unwrap_err();
    assert!(matches!(e, DevinfoError::Checksum { .. }), "{e}");
}

#[test]
fn hostile_truncated() {
    let b = sample(Layout::Aliases, Endian::Little, true).bytes;
    let e = Snapshot::parse(&b[..b.len() - 100]).unwrap_err();
    assert!(matches!(e, DevinfoError::Truncated { .. }), "{e}");
    let e = Snapshot::parse(&b[..40]).unwrap_err();
    assert!(matches!(e, DevinfoError::TooShort { .. }), "{e}");
    // Every prefix fails cleanly.
    for n in 0..b.len() {
        assert!(Snapshot::parse(&b[..n]).is_err());
    }
}

#[test]
fn rejects_other_versions() {
    let mut b = sample(Layout::Aliases, Endian::Little, false).bytes;
    set32(&mut b, 0, 4);
    let e = Snapshot::parse(&b).unwrap_err();
    assert_eq!(e, DevinfoError::Version { found: 4 });
    assert!(e.to_string().contains("version 4"));
}

/// libdevinfo's typed lookup (illumos-gate `usr/src/lib/libdevinfo/devinfo.c`,
/// `di_prop_search` and `match_prop`): lists in drv, sys, global, hw order;
/// entries of another type and undefined entries are skipped; untyped and
/// boolean entries are taken by any lookup.
#[test]
fn typed_lookup_skips_other_types_and_undefined() {
    let mut bld = Builder::new(Layout::Aliases, Endian::Little);
    bld.devnames(&["rootnex"]);
    let root = bld.node("i86pc", None, 0, -1);
    bld.put32(0x20, root as u32);
    // x: undefined in drv, int 7 in hw: the undefined entry hides nothing.
    bld.ints(root, "x", &[7]);
    bld.prop(root, 0x28, "x", 0x100 | 0x40, &[]);
    // y: int 2 in sys beats int 1 in hw.
    bld.ints(root, "y", &[1]);
    bld.prop(root, 0x2c, "y", 0x100, &2u32.to_le_bytes());
    // v: a string in drv, undefined in sys, an int in hw.
    bld.ints(root, "v", &[0x10de]);
    bld.prop(root, 0x2c, "v", 0x200 | 0x40, &[]);
    bld.str_prop(root, 0x28, "v", "abc");
    // u: untyped in drv (taken by an int lookup and decoded), int in hw.
    bld.ints(root, "u", &[9]);
    bld.prop(root, 0x28, "u", 0x0f00, &5u32.to_le_bytes());
    // w: untyped with no type bits at all, as a string.
    bld.prop(root, 0x28, "w", 0, b"hi\0");
    // b: boolean (no value) in sys, int in hw: the boolean is found and
    // has no cells.
    bld.ints(root, "b", &[3]);
    bld.prop(root, 0x2c, "b", 0x100, &[]);
    let s = Snapshot::parse(&bld.finish(true)).unwrap();
    let n = &s.nodes[0];
    assert_eq!(n.int("x"), Some(7));
    assert_eq!(n.int("y"), Some(2));
    assert_eq!(n.int("v"), Some(0x10de));
    assert_eq!(n.string("v").as_deref(), Some("abc"));
    assert_eq!(n.int("u"), Some(5));
    assert_eq!(n.ints("b"), Some(Vec::new()));
    assert_eq!(n.int("b"), None);
    assert_eq!(n.string("y"), None);
    assert_eq!(n.string("w").as_deref(), Some("hi"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn mutations_never_panic(edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..16)) {
        let mut b = sample(Layout::Aliases, Endian::Little, false).bytes;
        for (at, v) in edits {
            let at = at % b.len();
            b[at] = v;
        }
        if let Ok(s) = Snapshot::parse(&b) {
            let _ = to_host(&s, "x");
            for i in 0..s.nodes.len() {
                let _ = s.path_ua(i);
            }
        }
    }
}
