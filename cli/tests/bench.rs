//! `pptctl bench`: every phase is reported with ordered statistics, for a
//! dump and for a sysfs tree (which adds the tree-walk and config-read
//! phases); bad arguments are usage errors. No time is asserted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use assert_cmd::Command;

fn bench_json(args: &[&str]) -> serde_json::Value {
    let o = Command::cargo_bin("pptctl")
        .unwrap()
        .args(args)
        .args(["bench", "--iterations", "2", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn phases(v: &serde_json::Value) -> Vec<String> {
    let list = v["phases"].as_array().unwrap();
    for p in list {
        let (min, med, max) = (
            p["min_ms"].as_f64().unwrap(),
            p["median_ms"].as_f64().unwrap(),
            p["max_ms"].as_f64().unwrap(),
        );
        assert!(min <= med && med <= max, "{p}");
    }
    list.iter()
        .map(|p| p["phase"].as_str().unwrap().to_string())
        .collect()
}

/// Two functions: a host bridge and a root port, 64 bytes each.
fn config(vendor: u16, device: u16, class: u32, header: u8) -> Vec<u8> {
    let mut c = vec![0u8; 64];
    c[0..2].copy_from_slice(&vendor.to_le_bytes());
    c[2..4].copy_from_slice(&device.to_le_bytes());
    c[9] = class as u8;
    c[10] = (class >> 8) as u8;
    c[11] = (class >> 16) as u8;
    c[0x0e] = header;
    c
}

fn write_tree(root: &Path) {
    for (addr, c) in [
        ("0000:00:00.0", config(0x8086, 0x0150, 0x060000, 0)),
        ("0000:00:01.0", config(0x8086, 0x0151, 0x060400, 1)),
    ] {
        let dir = root.join("devices/pci0000:00").join(addr);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("config"), &c).unwrap();
        let class = u32::from(c[11]) << 16 | u32::from(c[10]) << 8 | u32::from(c[9]);
        fs::write(dir.join("class"), format!("0x{class:06x}\n")).unwrap();
        fs::write(dir.join("vendor"), format!("0x{:02x}{:02x}\n", c[1], c[0])).unwrap();
        fs::write(dir.join("device"), format!("0x{:02x}{:02x}\n", c[3], c[2])).unwrap();
        let links = root.join("bus/pci/devices");
        fs::create_dir_all(&links).unwrap();
        symlink(
            format!("../../../devices/pci0000:00/{addr}"),
            links.join(addr),
        )
        .unwrap();
    }
}

#[test]
fn sysfs_reports_every_phase() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(tmp.path());
    let v = bench_json(&["--from", &format!("sysfs:{}", tmp.path().display())]);
    assert_eq!(v["functions"], 2);
    assert_eq!(v["iterations"], 2);
    assert_eq!(
        phases(&v),
        [
            "tree walk",
            "config reads",
            "load (identity)",
            "load (full)",
            "decode",
            "matching",
            "render show -n",
            "render show --json"
        ]
    );
}

#[test]
fn dump_has_no_tree_walk() {
    let tmp = tempfile::tempdir().unwrap();
    let dump = tmp.path().join("d.txt");
    let mut text = String::from("00:00.0 0600: 8086:0150\n");
    for (i, row) in config(0x8086, 0x0150, 0x060000, 0).chunks(16).enumerate() {
        text.push_str(&format!("{:02x}:", i * 16));
        for b in row {
            text.push_str(&format!(" {b:02x}"));
        }
        text.push('\n');
    }
    fs::write(&dump, text).unwrap();
    let v = bench_json(&["--from", &format!("dump:{}", dump.display())]);
    assert_eq!(v["functions"], 1);
    let p = phases(&v);
    assert!(!p.contains(&"tree walk".to_string()));
    assert!(p.contains(&"matching".to_string()));
}

#[test]
fn zero_iterations_is_a_usage_error() {
    let o = Command::cargo_bin("pptctl")
        .unwrap()
        .args(["bench", "--iterations", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
