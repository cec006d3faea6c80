//! Linux `numa_node` is recorded per function when sysfs gives a node, and
//! left out (not recorded) when the kernel writes -1 or something else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::symlink;
use std::path::Path;

use pci_core::sources::{Source, SysfsSource};

/// A sysfs tree with one function at `0000:00:0N.0` per entry of `numa`
/// (`None`: no `numa_node` file).
fn tree(root: &Path, numa: &[Option<&str>]) {
    let devs = root.join("bus/pci/devices");
    std::fs::create_dir_all(&devs).unwrap();
    for (i, n) in numa.iter().enumerate() {
        let name = format!("0000:00:{:02x}.0", i + 1);
        let real = root.join("devices/pci0000:00").join(&name);
        std::fs::create_dir_all(&real).unwrap();
        symlink(
            format!("../../../devices/pci0000:00/{name}"),
            devs.join(&name),
        )
        .unwrap();
        // A VGA controller's first 64 bytes: IDs 10de:0a65, class 030000.
        let mut config = vec![0u8; 64];
        config[..4].copy_from_slice(&[0xde, 0x10, 0x65, 0x0a]);
        config[0x0b] = 0x03;
        std::fs::write(real.join("config"), &config).unwrap();
        if let Some(text) = n {
            std::fs::write(real.join("numa_node"), text).unwrap();
        }
    }
}

#[test]
fn numa_node_is_recorded_when_the_kernel_gives_one() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path(), &[Some("1\n"), Some("-1\n"), None, Some("junk")]);
    let host = SysfsSource::new(dir.path()).load().unwrap();
    let numa: Vec<Option<u32>> = host.functions.iter().map(|f| f.numa_node).collect();
    assert_eq!(numa, vec![Some(1), None, None, None]);
    // Absent from the snapshot JSON when not recorded, present when it is.
    let json = serde_json::to_value(&host.functions).unwrap();
    assert_eq!(json[0]["numa_node"], 1);
    assert!(json[1].get("numa_node").is_none());
}
