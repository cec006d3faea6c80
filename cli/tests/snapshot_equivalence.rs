//! A version 2 snapshot answers as the host it was taken on: for the
//! example host (before and after its reservation, with and without boot
//! media) and for the real OmniOS cache with hand-made configuration,
//! `--from snapshot:S` gives `list -a`, `match --json` and `check --json`
//! byte for byte as the original `--root`/`--boot-media` invocation,
//! from a working directory where no relative path of the original
//! resolves, so nothing is read from the original tree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

mod support;
use support::{example_dir, omnios_cache, omnios_dir, pptctl, snapshot_from};

const QUERIES: [&[&str]; 3] = [&["list", "-a"], &["match", "--json"], &["check", "--json"]];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else if e.file_type().unwrap().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// (exit code, stdout) of `pptctl GLOBAL… ARGS…` run in `cwd`.
fn run(cwd: &Path, global: &[String], args: &[&str]) -> (Option<i32>, String) {
    let o = pptctl()
        .current_dir(cwd)
        .args(global)
        .args(args)
        .output()
        .unwrap();
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
}

/// Takes a snapshot with `global` in `cwd`, then checks every query
/// replays identically from an empty directory.
fn assert_equivalent(cwd: &Path, global: &[String]) -> serde_json::Value {
    let out = pptctl()
        .current_dir(cwd)
        .args(global)
        .arg("snapshot")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let snap = elsewhere.path().join("s.json");
    std::fs::write(&snap, &out.stdout).unwrap();
    let replay = vec!["--from".to_string(), snapshot_from(&snap)];
    for q in QUERIES {
        let want = run(cwd, global, q);
        let got = run(elsewhere.path(), &replay, q);
        assert_eq!(got, want, "{q:?} with {global:?}");
        assert!(
            q[0] == "list" || !want.1.is_empty(),
            "{q:?} printed nothing"
        );
    }
    serde_json::from_slice(&out.stdout).unwrap()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn example_host_before_and_after_reservation() {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&example_dir().join("before"), t.path());
    let d = t.path();
    let base = strings(&["--from", "snapshot:host.json", "--root", "root"]);
    // SmartOS without boot media: next boot unknown, replayed as unknown.
    let s = assert_equivalent(d, &base);
    assert_eq!(s["format"], "pptctl-snapshot/2");
    assert_eq!(s["host"]["smartos"], true);
    assert_eq!(s["boot_media"], serde_json::Value::Null);
    // Reserved on the USB key, asked with --boot-media.
    let o = pptctl()
        .current_dir(d)
        .args(&base)
        .args(["reserve", "01:00.0", "--boot-media", "usbkey", "-y"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut with_media = base.clone();
    with_media.extend(strings(&["--boot-media", "usbkey"]));
    let s = assert_equivalent(d, &with_media);
    assert_eq!(s["boot_media"]["style"], "grub");
    let files: Vec<&str> = s["config_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["origin"] == "boot-media")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["/boot/grub/menu.lst", "/overlay/etc/ppt_aliases"]);

    // The example's after-state (links and /etc files under root/).
    let ex = example_dir();
    let after = vec![
        "--from".to_string(),
        snapshot_from(&ex.join("host.json")),
        "--root".to_string(),
        ex.join("root").display().to_string(),
    ];
    assert_equivalent(d, &after);
}

/// The OmniOS machine's real driver_aliases and path_to_inst with
/// hand-made ppt configuration: a path alias to the e1000g node, an id
/// alias for the Realtek pair, and ppt_matches rules by vendor and path.
fn omnios_root(dir: &Path) -> PathBuf {
    let d = omnios_dir();
    let etc = dir.join("root/etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::copy(d.join("driver_aliases"), etc.join("driver_aliases")).unwrap();
    std::fs::copy(d.join("path_to_inst"), etc.join("path_to_inst")).unwrap();
    std::fs::write(
        etc.join("ppt_aliases"),
        "ppt \"/pci@0,0/pci1028,52c@19\"\nppt \"pciex10ec,8168\"\n",
    )
    .unwrap();
    std::fs::write(
        etc.join("ppt_matches"),
        "pci8086\n/pci@0,0/pci1028,577@16\npciex10ec,8168\n",
    )
    .unwrap();
    std::fs::write(etc.join("release"), "  OmniOS v11 r151046\n").unwrap();
    dir.join("root")
}

#[test]
fn real_omnios_cache_with_hand_made_configuration() {
    let Some(cache) = omnios_cache() else { return };
    let t = tempfile::tempdir().unwrap();
    let root = omnios_root(t.path());
    let global = vec![
        "--from".to_string(),
        format!("devinfo:{}", cache.display()),
        "--root".to_string(),
        root.display().to_string(),
    ];
    let s = assert_equivalent(t.path(), &global);
    assert_eq!(s["host"]["smartos"], false);
    assert!(s["functions"].as_array().unwrap().len() > 10);
    // The replayed match names the e1000g node's path alias as the hand-made
    // file has it.
    let (_, m) = run(t.path(), &global, &["match", "--json"]);
    assert!(m.contains("\"driver_after\": \"ppt\""), "{m}");
    assert!(m.contains("/pci@0,0/pci1028,52c@19"), "{m}");
}

#[test]
fn replay_ignores_this_machines_files() {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&example_dir().join("before"), t.path());
    let d = t.path();
    let global = strings(&["--from", "snapshot:host.json", "--root", "root"]);
    let out = pptctl()
        .current_dir(d)
        .args(&global)
        .arg("snapshot")
        .output()
        .unwrap();
    std::fs::write(d.join("s.json"), &out.stdout).unwrap();
    // A root with a ppt_aliases that would bind the GPU: the replay keeps
    // the snapshot's (unknown) next boot.
    std::fs::create_dir_all(d.join("other/etc")).unwrap();
    std::fs::write(
        d.join("other/etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n",
    )
    .unwrap();
    let (_, a) = run(d, &global, &["check", "--json"]);
    let (_, b) = run(
        d,
        &strings(&["--from", "snapshot:s.json", "--root", "other"]),
        &["check", "--json"],
    );
    assert_eq!(a, b);
}
