//! x86 PCI node names, unit addresses, paths and `compatible` lists.
//!
//! For sources without a devinfo tree (Linux sysfs, `lspci` dumps, JSON
//! snapshots taken on Linux) [`predict`] computes what the illumos x86 PCI
//! enumerator would name each function (docs/illumos.md; illumos-gate
//! `usr/src/uts/common/io/pciex/pci_props.c` and `intel/io/pci/pci_boot.c`)
//! and marks the result [`PathSource::Predicted`](pci_core::PathSource::Predicted).
//!
//! One thing cannot be predicted: the unit address of a root complex other
//! than the one holding bus 0. illumos numbers root complexes with a
//! counter, not by bus number, and caches the mapping in
//! `/etc/devices/pci_unitaddr_persistent` (`pci_boot.c`). [`predict`] applies the
//! counter rule of `pci_setup_tree` to the buses it can see, which is a
//! best guess; a path below `/pci@0,0` is exact, any other root is a guess.
//! Functions outside PCI domain 0 (Intel VMD on Linux) get no prediction:
//! illumos does not enumerate them as ordinary PCI functions.

use pci_core::config::ConfigSpace;
use pci_core::{Address, Identity};

mod predict;

pub use predict::{predict, predict_bound, predict_knowing, predict_with};

/// Which generation of the kernel's `compatible` builder to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompatStyle {
    /// 2009–2022 `pci_boot.c` `add_compatible`: no `,s` / `,p` forms, no
    /// 8086:0166 no-subsys rule, and bridges never carry subsystem ids
    /// (the OmniOS 2016 cache is of this kind).
    Legacy,
    /// Current `pci_props.c` (2023, IPD 9): adds `SV,SS,s` and `V,D,p` to
    /// the PCI pass, and PCI-PCI bridges take subsystem ids from the
    /// bridge subsystem capability (`PCI_CAP_ID_P2P_SUBSYS`, 0x0d, in
    /// `pci_prop_data_fill`), which gives them the `V,D.SV.SS.R` and
    /// `V,D.SV.SS` forms in both passes, `pciSV,SS,s` in the PCI pass and
    /// the `subsystem-vendor-id`/`subsystem-id` properties
    /// (`pci_prop_set_common_props`). Bridges still never get the bare
    /// `pciSV,SS` form (`PCI_ALIAS_F_SKIP_BRIDGE`) and, on x86, are still
    /// named `pciV,D` (`pci_prop_use_subsystem` with
    /// `PCI_PRD_COMPAT_SUBSYS`).
    #[default]
    Ipd9,
}

/// The environment variable that selects the style [`predict`] uses:
/// `legacy` (kernels before 2023) or `ipd9` (current, the default).
pub const STYLE_ENV: &str = "PPTCTL_COMPAT_STYLE";

impl CompatStyle {
    /// The style named by `value` (`legacy` or `ipd9`, any case).
    pub fn parse(value: &str) -> Option<CompatStyle> {
        match value.to_ascii_lowercase().as_str() {
            "legacy" => Some(CompatStyle::Legacy),
            "ipd9" => Some(CompatStyle::Ipd9),
            _ => None,
        }
    }
}

/// The x86 node name of a function (`pci_props.c` `pci_prop_name_node`):
/// `display` for VGA-compatible class codes, `isa` for ISA bridges,
/// `pci-ide` for IDE controllers, else `pciSV,SS` when the subsystem
/// vendor is non-zero (never for PCI-PCI bridges, header type 1), else
/// `pciV,D`. This assumes no driver alias
/// binds an IDE controller by its `compatible` list; see
/// [`node_name_with`].
pub fn node_name(ids: &Identity, header_type: Option<u8>) -> String {
    node_name_with(ids, header_type, &[], &|_| false)
}

/// [`node_name`] for a function whose `compatible` list is `compat`, with
/// `binds` telling whether a string has an active driver binding. An IDE
/// controller is renamed `pci-ide` only when neither an entry of its
/// `compatible` list nor its ordinary node name binds a driver
/// (illumos-gate `usr/src/uts/intel/io/pci/pci_boot.c`, `process_devfunc`:
/// `ddi_compatible_driver_major` must return no driver).
pub fn node_name_with(
    ids: &Identity,
    header_type: Option<u8>,
    compat: &[String],
    binds: &dyn Fn(&str) -> bool,
) -> String {
    let class = ids.class & 0xff_ffff;
    if matches!(class, 0x00_0100 | 0x03_0000 | 0x03_0001) {
        return "display".to_string();
    }
    if class >> 8 == 0x0601 {
        return "isa".to_string();
    }
    let ordinary = match name_subsys(ids, header_type) {
        Some((sv, ss)) => format!("pci{sv:x},{ss:x}"),
        None => format!("pci{:x},{:x}", ids.vendor, ids.device),
    };
    if is_pciide(ids) && !compat.iter().any(|c| binds(c)) && !binds(&ordinary) {
        return "pci-ide".to_string();
    }
    ordinary
}

/// `pci_boot.c` renames IDE controllers to `pci-ide` (and the ata driver
/// binds through that name): class 01/01, or a few SATA/RAID parts that
/// run in IDE mode (subclass 01/80 or 01/06).
fn is_pciide(ids: &Identity) -> bool {
    let sub = ids.class >> 8;
    if sub == 0x0101 {
        return true;
    }
    let table = [
        (0x1095, 0x3112),
        (0x1095, 0x3114),
        (0x1095, 0x3512),
        (0x1095, 0x0680),
        (0x1283, 0x8211),
    ];
    (sub == 0x0180 || sub == 0x0106) && table.contains(&(ids.vendor, ids.device))
}

/// Subsystem ids for the node name: never for bridges (header type 1) on
/// x86, and only when the vendor is non-zero.
fn name_subsys(ids: &Identity, header_type: Option<u8>) -> Option<(u16, u16)> {
    if is_ppb(header_type) {
        return None;
    }
    nonzero_subsys(ids)
}

/// Subsystem ids for the `compatible` list and the `subsystem-*`
/// properties: a bridge's come from its subsystem capability, which only
/// the 2023 kernels read (the source's identity carries them, taken from
/// that capability for type 1 headers).
pub(super) fn compat_subsys(
    ids: &Identity,
    header_type: Option<u8>,
    style: CompatStyle,
) -> Option<(u16, u16)> {
    if style == CompatStyle::Legacy && is_ppb(header_type) {
        return None;
    }
    nonzero_subsys(ids)
}

fn nonzero_subsys(ids: &Identity) -> Option<(u16, u16)> {
    match (ids.subsystem_vendor, ids.subsystem) {
        (Some(sv), Some(ss)) if sv != 0 => Some((sv, ss)),
        _ => None,
    }
}

/// The unit address (`pci_props.c` `pci_prop_set_common_props`): `d` for
/// function 0, else `d,f`, in `%x`.
pub fn unit_address(a: &Address) -> String {
    if a.function == 0 {
        format!("{:x}", a.device)
    } else {
        format!("{:x},{:x}", a.device, a.function)
    }
}

/// The no-subsys list: any NVIDIA VGA-class device, and (since IPD 9)
/// 8086:0166 with subsystem 8086:2044.
fn no_subsys(ids: &Identity, style: CompatStyle) -> bool {
    (ids.vendor == 0x10de && ids.class >> 8 == 0x0300)
        || (style == CompatStyle::Ipd9
            && ids.vendor == 0x8086
            && ids.device == 0x0166
            && ids.subsystem_vendor == Some(0x8086)
            && ids.subsystem == Some(0x2044))
}

/// The `compatible` list in kernel order (`pci_props.c`
/// `pci_prop_set_compatible`): for a PCIe function
/// (`pcie`) the `pciex` pass first, then the full `pci` pass.
pub fn compatible(
    ids: &Identity,
    header_type: Option<u8>,
    pcie: bool,
    style: CompatStyle,
) -> Vec<String> {
    let mut out = Vec::new();
    if pcie {
        pass(&mut out, "pciex", ids, header_type, true, style);
    }
    pass(&mut out, "pci", ids, header_type, false, style);
    out
}

fn pass(
    out: &mut Vec<String>,
    p: &str,
    ids: &Identity,
    ht: Option<u8>,
    pciex: bool,
    style: CompatStyle,
) {
    let (v, d, r) = (ids.vendor, ids.device, ids.revision);
    let bridge = is_ppb(ht);
    let sub = compat_subsys(ids, ht, style);
    let nosub = no_subsys(ids, style);
    if let Some((sv, ss)) = sub {
        out.push(format!("{p}{v:x},{d:x}.{sv:x}.{ss:x}.{r:x}"));
        out.push(format!("{p}{v:x},{d:x}.{sv:x}.{ss:x}"));
        if !pciex && !nosub {
            if style == CompatStyle::Ipd9 {
                out.push(format!("{p}{sv:x},{ss:x},s"));
            }
            if !bridge {
                out.push(format!("{p}{sv:x},{ss:x}"));
            }
        }
    }
    out.push(format!("{p}{v:x},{d:x}.{r:x}"));
    if !pciex && style == CompatStyle::Ipd9 {
        out.push(format!("{p}{v:x},{d:x},p"));
    }
    out.push(format!("{p}{v:x},{d:x}"));
    let c = ids.class & 0xff_ffff;
    out.push(format!(
        "{p}class,{:02x}{:02x}{:02x}",
        c >> 16,
        (c >> 8) & 0xff,
        c & 0xff
    ));
    out.push(format!("{p}class,{:02x}{:02x}", c >> 16, (c >> 8) & 0xff));
}

/// What the capability list of raw config bytes says about PCIe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcieCap {
    /// No PCIe capability (conventional PCI), or no config bytes to tell.
    None,
    /// A PCIe capability of version 1 or 2.
    Version(u8),
    /// A PCIe capability of another version: the kernel creates no node.
    Unsupported(u8),
}

/// The PCIe capability (id 0x10) of config bytes and its version, found
/// by pci-core's bounds-checked, loop-guarded capability walk (the one
/// `Function::is_pcie` uses).
pub fn pcie_cap(config: &[u8]) -> PcieCap {
    let cfg = ConfigSpace::new(config);
    let Some(cap) = cfg.find_capability(pci_core::caps::id::PCIE) else {
        return PcieCap::None;
    };
    let ver = cfg.read_u8(usize::from(cap.offset) + 2).unwrap_or(0) & 0xf;
    if ver == 1 || ver == 2 {
        PcieCap::Version(ver)
    } else {
        PcieCap::Unsupported(ver)
    }
}

/// Whether a header type is a PCI-to-PCI bridge's (layout 1), the only
/// kind `pci_props.c` names and lists differently.
fn is_ppb(header_type: Option<u8>) -> bool {
    header_type.is_some_and(|h| h & 0x7f == pci_core::passthrough::HEADER_PCI_BRIDGE)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ids(v: u16, d: u16, sub: Option<(u16, u16)>, class: u32, rev: u8) -> Identity {
        Identity {
            vendor: v,
            device: d,
            subsystem_vendor: sub.map(|s| s.0),
            subsystem: sub.map(|s| s.1),
            class,
            revision: rev,
            header_type: Some(0),
        }
    }

    #[test]
    fn worked_example_of_the_spec() {
        let i = ids(0x8086, 0x1533, Some((0x15d9, 0x1533)), 0x020000, 3);
        assert_eq!(
            compatible(&i, Some(0), true, CompatStyle::Ipd9),
            [
                "pciex8086,1533.15d9.1533.3",
                "pciex8086,1533.15d9.1533",
                "pciex8086,1533.3",
                "pciex8086,1533",
                "pciexclass,020000",
                "pciexclass,0200",
                "pci8086,1533.15d9.1533.3",
                "pci8086,1533.15d9.1533",
                "pci15d9,1533,s",
                "pci15d9,1533",
                "pci8086,1533.3",
                "pci8086,1533,p",
                "pci8086,1533",
                "pciclass,020000",
                "pciclass,0200",
            ]
        );
        assert_eq!(node_name(&i, Some(0)), "pci15d9,1533");
    }

    #[test]
    fn names() {
        let vga = ids(0x10de, 0xa65, Some((0x1462, 0x2291)), 0x030000, 0xa2);
        assert_eq!(node_name(&vga, Some(0x80)), "display");
        let c3d = ids(0x10de, 0x1db4, Some((0x10de, 0x1214)), 0x030200, 0xa1);
        assert_eq!(node_name(&c3d, Some(0)), "pci10de,1214");
        let rp = ids(0x8086, 0x151, Some((0x1028, 0x577)), 0x060400, 9);
        assert_eq!(node_name(&rp, Some(0x81)), "pci8086,151");
        let isa = ids(0x8086, 0x1e47, Some((0x1028, 0x577)), 0x060100, 4);
        assert_eq!(node_name(&isa, Some(0x80)), "isa");
        let ide = ids(0x8086, 0x1e00, Some((0x1028, 0x577)), 0x01018f, 4);
        assert_eq!(node_name(&ide, Some(0)), "pci-ide");
        let nosub = ids(0x8086, 0x1e10, Some((0, 0)), 0x0c0300, 4);
        assert_eq!(node_name(&nosub, Some(0)), "pci8086,1e10");
        let a = Address::new(0, 0, 0x1c, 4).unwrap();
        assert_eq!(unit_address(&a), "1c,4");
        assert_eq!(unit_address(&Address::new(0, 0, 0x1f, 0).unwrap()), "1f");
    }

    #[test]
    fn nvidia_vga_has_no_subsys_forms() {
        let vga = ids(0x10de, 0xa65, Some((0x1462, 0x2291)), 0x030000, 0xa2);
        let c = compatible(&vga, Some(0), true, CompatStyle::Ipd9);
        assert!(!c.iter().any(|s| s.starts_with("pci1462")));
        assert!(c.contains(&"pci10de,a65.1462.2291.a2".to_string()));
    }

    #[test]
    fn pcie_cap_walk_is_guarded() {
        let mut cfg = vec![0u8; 256];
        cfg[6] = 0x10;
        cfg[0x34] = 0x40;
        cfg[0x40] = 0x05;
        cfg[0x41] = 0x40; // loops to itself
        assert_eq!(pcie_cap(&cfg), PcieCap::None);
        cfg[0x41] = 0x60;
        cfg[0x60] = 0x10;
        cfg[0x62] = 0x02;
        assert_eq!(pcie_cap(&cfg), PcieCap::Version(2));
        cfg[0x41] = 0xfc; // points past a short buffer
        assert_eq!(pcie_cap(&cfg[..0x80]), PcieCap::None);
    }
}
