//! The generator writes what real readers accept: lspci reads the sysfs
//! tree and the dump identically, the devinfo snapshot walks to the devfs
//! paths of the x86 naming rules with a valid CRC, the JSON snapshot reads
//! back into the same `pci_core::Host`.

#![allow(clippy::unwrap_used)] // test helpers: a failure is a test failure

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use benches::{devinfo, generate_into, pool::default_realdata, snapshot, Formats};

fn realdata() -> Option<std::path::PathBuf> {
    let r = default_realdata();
    if r.is_dir() {
        Some(r)
    } else {
        eprintln!("skipping: {} absent", r.display());
        None
    }
}

fn lspci_available() -> bool {
    Command::new("lspci")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn lspci_reads_sysfs_tree_and_dump_identically() {
    let Some(rd) = realdata() else { return };
    if !lspci_available() {
        eprintln!("skipping: lspci not installed");
        return;
    }
    let tmp = benches::bench_tempdir().unwrap();
    let f = Formats {
        sysfs: true,
        dump: true,
        devinfo: false,
        json: false,
        matches: None,
    };
    let (host, w) = generate_into(&rd, 1000, 3, tmp.path(), f).unwrap();
    let sysfs = w.sysfs.unwrap();
    let a = Command::new("lspci")
        .args(["-O", "hwdb.disable=1"])
        .args(["-A", "linux-sysfs", "-O"])
        .arg(format!("sysfs.path={}", sysfs.join("bus/pci").display()))
        .arg("-n")
        .output()
        .unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let b = Command::new("lspci")
        .args(["-O", "hwdb.disable=1"])
        .arg("-F")
        .arg(w.dump.unwrap())
        .arg("-n")
        .output()
        .unwrap();
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    let text = String::from_utf8(a.stdout).unwrap();
    assert_eq!(text.lines().count(), host.functions.len());
    // Several domains, so lspci shows them.
    assert!(text.starts_with("0000:00:00.0 "));
}

fn i32_at(b: &[u8], off: i32) -> i32 {
    let o = off as usize;
    i32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn cstr(b: &[u8], off: i32) -> String {
    if off <= 0 {
        return String::new();
    }
    let s = &b[off as usize..];
    String::from_utf8(s[..s.iter().position(|&c| c == 0).unwrap()].to_vec()).unwrap()
}

fn walk(b: &[u8], node: i32, prefix: &str, out: &mut Vec<String>, depth: usize) {
    assert!(depth < 64);
    assert_eq!(i32_at(b, node), node, "self offset");
    let mut child = i32_at(b, node + 0x08);
    while child != 0 {
        let name = cstr(b, i32_at(b, child + 0x14));
        let addr = cstr(b, i32_at(b, child + 0x18));
        let path = format!("{prefix}/{name}@{addr}");
        assert_eq!(i32_at(b, child + 0x04), node, "parent");
        out.push(path.clone());
        walk(b, child, &path, out, depth + 1);
        child = i32_at(b, child + 0x0c);
    }
}

#[test]
fn devinfo_snapshot_walks_to_the_predicted_paths() {
    let Some(rd) = realdata() else { return };
    let tmp = benches::bench_tempdir().unwrap();
    let f = Formats {
        sysfs: false,
        dump: false,
        devinfo: true,
        json: false,
        matches: Some(50),
    };
    let (host, w) = generate_into(&rd, 2000, 5, tmp.path(), f).unwrap();
    let mut b = std::fs::read(w.devinfo.unwrap()).unwrap();
    assert_eq!(i32_at(&b, 0), 2);
    assert_eq!(i32_at(&b, 0x48) as usize, b.len(), "map_size");
    assert_eq!(cstr(&b, 0x44c), "/");
    let stored = i32_at(&b, 0x14) as u32;
    b[0x14..0x18].fill(0);
    assert_eq!(devinfo::illumos_crc32(&b), stored);
    let mut paths = Vec::new();
    walk(&b, i32_at(&b, 0x20), "", &mut paths, 0);
    let expected: HashSet<String> = devinfo::devfs_paths(&host).into_iter().collect();
    let nexus = paths.iter().filter(|p| !expected.contains(*p)).count();
    assert_eq!(nexus, host.domains.len(), "only root complexes are extra");
    assert_eq!(paths.len(), host.functions.len() + host.domains.len());
    // ppt-bound nodes are on the ppt driver's per-driver chain.
    let devnames = i32_at(&b, 0x28);
    let ppt_major = (0..i32_at(&b, 0x40))
        .find(|m| cstr(&b, i32_at(&b, devnames + m * 0x18)) == "ppt")
        .unwrap();
    let mut n = i32_at(&b, devnames + ppt_major * 0x18 + 8);
    let mut count = 0;
    while n != 0 {
        assert_eq!(i32_at(&b, n + 0x54), ppt_major);
        let minor = i32_at(&b, n + 0x24);
        assert_eq!(cstr(&b, i32_at(&b, minor + 8)), "ppt");
        count += 1;
        n = i32_at(&b, n + 0x10);
    }
    assert!(count > 0);
    let m = std::fs::read_to_string(w.matches.unwrap()).unwrap();
    assert_eq!(m.lines().count(), 50);
}

#[test]
fn json_snapshot_reads_back() {
    let Some(rd) = realdata() else { return };
    let tmp = benches::bench_tempdir().unwrap();
    let f = Formats {
        sysfs: false,
        dump: false,
        devinfo: false,
        json: true,
        matches: None,
    };
    let (host, w) = generate_into(&rd, 300, 9, tmp.path(), f).unwrap();
    let text = std::fs::read_to_string(w.json.unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], snapshot::FORMAT);
    let back: pci_core::Host = serde_json::from_value(v).unwrap();
    assert_eq!(back, snapshot::to_host(&host));
}

#[test]
fn missing_realdata_is_a_clear_error() {
    let tmp = benches::bench_tempdir().unwrap();
    let err = generate_into(
        Path::new("/nonexistent/realdata"),
        10,
        1,
        tmp.path(),
        Formats::all(1),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/realdata"), "{err}");
}
