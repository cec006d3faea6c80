//! Where each device of a snapshot sits: the PCIe root complex above it,
//! its NUMA node, and the VM that uses it; stored per device at ingest
//! (`device_topology`) so placement reads it with the device.
//!
//! The root complex: on illumos the top-level node of the device's devfs
//! path (`/pci@0,0` in `/pci@0,0/pci8086,151@1/display@0`): at boot the x86
//! PCI enumeration makes one `pci`/`pciex` node per root bus directly below
//! the root of the device tree (illumos-gate `pci_boot.c`,
//! `create_root_bus_dip()`), and the `npe` nexus driver attaches to it
//! (`usr/src/uts/i86pc/io/pciex/npe.c`). Elsewhere (Linux
//! sysfs, dumps) the PCI domain and root bus of the top-most bridge above
//! it, written as Linux names the root (`pci0000:40`), which is also what
//! Kubernetes DRA publishes as `pcieRoot`.

use std::collections::HashMap;

use crate::backend::{Backend, Value};
use crate::error::FleetError;
use crate::record::{FunctionRow, SnapshotRecord};

/// Rows per multi-row `INSERT`.
const CHUNK: usize = 100;

/// One device's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTopology {
    /// `DDDD:BB:DD`.
    pub device_key: String,
    /// The root complex above it.
    pub pcie_root: String,
    /// Its NUMA node, when recorded.
    pub numa_node: Option<u32>,
    /// The VM using it, when the snapshot names one.
    pub vm: Option<String>,
}

/// The root complex of function `f`: see the module documentation.
pub fn root_of(f: &FunctionRow, by_addr: &HashMap<&str, &FunctionRow>) -> String {
    if let Some(p) = f.devfs_path.as_deref().filter(|p| p.starts_with('/')) {
        let top = p[1..].split('/').next().unwrap_or("");
        if !top.is_empty() {
            return format!("/{top}");
        }
    }
    let mut top = f;
    // Bounded: a parent cycle in a hostile snapshot ends the walk.
    for _ in 0..by_addr.len() {
        match top.parent.as_deref().and_then(|a| by_addr.get(a)) {
            Some(p) => top = p,
            None => break,
        }
    }
    let bus = top.address.rsplit_once(':').map_or("", |(b, _)| b);
    format!("pci{bus}")
}

/// Every device of the record, in address order.
pub fn of_record(rec: &SnapshotRecord) -> Vec<DeviceTopology> {
    let by_addr: HashMap<&str, &FunctionRow> = rec
        .functions
        .iter()
        .map(|f| (f.address.as_str(), f))
        .collect();
    let mut out: Vec<DeviceTopology> = Vec::new();
    for f in &rec.functions {
        match out.last_mut() {
            Some(d) if d.device_key == f.device_key => {
                d.numa_node = d.numa_node.or(f.numa_node);
                d.vm = d.vm.take().or_else(|| f.vm.clone());
            }
            _ => out.push(DeviceTopology {
                device_key: f.device_key.clone(),
                pcie_root: root_of(f, &by_addr),
                numa_node: f.numa_node,
                vm: f.vm.clone(),
            }),
        }
    }
    out.sort_by(|a, b| a.device_key.cmp(&b.device_key));
    out.dedup_by(|a, b| a.device_key == b.device_key);
    out
}

/// Stores the topology of snapshot `id` (in the ingest's transaction).
pub(crate) fn store(db: &mut dyn Backend, id: i64, rec: &SnapshotRecord) -> Result<(), FleetError> {
    let devices = of_record(rec);
    let mut values: Vec<Value> = Vec::with_capacity(CHUNK * 5);
    for chunk in devices.chunks(CHUNK) {
        values.clear();
        for d in chunk {
            values.extend([
                id.into(),
                d.device_key.as_str().into(),
                d.pcie_root.as_str().into(),
                Value::Int(d.numa_node.map(i64::from)),
                d.vm.clone().into(),
            ]);
        }
        let rows = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        db.execute(
            &format!(
                "INSERT INTO device_topology (snapshot_id, device_key, pcie_root, numa_node, vm) VALUES {rows}"
            ),
            &values,
        )?;
    }
    Ok(())
}
