//! Node names and `compatible` lists that depend on the kernel generation
//! (bridge subsystem ids since 2023) or on the alias files (`pci-ide`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::{Address, Function, Host, Identity, PropValue};
use pci_illumos::binding::KernelFiles;
use pci_illumos::naming::{compatible, node_name, predict_bound, predict_with, CompatStyle};
use pci_illumos::root::HostRoot;

/// A PCIe root port 8086:1e10 rev 4, optionally with the bridge subsystem
/// capability (id 0x0d) naming 1028:0577, as the config-space reader
/// gives it (the identity takes the ids from that capability).
fn bridge(ssvid_cap: bool) -> Function {
    let mut c = vec![0u8; 256];
    c[0..2].copy_from_slice(&0x8086u16.to_le_bytes());
    c[2..4].copy_from_slice(&0x1e10u16.to_le_bytes());
    c[8] = 4;
    c[9] = 0x00;
    c[10] = 0x04;
    c[11] = 0x06;
    c[0x0e] = 0x81;
    c[0x19] = 2;
    c[0x1a] = 2;
    c[6] = 0x10;
    c[0x34] = 0x40;
    // PCIe capability at 0x40, version 2
    c[0x40] = 0x10;
    c[0x42] = 2;
    if ssvid_cap {
        c[0x41] = 0x80;
        c[0x80] = 0x0d;
        c[0x84..0x86].copy_from_slice(&0x1028u16.to_le_bytes());
        c[0x86..0x88].copy_from_slice(&0x0577u16.to_le_bytes());
    }
    let ids = pci_core::sources::identity_from_config(&c);
    Function::new("0000:00:1c.0".parse::<Address>().unwrap(), ids, c)
}

fn predicted(f: Function, style: CompatStyle) -> pci_core::IllumosNode {
    let mut host = Host {
        functions: vec![f],
        ..Host::default()
    };
    predict_with(&mut host, style);
    host.functions[0].illumos.clone().unwrap()
}

#[test]
fn bridge_with_subsystem_capability_in_both_styles() {
    let f = bridge(true);
    assert_eq!(f.ids.subsystem_vendor, Some(0x1028));
    let now = predicted(f.clone(), CompatStyle::Ipd9);
    // named by vendor,device on x86 either way
    assert_eq!(now.node_name, "pci8086,1e10");
    assert_eq!(
        now.compatible,
        [
            "pciex8086,1e10.1028.577.4",
            "pciex8086,1e10.1028.577",
            "pciex8086,1e10.4",
            "pciex8086,1e10",
            "pciexclass,060400",
            "pciexclass,0604",
            "pci8086,1e10.1028.577.4",
            "pci8086,1e10.1028.577",
            "pci1028,577,s",
            "pci8086,1e10.4",
            "pci8086,1e10,p",
            "pci8086,1e10",
            "pciclass,060400",
            "pciclass,0604",
        ]
    );
    assert_eq!(
        now.props.get("subsystem-vendor-id"),
        Some(&PropValue::Ints(vec![0x1028]))
    );
    assert_eq!(
        now.props.get("subsystem-id"),
        Some(&PropValue::Ints(vec![0x577]))
    );
    let old = predicted(f, CompatStyle::Legacy);
    assert_eq!(old.node_name, "pci8086,1e10");
    assert_eq!(
        old.compatible,
        [
            "pciex8086,1e10.4",
            "pciex8086,1e10",
            "pciexclass,060400",
            "pciexclass,0604",
            "pci8086,1e10.4",
            "pci8086,1e10",
            "pciclass,060400",
            "pciclass,0604",
        ]
    );
    assert!(!old.props.contains_key("subsystem-vendor-id"));
}

#[test]
fn bridge_without_subsystem_capability_in_both_styles() {
    let f = bridge(false);
    assert_eq!(f.ids.subsystem_vendor, None);
    let now = predicted(f.clone(), CompatStyle::Ipd9);
    assert_eq!(
        now.compatible,
        [
            "pciex8086,1e10.4",
            "pciex8086,1e10",
            "pciexclass,060400",
            "pciexclass,0604",
            "pci8086,1e10.4",
            "pci8086,1e10,p",
            "pci8086,1e10",
            "pciclass,060400",
            "pciclass,0604",
        ]
    );
    assert!(!now.props.contains_key("subsystem-vendor-id"));
    let old = predicted(f, CompatStyle::Legacy);
    assert!(!old.compatible.iter().any(|c| c.ends_with(",p")));
}

fn ide() -> Function {
    let ids = Identity {
        vendor: 0x8086,
        device: 0x1e00,
        subsystem_vendor: Some(0x1028),
        subsystem: Some(0x0577),
        class: 0x01018f,
        revision: 4,
        header_type: Some(0x80),
    };
    Function::new("0000:00:1f.2".parse::<Address>().unwrap(), ids, Vec::new())
}

#[test]
fn pci_ide_only_when_no_alias_binds_the_controller() {
    assert_eq!(node_name(&ide().ids, Some(0x80)), "pci-ide");
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/name_to_major"), "ahci 100\nata 101\n").unwrap();
    std::fs::write(root.path().join("etc/driver_aliases"), "ata \"pci-ide\"\n").unwrap();
    let run = |root: &std::path::Path| {
        let files = KernelFiles::load(&HostRoot::new(root)).unwrap();
        let mut host = Host {
            functions: vec![ide()],
            ..Host::default()
        };
        predict_bound(&mut host, CompatStyle::Ipd9, &files.binder());
        host.functions[0].illumos.clone().unwrap()
    };
    // nothing claims pci8086,1e00 and the like: renamed pci-ide
    let n = run(root.path());
    assert_eq!(n.node_name, "pci-ide");
    assert_eq!(n.path, "/pci@0,0/pci-ide@1f,2");
    // a compatible alias to an active driver claims it first
    std::fs::write(
        root.path().join("etc/driver_aliases"),
        "ata \"pci-ide\"\nahci \"pciclass,0101\"\n",
    )
    .unwrap();
    let n = run(root.path());
    assert_eq!(n.node_name, "pci1028,577");
    assert_eq!(n.path, "/pci@0,0/pci1028,577@1f,2");
    assert!(compatible(&ide().ids, Some(0x80), false, CompatStyle::Ipd9)
        .contains(&"pciclass,0101".to_string()));
}
