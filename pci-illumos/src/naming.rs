//! x86 PCI node names, unit addresses, paths and `compatible` lists.
//!
//! For sources without a devinfo tree (Linux sysfs, `lspci` dumps, JSON
//! snapshots taken on Linux) [`predict`] computes what the illumos x86 PCI
//! enumerator would name each function (docs/illumos.md; illumos-gate
//! `usr/src/uts/common/io/pciex/pci_props.c` and `intel/io/pci/pci_boot.c`)
//! and marks the result [`PathSource::Predicted`].
//!
//! One thing cannot be predicted: the unit address of a root complex other
//! than the one holding bus 0. illumos numbers root complexes with a
//! counter, not by bus number, and caches the mapping in
//! `/etc/devices/pci_unitaddr_persistent` (`pci_boot.c`). [`predict`] applies the
//! counter rule of `pci_setup_tree` to the buses it can see, which is a
//! best guess; a path below `/pci@0,0` is exact, any other root is a guess.
//! Functions outside PCI domain 0 (Intel VMD on Linux) get no prediction:
//! illumos does not enumerate them as ordinary PCI functions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pci_core::{Address, Diagnostic, Function, Host, Identity, IllumosNode, PathSource, PropValue};

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
    if header_type.is_some_and(|h| h & 0x7f == 1) {
        return None;
    }
    nonzero_subsys(ids)
}

/// Subsystem ids for the `compatible` list and the `subsystem-*`
/// properties: a bridge's come from its subsystem capability, which only
/// the 2023 kernels read (the source's identity carries them, taken from
/// that capability for type 1 headers).
fn compat_subsys(
    ids: &Identity,
    header_type: Option<u8>,
    style: CompatStyle,
) -> Option<(u16, u16)> {
    if style == CompatStyle::Legacy && header_type.is_some_and(|h| h & 0x7f == 1) {
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
    let bridge = ht.is_some_and(|h| h & 0x7f == 1);
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

/// Finds the PCIe capability (id 0x10) in config bytes, bounds-checked and
/// loop-guarded.
pub fn pcie_cap(config: &[u8]) -> PcieCap {
    let status = config.get(6).copied().unwrap_or(0);
    if status & 0x10 == 0 {
        return PcieCap::None;
    }
    let ht = config.get(0x0e).copied().unwrap_or(0) & 0x7f;
    let ptr_at = if ht == 2 { 0x14 } else { 0x34 };
    let mut ptr = config.get(ptr_at).copied().unwrap_or(0) & 0xfc;
    for _ in 0..48 {
        if ptr < 0x40 {
            break;
        }
        let p = ptr as usize;
        let (Some(&id), Some(&next)) = (config.get(p), config.get(p + 1)) else {
            break;
        };
        if id == 0x10 {
            let ver = config.get(p + 2).copied().unwrap_or(0) & 0xf;
            return if ver == 1 || ver == 2 {
                PcieCap::Version(ver)
            } else {
                PcieCap::Unsupported(ver)
            };
        }
        ptr = next & 0xfc;
    }
    PcieCap::None
}

fn header_type(f: &Function) -> Option<u8> {
    f.ids.header_type.or_else(|| f.config.get(0x0e).copied())
}

fn is_bridge(f: &Function) -> bool {
    header_type(f).is_some_and(|h| h & 0x7f == 1)
}

/// Predicts the illumos node of every function that has none yet, and
/// the root-complex nexus nodes when the host has none. Functions the
/// kernel would not create a node for (a PCIe capability of an unknown
/// version) are left without one and noted in `host.warnings`.
///
/// The `compatible` generation is the current one unless the environment
/// variable [`STYLE_ENV`] says `legacy`; an unknown value is a warning and
/// the default is used.
pub fn predict(host: &mut Host) {
    predict_knowing(host, &|_| false)
}

/// [`predict`] knowing which strings bind an active driver (see
/// [`predict_bound`]); the `compatible` generation comes from the
/// environment as for [`predict`].
pub fn predict_knowing(host: &mut Host, binds: &dyn Fn(&str) -> bool) {
    let style = match std::env::var(STYLE_ENV) {
        Ok(v) => CompatStyle::parse(&v).unwrap_or_else(|| {
            host.warnings.push(Diagnostic {
                file: None,
                line: None,
                message: format!(
                    "{STYLE_ENV}={v}: unknown style (use legacy or ipd9); predicting the current (ipd9) names"
                ),
            });
            CompatStyle::Ipd9
        }),
        Err(_) => CompatStyle::Ipd9,
    };
    predict_bound(host, style, binds)
}

/// [`predict`] with an explicit `compatible` generation.
pub fn predict_with(host: &mut Host, style: CompatStyle) {
    predict_bound(host, style, &|_| false)
}

/// [`predict_with`] knowing which strings bind an active driver (the
/// next boot's alias files: pci-illumos `binding::KernelFiles::binder`),
/// which decides whether an IDE controller is named `pci-ide`
/// ([`node_name_with`]).
pub fn predict_bound(host: &mut Host, style: CompatStyle, binds: &dyn Fn(&str) -> bool) {
    // Secondary bus -> the bridge above it (domain 0 only).
    let mut behind: HashMap<u8, usize> = HashMap::new();
    for (i, f) in host.functions.iter().enumerate() {
        if f.address.domain == 0 && is_bridge(f) {
            if let Some(&sec) = f.config.get(0x19) {
                if sec != 0 && sec != f.address.bus {
                    behind.entry(sec).or_insert(i);
                }
            }
        }
    }
    let secondary: BTreeSet<u8> = behind.keys().copied().collect();
    let max_bus = host
        .functions
        .iter()
        .map(|f| f.address.bus)
        .max()
        .unwrap_or(0);
    // pci_setup_tree: bus 0 is root address 0; every later bus number
    // that is not a bridge's secondary bus takes the next counter value.
    let mut root_addr: BTreeMap<u8, u32> = BTreeMap::new();
    root_addr.insert(0, 0);
    let mut counter = 0u32;
    for b in 1..=max_bus {
        if !secondary.contains(&b) {
            counter += 1;
            root_addr.insert(b, counter);
        }
    }
    let pcie: Vec<PcieCap> = host.functions.iter().map(|f| pcie_cap(&f.config)).collect();
    let compats: Vec<Vec<String>> = host
        .functions
        .iter()
        .zip(&pcie)
        .map(|(f, c)| {
            compatible(
                &f.ids,
                header_type(f),
                matches!(c, PcieCap::Version(_)),
                style,
            )
        })
        .collect();
    let names: Vec<String> = host
        .functions
        .iter()
        .zip(&compats)
        .map(|(f, c)| node_name_with(&f.ids, header_type(f), c, binds))
        .collect();

    // Paths are computed parent first; a bridge's chain is bounded by the
    // number of functions (guards against bus-number cycles in bad input).
    let n = host.functions.len();
    let mut roots: BTreeMap<u8, bool> = BTreeMap::new();
    let mut paths: Vec<Option<(String, Option<String>)>> = Vec::with_capacity(n);
    for i in 0..n {
        let mut chain = vec![i];
        let mut cur = i;
        while let Some(&p) = behind.get(&host.functions[cur].address.bus) {
            if chain.contains(&p) || chain.len() > n {
                break;
            }
            chain.push(p);
            cur = p;
        }
        let top_bus = host.functions[cur].address.bus;
        let mut path = match root_addr.get(&top_bus) {
            Some(r) => format!("/pci@{r:x},0"),
            None => format!("/pci@{top_bus:x},0"),
        };
        let root_pcie = roots.entry(top_bus).or_insert(false);
        if matches!(pcie[cur], PcieCap::Version(_)) {
            *root_pcie = true;
        }
        let mut parent_type = None::<String>;
        let mut parent_path_type = Some("pci".to_string());
        for &j in chain.iter().rev() {
            let f = &host.functions[j];
            let name = &names[j];
            path = format!("{path}/{name}@{}", unit_address(&f.address));
            parent_type = parent_path_type.clone();
            parent_path_type = is_bridge(f).then(|| {
                if matches!(pcie[j], PcieCap::Version(_)) {
                    "pciex".to_string()
                } else {
                    "pci".to_string()
                }
            });
        }
        paths.push(Some((path, parent_type)));
    }
    let mut warnings = Vec::new();
    for (i, f) in host.functions.iter_mut().enumerate() {
        // Vendor 0xffff (nothing answered) or 0 is no device to the
        // enumerator (pci_boot.c process_devfunc): no node.
        if f.illumos.is_some()
            || f.address.domain != 0
            || f.ids.vendor == 0xffff
            || f.ids.vendor == 0
        {
            continue;
        }
        if let PcieCap::Unsupported(v) = pcie[i] {
            warnings.push(Diagnostic {
                file: None,
                line: None,
                message: format!(
                    "{}: PCIe capability version {v}: the illumos enumerator creates no node for it",
                    f.address
                ),
            });
            continue;
        }
        let Some((path, parent_type)) = paths[i].take() else {
            continue;
        };
        let ht = header_type(f);
        let is_pcie = matches!(pcie[i], PcieCap::Version(_));
        let mut props = BTreeMap::new();
        let phys_hi = (u32::from(f.address.bus) << 16)
            | (u32::from(f.address.device) << 11)
            | (u32::from(f.address.function) << 8);
        props.insert(
            "reg".to_string(),
            PropValue::Ints(vec![phys_hi as i32, 0, 0, 0, 0]),
        );
        props.insert(
            "vendor-id".to_string(),
            PropValue::Ints(vec![i32::from(f.ids.vendor)]),
        );
        props.insert(
            "device-id".to_string(),
            PropValue::Ints(vec![i32::from(f.ids.device)]),
        );
        props.insert(
            "revision-id".to_string(),
            PropValue::Ints(vec![i32::from(f.ids.revision)]),
        );
        props.insert(
            "class-code".to_string(),
            PropValue::Ints(vec![f.ids.class as i32]),
        );
        if let Some((sv, ss)) = compat_subsys(&f.ids, ht, style) {
            props.insert(
                "subsystem-vendor-id".to_string(),
                PropValue::Ints(vec![i32::from(sv)]),
            );
            props.insert(
                "subsystem-id".to_string(),
                PropValue::Ints(vec![i32::from(ss)]),
            );
        }
        let ua = unit_address(&f.address);
        props.insert(
            "unit-address".to_string(),
            PropValue::Strings(vec![ua.clone()]),
        );
        let device_type = is_bridge(f).then(|| if is_pcie { "pciex" } else { "pci" }.to_string());
        if let Some(dt) = &device_type {
            props.insert(
                "device_type".to_string(),
                PropValue::Strings(vec![dt.clone()]),
            );
        }
        let compat = compats[i].clone();
        props.insert("compatible".to_string(), PropValue::Strings(compat.clone()));
        f.illumos = Some(IllumosNode {
            path,
            path_source: Some(PathSource::Predicted),
            node_name: names[i].clone(),
            unit_address: Some(ua),
            driver: None,
            instance: None,
            binding_name: None,
            compatible: compat,
            parent_device_type: parent_type,
            device_type,
            props,
            minors: Vec::new(),
            // Whether the node will initialise depends on the driver that
            // binds it, which naming does not know.
            ..IllumosNode::default()
        });
    }
    host.warnings.extend(warnings);
    if host.nexus.is_empty() {
        for (bus, is_pcie) in roots {
            let r = root_addr.get(&bus).copied().unwrap_or(u32::from(bus));
            let dt = if is_pcie { "pciex" } else { "pci" }.to_string();
            let mut props = BTreeMap::new();
            props.insert(
                "device_type".to_string(),
                PropValue::Strings(vec![dt.clone()]),
            );
            host.nexus.push(IllumosNode {
                path: format!("/pci@{r:x},0"),
                path_source: Some(PathSource::Predicted),
                node_name: "pci".to_string(),
                unit_address: Some(format!("{r:x},0")),
                device_type: Some(dt),
                props,
                ..IllumosNode::default()
            });
        }
    }
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
