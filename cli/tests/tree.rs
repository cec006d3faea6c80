//! `pptctl tree` on the example host and on the real OmniOS cache.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;

#[test]
fn example_host_tree() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/levon-2018");
    let out = Command::cargo_bin("pptctl")
        .unwrap()
        .args(["--from", &format!("snapshot:{dir}/host.json"), "tree"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "/pci@0,0  npe0\n\
         |-- pci1462,7758@0  00:00.0 [8086:0150] class 060000  (no driver)\n\
         `-- pci8086,151@1  00:01.0 [8086:0151] class 060400  pcieb0\n\
        \x20   |-- display@0  01:00.0 [10de:0a65] class 030000  ppt0\n\
        \x20   `-- pci1462,2291@0,1  01:00.1 [10de:0be3] class 040300  ppt1\n"
    );
    let out = Command::cargo_bin("pptctl")
        .unwrap()
        .args([
            "--from",
            &format!("snapshot:{dir}/host.json"),
            "tree",
            "--paths",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("`-- /pci@0,0/pci8086,151@1/pci1462,2291@0,1  01:00.1"),
        "{text}"
    );
}

#[test]
fn omnios_tree_has_every_function_once() {
    let cache = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk/devices/snapshot_cache"
    );
    if !std::path::Path::new(cache).is_file() {
        eprintln!("skipping: {cache} is absent");
        return;
    }
    let out = Command::cargo_bin("pptctl")
        .unwrap()
        .args(["--from", &format!("devinfo:{cache}"), "tree"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 17, "{text}");
    assert!(
        text.contains("|   `-- pci7470,3468@0  03:00.0 [10ec:8168] class 020000  rge1\n"),
        "{text}"
    );
    assert!(
        text.contains("pci8086,1e10@1c  00:1c.0 [8086:1e10] class 060400  pcieb (not attached)")
    );
}
