//! The 2018 Levon how-to's SmartOS workflow end to end, from the state before the
//! reservation (examples/levon-2018/before): `reserve --boot-media`, then
//! `check`, `match` and `vm-json --check` see what the next boot binds;
//! without the boot media nothing claims it. Also `reserve
//! --update-archive` on a persistent root, with a stand-in `bootadm`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;
use support::{example_dir, pptctl, snapshot_from};

const GPU: &str = "0000:01:00.0";
const HDA: &str = "0000:01:00.1";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A writable copy of the before-state: (tempdir, host.json, root, usbkey).
fn before() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&example_dir().join("before"), t.path());
    let d = t.path().to_path_buf();
    (t, d.join("host.json"), d.join("root"), d.join("usbkey"))
}

fn run(host: &Path, root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = pptctl()
        .arg("--from")
        .arg(snapshot_from(host))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn next_boot(report: &Value, slot: &str) -> Value {
    report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["slot"] == slot)
        .unwrap_or_else(|| panic!("{slot} not in {report}"))["next_boot"]
        .clone()
}

#[test]
fn reserve_then_check_sees_the_next_boot() {
    let (_t, host, root, usbkey) = before();
    let usb = usbkey.to_str().unwrap();

    // Before: SmartOS root, no boot media: nothing claims the next boot.
    let (code, out, err) = run(&host, &root, &["check", "--json"]);
    // Infrastructure (the host bridge) is left out of a plain check, and an
    // unknown next boot is a warning, not a failure.
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    for slot in [GPU, HDA] {
        assert_eq!(next_boot(&j, slot)["driver"], Value::Null, "{slot}");
    }
    let f = j["functions"].as_array().unwrap();
    assert!(f.iter().any(|f| f["now"]["driver"] == "vgatext"), "{out}");
    assert_eq!(j["config"]["reasons"][0]["code"], "next-boot-unknown");
    let (_, text, _) = run(&host, &root, &["check"]);
    assert!(text.contains("next-boot-unknown"), "{text}");
    assert!(text.contains("give --boot-media DIR"), "{text}");
    assert!(!text.contains("host driver other than ppt"), "{text}");

    // reserve writes the overlay file and the module line.
    let (code, out, err) = run(&host, &root, &["reserve", GPU, "--boot-media", usb, "-y"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("2 function(s) reserved for the next boot"),
        "{out}"
    );

    // check with the boot media: both functions go to ppt, by the overlay.
    let (code, out, err) = run(&host, &root, &["check", "--boot-media", usb, "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    for (slot, line) in [(GPU, 1), (HDA, 2)] {
        let n = next_boot(&j, slot);
        assert_eq!(n["driver"], "ppt", "{slot}: {n}");
        assert_eq!(
            n["by"],
            format!("{usb}/overlay/etc/ppt_aliases:{line}"),
            "{slot}"
        );
        // SmartOS keeps path_to_inst on the ramdisk: no /dev/pptN promised.
        assert_eq!(n["dev"], Value::Null, "{slot}");
    }
    let codes: Vec<&str> = j["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["pending-change", "pending-change"], "{out}");

    // match agrees, and lists both functions after the reboot.
    let (code, out, err) = run(&host, &root, &["--boot-media", usb, "match", "--json"]);
    assert_eq!(code, 0, "{err}");
    let m: Value = serde_json::from_str(&out).unwrap();
    let after = m["after_reboot"].as_array().unwrap();
    assert_eq!(after.len(), 2, "{out}");
    assert!(after.iter().all(|a| a["driver_after"] == "ppt"), "{out}");

    // A VM payload naming both passes vm-json --check with the media.
    let payload = root.parent().unwrap().join("pci.json");
    std::fs::write(
        &payload,
        r#"{"pci_devices":[
            {"path":"/devices/pci@0,0/pci8086,151@1/display@0","pci_slot":"0:8:0"},
            {"path":"/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1","pci_slot":"0:8:1"}]}"#,
    )
    .unwrap();
    let p = payload.to_str().unwrap();
    let (code, out, err) = run(
        &host,
        &root,
        &["vm-json", "--check", p, "--boot-media", usb],
    );
    assert_eq!(code, 0, "{out}{err}");
    // Without it, the SmartOS root promises nothing: not reserved.
    let (code, out, _) = run(&host, &root, &["vm-json", "--check", p]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--boot-media"), "{out}");
}

#[test]
fn boot_media_is_found_at_the_usual_mount_point() {
    let (_t, host, root, usbkey) = before();
    let usb = usbkey.to_str().unwrap();
    let (code, _, err) = run(&host, &root, &["reserve", GPU, "--boot-media", usb, "-y"]);
    assert_eq!(code, 0, "{err}");
    copy_dir(&usbkey, &root.join("mnt/usbkey"));
    let (_, out, err) = run(&host, &root, &["check", "--json"]);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(next_boot(&j, GPU)["driver"], "ppt", "{out}{err}");
    let by = next_boot(&j, GPU)["by"].as_str().unwrap().to_string();
    assert!(by.ends_with("mnt/usbkey/overlay/etc/ppt_aliases:1"), "{by}");
}

#[test]
fn a_module_without_name_replaces_nothing() {
    let (_t, host, root, usbkey) = before();
    std::fs::create_dir_all(usbkey.join("overlay/etc")).unwrap();
    std::fs::write(
        usbkey.join("overlay/etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n",
    )
    .unwrap();
    let menu = usbkey.join("boot/grub/menu.lst");
    let mut text = std::fs::read_to_string(&menu).unwrap();
    text.push_str("    module /overlay/etc/ppt_aliases type=file\n");
    std::fs::write(&menu, &text).unwrap();
    let usb = usbkey.to_str().unwrap();
    let (_, out, _) = run(&host, &root, &["check", "--boot-media", usb, "--json"]);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(next_boot(&j, GPU)["driver"], "vgatext", "{out}");
    assert_eq!(
        next_boot(&j, GPU)["by"],
        "/etc/driver_aliases:8",
        "platform copy decides"
    );
    // With name=, the same file replaces the platform copy.
    text.push_str(
        "    module /overlay/etc/ppt_aliases type=file name=/system/boot/etc/ppt_aliases\n",
    );
    std::fs::write(&menu, &text).unwrap();
    let (_, out, _) = run(&host, &root, &["check", "--boot-media", usb, "--json"]);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(next_boot(&j, GPU)["driver"], "ppt", "{out}");
}

#[cfg(unix)]
#[test]
fn update_archive_runs_bootadm_on_the_root() {
    use std::os::unix::fs::PermissionsExt;
    // A persistent root (no SmartOS release): the files go to /etc.
    let (_t, host, root, _) = before();
    std::fs::remove_file(root.join("etc/release")).unwrap();
    let bin = root.parent().unwrap().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = root.parent().unwrap().join("bootadm.log");
    let script = bin.join("bootadm");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = pptctl()
        .env("PATH", path)
        .arg("--from")
        .arg(snapshot_from(&host))
        .arg("--root")
        .arg(&root)
        .args(["reserve", GPU, "-y", "--update-archive"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("update-archive -R {}\n", root.display())
    );
    assert!(
        !stdout.contains("bootadm update-archive"),
        "already run: {stdout}"
    );
    assert!(root.join("etc/ppt_aliases").is_file());
}

#[test]
fn loader_media_reads_back_what_reserve_wrote() {
    let (_t, host, root, usbkey) = before();
    // The same key, booted by the illumos loader instead of GRUB.
    std::fs::remove_dir_all(usbkey.join("boot/grub")).unwrap();
    std::fs::write(
        usbkey.join("boot/loader.conf"),
        "console=\"text\"\nos_console=\"text\"\n",
    )
    .unwrap();
    let usb = usbkey.to_str().unwrap();
    let (code, _, err) = run(&host, &root, &["reserve", GPU, "--boot-media", usb, "-y"]);
    assert_eq!(code, 0, "{err}");
    assert!(usbkey.join("boot/bootfs/etc/ppt_aliases").is_file());
    let (_, out, err) = run(&host, &root, &["check", "--boot-media", usb, "--json"]);
    let j: Value = serde_json::from_str(&out).unwrap();
    for (slot, line) in [(GPU, 1), (HDA, 2)] {
        let n = next_boot(&j, slot);
        assert_eq!(n["driver"], "ppt", "{slot}: {out}{err}");
        assert_eq!(
            n["by"],
            format!("{usb}/boot/bootfs/etc/ppt_aliases:{line}"),
            "{slot}"
        );
    }
    // unreserve: the stanza goes, and the next boot is the platform's again.
    let (code, _, err) = run(&host, &root, &["unreserve", GPU, "--boot-media", usb, "-y"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = run(&host, &root, &["check", "--boot-media", usb, "--json"]);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(next_boot(&j, GPU)["driver"], "vgatext", "{out}");
}
