//! Conversions between the snapshot's version 2 types and the model.

use pci_core::hexbytes;
use pci_core::text::Escaped;
use pci_core::{
    Address, CpuVendor, Function, HostFacts, Identity, IllumosNode, IommuFacts, OsBar, PathSource,
    PptLink, PropValue,
};

use super::{FactsV2, FunctionV2, IdsV2, IommuV2, LinkV2, NodeV2, OsBarV2, PropV2};

fn six<T: Copy>(v: &[Option<T>], what: &str) -> Result<[Option<T>; 6], String> {
    if v.len() > 6 {
        return Err(format!("{what}: more than 6 entries"));
    }
    let mut out = [None; 6];
    for (o, x) in out.iter_mut().zip(v) {
        *o = *x;
    }
    Ok(out)
}

fn address(s: &str) -> Result<Address, String> {
    s.parse::<Address>().map_err(|e| e.to_string())
}

pub(crate) fn function_v2(f: &Function) -> FunctionV2 {
    let i = &f.ids;
    FunctionV2 {
        address: f.address.to_string(),
        ids: IdsV2 {
            vendor: i.vendor,
            device: i.device,
            subsystem_vendor: i.subsystem_vendor,
            subsystem: i.subsystem,
            class: i.class,
            revision: i.revision,
            header_type: i.header_type,
        },
        config: hexbytes::encode(&f.config),
        bar_sizes: f.bar_sizes.to_vec(),
        bar_os: f
            .bar_os
            .iter()
            .map(|b| {
                b.map(|b| OsBarV2 {
                    start: b.start,
                    io: b.io,
                    mem64: b.mem64,
                    prefetchable: b.prefetchable,
                })
            })
            .collect(),
        rom_size: f.rom_size,
        driver: f.driver.clone(),
        iommu_group: f.iommu_group,
        physfn: f.physfn.map(|a| a.to_string()),
        virtfns: f.virtfns.iter().map(Address::to_string).collect(),
        boot_vga: f.boot_vga,
        numa_node: f.numa_node,
        illumos: f.illumos.as_ref().map(node_v2),
    }
}

pub(super) fn function(f: &FunctionV2) -> Result<Function, String> {
    let at = |m: String| format!("function {}: {m}", Escaped(&f.address));
    let i = &f.ids;
    let ids = Identity {
        vendor: i.vendor,
        device: i.device,
        subsystem_vendor: i.subsystem_vendor,
        subsystem: i.subsystem,
        class: i.class,
        revision: i.revision,
        header_type: i.header_type,
    };
    let config = hexbytes::decode(&f.config).map_err(at)?;
    let mut out = Function::new(address(&f.address).map_err(at)?, ids, config);
    out.bar_sizes = six(&f.bar_sizes, "bar_sizes").map_err(at)?;
    let bars: Vec<Option<OsBar>> = f
        .bar_os
        .iter()
        .map(|b| {
            b.map(|b| OsBar {
                start: b.start,
                io: b.io,
                mem64: b.mem64,
                prefetchable: b.prefetchable,
            })
        })
        .collect();
    out.bar_os = six(&bars, "bar_os").map_err(at)?;
    out.rom_size = f.rom_size;
    out.driver = f.driver.clone();
    out.iommu_group = f.iommu_group;
    out.physfn = f.physfn.as_deref().map(address).transpose().map_err(at)?;
    out.virtfns = f
        .virtfns
        .iter()
        .map(|a| address(a))
        .collect::<Result<_, _>>()
        .map_err(at)?;
    out.boot_vga = f.boot_vga;
    out.numa_node = f.numa_node;
    out.illumos = f.illumos.as_ref().map(node).transpose().map_err(at)?;
    Ok(out)
}

fn prop_v2(p: &PropValue) -> PropV2 {
    match p {
        PropValue::Boolean => PropV2::Boolean,
        PropValue::Ints(v) => PropV2::Ints(v.clone()),
        PropValue::Int64s(v) => PropV2::Int64s(v.clone()),
        PropValue::Strings(v) => PropV2::Strings(v.clone()),
        PropValue::Bytes(v) => PropV2::Bytes(hexbytes::encode(v)),
    }
}

fn prop(p: &PropV2) -> Result<PropValue, String> {
    Ok(match p {
        PropV2::Boolean => PropValue::Boolean,
        PropV2::Ints(v) => PropValue::Ints(v.clone()),
        PropV2::Int64s(v) => PropValue::Int64s(v.clone()),
        PropV2::Strings(v) => PropValue::Strings(v.clone()),
        PropV2::Bytes(v) => PropValue::Bytes(hexbytes::decode(v)?),
    })
}

pub(crate) fn node_v2(n: &IllumosNode) -> NodeV2 {
    NodeV2 {
        path: n.path.clone(),
        devfs_path: n.devfs_path.clone(),
        walk_index: n.walk_index,
        node_state: n.node_state,
        path_source: n.path_source.map(|s| s.as_str().to_string()),
        node_name: n.node_name.clone(),
        unit_address: n.unit_address.clone(),
        driver: n.driver.clone(),
        instance: n.instance,
        binding_name: n.binding_name.clone(),
        compatible: n.compatible.clone(),
        parent_device_type: n.parent_device_type.clone(),
        device_type: n.device_type.clone(),
        props: n
            .props
            .iter()
            .map(|(k, v)| (k.clone(), prop_v2(v)))
            .collect(),
        minors: n.minors.clone(),
    }
}

pub(super) fn node(n: &NodeV2) -> Result<IllumosNode, String> {
    let path_source = match n.path_source.as_deref() {
        None => None,
        Some(s) => Some(
            PathSource::from_name(s)
                .ok_or_else(|| format!("node {}: unknown path_source {s:?}", Escaped(&n.path)))?,
        ),
    };
    Ok(IllumosNode {
        path: n.path.clone(),
        devfs_path: n.devfs_path.clone(),
        walk_index: n.walk_index,
        node_state: n.node_state,
        path_source,
        node_name: n.node_name.clone(),
        unit_address: n.unit_address.clone(),
        driver: n.driver.clone(),
        instance: n.instance,
        binding_name: n.binding_name.clone(),
        compatible: n.compatible.clone(),
        parent_device_type: n.parent_device_type.clone(),
        device_type: n.device_type.clone(),
        props: n
            .props
            .iter()
            .map(|(k, v)| prop(v).map(|v| (k.clone(), v)))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("node {}: {e}", Escaped(&n.path)))?,
        minors: n.minors.clone(),
    })
}

pub(crate) fn link_v2(l: &PptLink) -> LinkV2 {
    LinkV2 {
        dev: l.dev.clone(),
        target: l.target.clone(),
        path: l.path.clone(),
    }
}

pub(super) fn link(l: &LinkV2) -> PptLink {
    PptLink {
        dev: l.dev.clone(),
        target: l.target.clone(),
        path: l.path.clone(),
    }
}

pub(crate) fn facts_v2(f: &HostFacts) -> FactsV2 {
    FactsV2 {
        cpu_vendor: f.cpu_vendor.map(|v| {
            match v {
                CpuVendor::Intel => "intel",
                CpuVendor::Amd => "amd",
                CpuVendor::Other => "other",
            }
            .to_string()
        }),
        iommu: f.iommu.as_ref().map(|i| IommuV2 {
            present: i.present,
            kind: i.kind.clone(),
            evidence: i.evidence.clone(),
        }),
        boot_devices: f.boot_devices.clone(),
    }
}

pub(super) fn facts(f: &FactsV2, os: Option<String>) -> Result<HostFacts, String> {
    Ok(HostFacts {
        os,
        cpu_vendor: match f.cpu_vendor.as_deref() {
            None => None,
            Some("intel") => Some(CpuVendor::Intel),
            Some("amd") => Some(CpuVendor::Amd),
            Some("other") => Some(CpuVendor::Other),
            Some(v) => return Err(format!("facts: unknown cpu_vendor {v:?}")),
        },
        iommu: f.iommu.as_ref().map(|i| IommuFacts {
            present: i.present,
            kind: i.kind.clone(),
            evidence: i.evidence.clone(),
        }),
        boot_devices: f.boot_devices.clone(),
    })
}
