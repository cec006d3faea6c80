//! Predicted illumos nodes for a host read without a devinfo tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::{Address, Function, Host, Identity, PathSource};
use pci_illumos::naming::predict;

/// Type-0 or type-1 config space with an optional PCIe capability.
fn cfg(
    v: u16,
    d: u16,
    class: u32,
    ht: u8,
    sub: (u16, u16),
    pcie_ver: Option<u8>,
    secondary: u8,
) -> Vec<u8> {
    let mut c = vec![0u8; 256];
    c[0..2].copy_from_slice(&v.to_le_bytes());
    c[2..4].copy_from_slice(&d.to_le_bytes());
    c[9] = class as u8;
    c[10] = (class >> 8) as u8;
    c[11] = (class >> 16) as u8;
    c[0x0e] = ht;
    if ht & 0x7f == 0 {
        c[0x2c..0x2e].copy_from_slice(&sub.0.to_le_bytes());
        c[0x2e..0x30].copy_from_slice(&sub.1.to_le_bytes());
    } else {
        c[0x19] = secondary;
        c[0x1a] = secondary;
    }
    if let Some(ver) = pcie_ver {
        c[6] = 0x10;
        c[0x34] = 0x60;
        c[0x60] = 0x10;
        c[0x62] = ver;
    }
    c
}

fn func(addr: &str, c: Vec<u8>) -> Function {
    let ids = Identity {
        vendor: u16::from_le_bytes([c[0], c[1]]),
        device: u16::from_le_bytes([c[2], c[3]]),
        subsystem_vendor: (c[0x0e] & 0x7f == 0).then(|| u16::from_le_bytes([c[0x2c], c[0x2d]])),
        subsystem: (c[0x0e] & 0x7f == 0).then(|| u16::from_le_bytes([c[0x2e], c[0x2f]])),
        class: u32::from(c[9]) | u32::from(c[10]) << 8 | u32::from(c[11]) << 16,
        revision: c[8],
        header_type: Some(c[0x0e]),
    };
    Function::new(addr.parse::<Address>().unwrap(), ids, c)
}

#[test]
fn levon_host_paths() {
    let mut host = Host {
        functions: vec![
            func(
                "0000:00:00.0",
                cfg(0x8086, 0x150, 0x060000, 0, (0x1462, 0x7758), None, 0),
            ),
            func(
                "0000:00:01.0",
                cfg(0x8086, 0x151, 0x060400, 0x81, (0, 0), Some(2), 1),
            ),
            func(
                "0000:01:00.0",
                cfg(0x10de, 0x0a65, 0x030000, 0x80, (0x1462, 0x2291), Some(2), 0),
            ),
            func(
                "0000:01:00.1",
                cfg(0x10de, 0x0be3, 0x040300, 0x80, (0x1462, 0x2291), Some(2), 0),
            ),
            // Behind no bridge on bus 2: a second root complex.
            func(
                "0000:02:00.0",
                cfg(0x8086, 0x1533, 0x020000, 0, (0x15d9, 0x1533), Some(2), 0),
            ),
            // PCIe capability version 3: the kernel makes no node.
            func(
                "0000:02:01.0",
                cfg(0x1234, 0x5678, 0x020000, 0, (0, 0), Some(3), 0),
            ),
            // A function that reads all ones is no device.
            func(
                "0000:02:02.0",
                cfg(0xffff, 0xffff, 0xffffff, 0, (0xffff, 0xffff), None, 0),
            ),
        ],
        ..Host::default()
    };
    predict(&mut host);
    let paths: Vec<Option<String>> = host
        .functions
        .iter()
        .map(|f| f.illumos.as_ref().map(|n| n.path.clone()))
        .collect();
    assert_eq!(
        paths,
        [
            Some("/pci@0,0/pci1462,7758".to_string() + "@0"),
            Some("/pci@0,0/pci8086,151@1".to_string()),
            Some("/pci@0,0/pci8086,151@1/display@0".to_string()),
            Some("/pci@0,0/pci8086,151@1/pci1462,2291@0,1".to_string()),
            Some("/pci@1,0/pci15d9,1533@0".to_string()),
            None,
            None,
        ]
    );
    assert_eq!(host.warnings.len(), 1);
    let audio = host.functions[3].illumos.as_ref().unwrap();
    assert_eq!(audio.path_source, Some(PathSource::Predicted));
    assert_eq!(audio.parent_device_type.as_deref(), Some("pciex"));
    assert_eq!(audio.compatible[0], "pciex10de,be3.1462.2291.0");
    assert!(audio.compatible.contains(&"pci1462,2291,s".to_string()));
    let display = host.functions[2].illumos.as_ref().unwrap();
    assert!(!display.compatible.iter().any(|c| c.contains("1462,2291,s")));
    assert_eq!(
        host.functions[1]
            .illumos
            .as_ref()
            .unwrap()
            .device_type
            .as_deref(),
        Some("pciex")
    );
    let nexus: Vec<&str> = host.nexus.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(nexus, ["/pci@0,0", "/pci@1,0"]);
}

#[test]
fn keeps_devinfo_nodes_and_survives_bus_cycles() {
    // Two bridges claiming each other's bus: no hang, some path for each.
    let mut host = Host {
        functions: vec![
            func(
                "0000:01:00.0",
                cfg(0x8086, 0x151, 0x060400, 0x01, (0, 0), Some(2), 2),
            ),
            func(
                "0000:02:00.0",
                cfg(0x8086, 0x151, 0x060400, 0x01, (0, 0), Some(2), 1),
            ),
        ],
        ..Host::default()
    };
    predict(&mut host);
    assert!(host.functions.iter().all(|f| f.illumos.is_some()));
}
