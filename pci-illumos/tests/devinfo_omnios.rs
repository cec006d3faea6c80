//! The real OmniOS snapshot cache (2016, Dell desktop) against the
//! `path_to_inst` of the same machine. Skips when the shared real data is
//! absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use pci_illumos::devinfo::{to_host, Endian, Layout, Snapshot};

fn dir() -> Option<PathBuf> {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk"
    ));
    if d.join("devices/snapshot_cache").is_file() {
        Some(d)
    } else {
        eprintln!("skipping: {} is absent", d.display());
        None
    }
}

fn snapshot(d: &std::path::Path) -> Snapshot {
    let bytes = std::fs::read(d.join("devices/snapshot_cache")).unwrap();
    Snapshot::parse(&bytes).unwrap()
}

/// `"path" instance "driver"` lines.
fn path_to_inst(d: &std::path::Path) -> Vec<(String, i32, String)> {
    let text = std::fs::read_to_string(d.join("path_to_inst")).unwrap();
    text.lines()
        .filter(|l| l.starts_with('"'))
        .map(|l| {
            let parts: Vec<&str> = l.split('"').collect();
            (
                parts[1].to_string(),
                parts[2].trim().parse().unwrap(),
                parts[3].to_string(),
            )
        })
        .collect()
}

#[test]
fn header_facts() {
    let Some(d) = dir() else { return };
    let s = snapshot(&d);
    assert_eq!(s.header.layout, Layout::Aliases);
    assert_eq!(s.header.endian, Endian::Little);
    assert!(s.header.cached);
    assert_eq!(s.header.checksum, 0x14de_0352);
    assert_eq!(s.header.snapshot_time, 1_462_404_576);
    assert_eq!(s.header.map_size, 160_476);
    assert_eq!(s.header.root_path, "/");
    assert_eq!(s.devnames.len(), 520);
    assert_eq!(s.devnames[184].as_ref().unwrap().name, "rge");
    assert_eq!(s.devnames[185].as_ref().unwrap().name, "rootnex");
}

#[test]
fn agrees_with_path_to_inst() {
    let Some(d) = dir() else { return };
    let s = snapshot(&d);
    let mut unmatched = Vec::new();
    let mut matched = 0;
    for (path, inst, drv) in path_to_inst(&d) {
        match s.lookup(&path) {
            Some(i) => {
                let n = &s.nodes[i];
                assert_eq!(n.instance, Some(inst), "{path}");
                assert_eq!(n.driver.as_deref(), Some(drv.as_str()), "{path}");
                matched += 1;
            }
            None => unmatched.push(path),
        }
    }
    assert_eq!(matched, 35);
    // The two ATA channels of the second IDE controller were never
    // initialized in this snapshot: no address, no unit-address property.
    assert_eq!(
        unmatched,
        ["/pci@0,0/pci-ide@1f,5/ide@0", "/pci@0,0/pci-ide@1f,5/ide@1"]
    );
    let ide: Vec<usize> = (0..s.nodes.len())
        .filter(|&i| s.devfs_path(i) == "/pci@0,0/pci-ide@1f,5/ide")
        .collect();
    assert_eq!(ide.len(), 2);
    for i in ide {
        assert_eq!(s.nodes[i].driver.as_deref(), Some("ata"));
        assert_eq!(s.nodes[i].instance, None);
    }
}

#[test]
fn pci_functions_convert() {
    let Some(d) = dir() else { return };
    let s = snapshot(&d);
    let host = to_host(&s, "/etc/devices/snapshot_cache");
    assert!(host.warnings.is_empty(), "{:?}", host.warnings);
    assert_eq!(host.functions.len(), 16);
    let slots: Vec<String> = host
        .functions
        .iter()
        .map(|f| f.address.to_string())
        .collect();
    assert_eq!(
        slots,
        [
            "0000:00:00.0",
            "0000:00:01.0",
            "0000:00:02.0",
            "0000:00:16.0",
            "0000:00:19.0",
            "0000:00:1a.0",
            "0000:00:1b.0",
            "0000:00:1c.0",
            "0000:00:1c.4",
            "0000:00:1d.0",
            "0000:00:1f.0",
            "0000:00:1f.2",
            "0000:00:1f.3",
            "0000:00:1f.5",
            "0000:01:00.0",
            "0000:03:00.0",
        ]
    );
    let rge = host
        .functions
        .iter()
        .find(|f| f.address.to_string() == "0000:03:00.0")
        .unwrap();
    let n = rge.illumos.as_ref().unwrap();
    assert_eq!(n.path, "/pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0");
    assert_eq!(n.driver.as_deref(), Some("rge"));
    assert_eq!(n.instance, Some(1));
    assert_eq!(n.parent_device_type.as_deref(), Some("pciex"));
    assert_eq!((rge.ids.vendor, rge.ids.device), (0x10ec, 0x8168));
    assert_eq!(
        (rge.ids.subsystem_vendor, rge.ids.subsystem),
        (Some(0x7470), Some(0x3468))
    );
    assert_eq!(rge.ids.class, 0x020000);
    assert!(rge.bar_sizes.iter().any(|s| s.is_some()));
    // Uninitialized functions get their address from `unit-address`.
    let mei = host
        .functions
        .iter()
        .find(|f| f.address.to_string() == "0000:00:16.0")
        .unwrap();
    assert_eq!(
        mei.illumos.as_ref().unwrap().path,
        "/pci@0,0/pci1028,577@16"
    );
    assert_eq!(mei.driver, None);
    assert_eq!(host.nexus.len(), 1);
    assert_eq!(host.nexus[0].path, "/pci@0,0");
    assert_eq!(host.nexus[0].driver.as_deref(), Some("npe"));
    assert!(host.nexus[0].minors.contains(&"reg".to_string()));
}

#[test]
fn node_names_and_compatible_follow_the_x86_rules() {
    use pci_illumos::naming::{compatible, node_name, unit_address, CompatStyle};
    let Some(d) = dir() else { return };
    let s = snapshot(&d);
    let host = to_host(&s, "x");
    let mut checked = 0;
    for f in &host.functions {
        let n = f.illumos.as_ref().unwrap();
        // A devinfo source has no header type; PCI-PCI bridges are class 0604.
        let ht = if f.ids.class >> 8 == 0x0604 { 1 } else { 0 };
        assert_eq!(n.node_name, node_name(&f.ids, Some(ht)), "{}", n.path);
        assert_eq!(
            n.unit_address.as_deref(),
            Some(unit_address(&f.address).as_str()),
            "{}",
            n.path
        );
        // The snapshot has no config space to tell PCIe from PCI; take it
        // from the list itself and check everything else (2016 kernel:
        // the pre-IPD 9 list without `,s`/`,p`).
        let pcie = n.compatible.first().is_some_and(|c| c.starts_with("pciex"));
        assert_eq!(
            n.compatible,
            compatible(&f.ids, Some(ht), pcie, CompatStyle::Legacy),
            "{}",
            n.path
        );
        checked += 1;
    }
    assert_eq!(checked, 16);
}
