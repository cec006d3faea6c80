//! `snapshot` of a devinfo source, read back with `--from snapshot:`,
//! answers `list`, `tree` and `show` exactly as the devinfo source does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod support;
use support::{omnios_cache, pptctl_at};

fn pptctl(root: &Path, from: &str, args: &[&str]) -> (String, String) {
    let o = pptctl_at(root, from).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn devinfo_snapshot_round_trip() {
    let Some(cache) = omnios_cache() else { return };
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    std::fs::write(
        t.path().join("etc/ppt_matches"),
        "pciex10ec,8168\npci8086,1e3a\n",
    )
    .unwrap();
    let devinfo = format!("devinfo:{}", cache.display());
    let (json, _) = pptctl(t.path(), &devinfo, &["snapshot"]);
    let snap = t.path().join("host.json");
    std::fs::write(&snap, json).unwrap();
    let snapshot = format!("snapshot:{}", snap.display());
    for args in [
        &["list", "-a", "-o", "all"][..],
        &["list", "-a", "-j"][..],
        &[
            "list",
            "-a",
            "-U",
            "-N",
            "-p",
            "-o",
            "dev,path,vendor,device,subvendor,subdevice,rev",
        ][..],
        &["list"][..],
        &["tree", "--paths"][..],
        &["show", "--json"][..],
        &["show", "-n"][..],
    ] {
        let a = pptctl(t.path(), &devinfo, args);
        let (out, err) = pptctl(t.path(), &snapshot, args);
        // The replay says once that it does not read --root (the same
        // root here); everything else is the same.
        let note = format!(
            "pptctl: note: {snapshot} is a version 2 snapshot: the configuration it recorded \
             (ppt_aliases, driver_aliases, boot media) is used, not the files under --root {}\n",
            t.path().display()
        );
        let err = err.replacen(&note, "", 1);
        assert_eq!(a, (out, err), "{args:?}");
    }
    // The snapshot keeps the devinfo facts: every function's path, driver
    // and instance.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    let rge = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == "0000:03:00.0")
        .unwrap();
    assert_eq!(
        rge["illumos"]["path"],
        "/pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0"
    );
    assert_eq!(rge["illumos"]["driver"], "rge");
    assert_eq!(rge["illumos"]["instance"], 1);
    assert_eq!(rge["illumos"]["path_source"], "devinfo");
}

#[test]
fn cfgspace_joins_by_address() {
    let Some(cache) = omnios_cache() else { return };
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("cfg");
    std::fs::create_dir(&cfg).unwrap();
    // rge1 at 03:00.0: 10ec:8168 rev 6, header type 0.
    let mut c = vec![0u8; 256];
    c[..4].copy_from_slice(&[0xec, 0x10, 0x68, 0x81]);
    c[8] = 6;
    c[9..12].copy_from_slice(&[0, 0, 2]);
    std::fs::write(cfg.join("03-00-00.pci"), &c).unwrap();
    std::fs::write(cfg.join("07-00-00.pci"), &c).unwrap();
    let o = support::pptctl()
        .arg("--from")
        .arg(format!("devinfo:{}", cache.display()))
        .arg("--cfgspace")
        .arg(&cfg)
        .arg("snapshot")
        .output()
        .unwrap();
    assert!(o.status.success());
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.contains("07-00-00.pci: no device node at 0000:07:00.0; ignored"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == "0000:03:00.0")
        .unwrap();
    assert_eq!(f["config"].as_str().unwrap().len(), 512);
    assert_eq!(f["ids"]["header_type"], 0);
}
