//! `pptctl reserve` / `unreserve` / `vm-json` end to end: the 2018 Levon how-to's USB key (menu.lst with one SmartOS entry, no overlay
//! files) and the how-to's host (examples/levon-2018/host.json).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod support;
use support::example_from;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn seed_data() -> PathBuf {
    repo().join("ppt-config/tests/data")
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// `pptctl --from snapshot:` the how-to's host (examples/levon-2018).
fn pptctl() -> Command {
    let mut c = support::pptctl();
    c.arg("--from").arg(example_from());
    c
}

fn read(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}

/// Every file under `dir` with its bytes, to prove a dry run wrote nothing.
fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// `reserve --dry-run` on the seed key: the diff, nothing written.
fn dry_run_shows_the_diff_and_writes_nothing(key: &Path, k: &str) {
    let before = listing(key);

    // --dry-run: the diff, nothing written.
    let out = pptctl()
        .args([
            "reserve",
            "01:00.0",
            "--matches",
            "--boot-media",
            k,
            "--dry-run",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let diff = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        diff.contains(&format!("--- /dev/null\n+++ {k}/overlay/etc/ppt_aliases\n")),
        "{diff}"
    );
    assert!(diff.contains("+ppt \"/pci@0,0/pci8086,151@1/display@0\"\n+ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n"), "{diff}");
    assert!(diff.contains("+pciex10de,a65\n+pciex10de,be3\n"), "{diff}");
    assert!(
        diff.contains(&format!(
            "--- {k}/boot/grub/menu.lst\n+++ {k}/boot/grub/menu.lst\n"
        )),
        "{diff}"
    );
    assert!(diff.contains("+    module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases\n+    module /overlay/etc/ppt_matches type=file name=etc/ppt_matches\n"), "{diff}");
    assert!(stderr.contains("also reserving 0000:01:00.1"), "{stderr}");
    assert!(stderr.contains("dry run: nothing was written"), "{stderr}");
    assert_eq!(listing(key), before, "dry run changed files");
}

#[test]
fn reserve_dry_run_apply_again_and_unreserve_on_the_seed_usb_key() {
    let key = tempfile::tempdir().unwrap();
    copy_tree(&seed_data().join("seed-usbkey"), key.path());
    let k = key.path().display().to_string();
    dry_run_shows_the_diff_and_writes_nothing(key.path(), &k);

    // For real (not a terminal, so no question).
    let out = pptctl()
        .args([
            "reserve",
            "01:00.0",
            "--matches",
            "--boot-media",
            &k,
            "--yes",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Reboot."), "{text}");
    assert!(text.contains("\"pci_slot\": \"0:8:1\""), "{text}");
    let want = seed_data().join("seed-usbkey-reserved");
    for f in [
        "overlay/etc/ppt_aliases",
        "overlay/etc/ppt_matches",
        "boot/grub/menu.lst",
    ] {
        assert_eq!(read(&key.path().join(f)), read(&want.join(f)), "{f}");
    }

    // Idempotent.
    let after = listing(key.path());
    pptctl()
        .args(["reserve", "01:00.0", "--matches", "--boot-media", &k])
        .assert()
        .success()
        .stdout(predicates::str::contains("Nothing to change"));
    assert_eq!(listing(key.path()), after);

    // Unreserve restores the original bytes.
    pptctl()
        .args([
            "unreserve",
            "/dev/ppt0",
            "--matches",
            "--boot-media",
            &k,
            "--yes",
        ])
        .assert()
        .success();
    assert_eq!(
        read(&key.path().join("boot/grub/menu.lst")),
        read(&seed_data().join("seed-usbkey/boot/grub/menu.lst"))
    );
    assert!(!key.path().join("overlay/etc/ppt_aliases").exists());
    assert!(!key.path().join("overlay/etc/ppt_matches").exists());
}

#[test]
fn persistent_root_prints_host_paths_and_unreserves_a_stale_alias() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let r = root.path().display().to_string();
    let out = pptctl()
        .args([
            "--root",
            &r,
            "reserve",
            "10de:0be3",
            "--single-function",
            "--yes",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("+++ /etc/ppt_aliases\n"), "{text}");
    assert!(text.contains("/etc/ppt_aliases: created"), "{text}");
    // The exact command to run names the root (-R ROOT); nothing else
    // prints a --root path: files are named by their host paths.
    assert!(
        text.contains(&format!("bootadm update-archive -R {r}")),
        "{text}"
    );
    assert!(
        text.lines()
            .filter(|l| !l.contains("bootadm update-archive -R"))
            .all(|l| !l.contains(&r)),
        "printed a --root path: {text}"
    );
    assert_eq!(
        std::fs::read_to_string(root.path().join("etc/ppt_aliases")).unwrap(),
        "ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n"
    );

    // A stale alias (the card moved) can be unreserved by its path alone.
    let aliases = root.path().join("etc/ppt_aliases");
    let mut text = std::fs::read_to_string(&aliases).unwrap();
    text.push_str("ppt \"/pci@0,0/pci8086,155@3/display@0\"\n");
    std::fs::write(&aliases, &text).unwrap();
    pptctl()
        .args([
            "--root",
            &r,
            "reserve",
            "/pci@0,0/pci8086,155@3/display@0",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("matches no PCI function"));
    pptctl()
        .args([
            "--root",
            &r,
            "unreserve",
            "/devices/pci@0,0/pci8086,155@3/display@0:ppt",
            "--yes",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains("not a device on this host"));
    assert_eq!(
        std::fs::read_to_string(&aliases).unwrap(),
        "ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n"
    );
}

#[test]
fn persistent_root_refuses_bridges_and_smartos_without_media() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let r = root.path().display().to_string();
    let out = pptctl()
        .args(["--root", &r, "reserve", "00:01.0", "--yes"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("refusing to reserve without --force"), "{err}");
    assert!(err.contains("0000:00:01.0 is a PCI-to-PCI bridge"), "{err}");

    // SmartOS root without --boot-media is refused: /etc is a ramdisk.
    std::fs::write(
        root.path().join("etc/release"),
        "                       SmartOS 20181023T131405Z x86_64\n",
    )
    .unwrap();
    pptctl()
        .args(["--root", &r, "reserve", "01:00.0", "--yes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--boot-media"));
}

#[test]
fn vm_json_prints_and_checks_the_seed_card() {
    // The example's root holds the ppt_aliases that keep the card on ppt.
    let pptctl = || support::pptctl_at(support::example_dir().join("root"), example_from());
    let out = pptctl()
        .args(["vm-json", "01:00.0"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = serde_json::json!([
        {"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"},
        {"path": "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1", "pci_slot": "0:8:1"}
    ]);
    assert_eq!(v, serde_json::json!({ "pci_devices": entries }));

    // The output is checked as it is: `vm-json > f; vm-json --check f`.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, &out.stdout).unwrap();
    pptctl()
        .args(["vm-json", "--check"])
        .arg(&good)
        .assert()
        .success()
        .stdout(predicates::str::contains("valid"));
    // --update: the payload `vmadm update` takes, accepted as well.
    let out = pptctl()
        .args(["vm-json", "--update", "01:00.0"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({ "add_pci_devices": entries }));
    let update = dir.path().join("update.json");
    std::fs::write(&update, &out.stdout).unwrap();
    pptctl()
        .args(["vm-json", "--check"])
        .arg(&update)
        .assert()
        .success();
}

#[test]
fn vm_json_check_names_where_each_problem_is() {
    let pptctl = || support::pptctl_at(support::example_dir().join("root"), example_from());
    let dir = tempfile::tempdir().unwrap();
    for (broken, location) in [
        (
            r#"{"pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"}, {"path": "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1", "pci_slot": "4:0:8"}]}"#,
            "pci_devices.1.pci_slot",
        ),
        (
            r#"{"pci_devices": [{"path": "/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"}]}"#,
            "pci_devices.0.path",
        ),
        (
            r#"{"pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/pci1462,2291", "pci_slot": "0:8:1"}]}"#,
            "pci_devices.0.path",
        ),
        (
            r#"{"pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:30:0"}]}"#,
            "pci_devices.0.pci_slot",
        ),
        (
            r#"{"pci_devices": [], "add_pci_devices": []}"#,
            "add_pci_devices",
        ),
        (
            r#"{"pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0:devctl", "pci_slot": "0:8:0"}]}"#,
            "pci_devices.0.path",
        ),
        (
            r#"{"pci_devices": [{"path": "/devicesX/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"}]}"#,
            "pci_devices.0.path",
        ),
    ] {
        let f = dir.path().join("broken.json");
        std::fs::write(&f, broken).unwrap();
        let out = pptctl()
            .args(["vm-json", "--check"])
            .arg(&f)
            .assert()
            .code(1)
            .get_output()
            .clone();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(&format!("error: {location}: ")),
            "{broken}\n{text}"
        );
    }
}

#[test]
fn vm_json_check_json_and_unreadable_payloads() {
    let pptctl = || support::pptctl_at(support::example_dir().join("root"), example_from());
    let dir = tempfile::tempdir().unwrap();
    // --json: machine-readable problems with their locations.
    let f = dir.path().join("json.json");
    std::fs::write(&f, r#"{"pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0x8"}]}"#).unwrap();
    let out = pptctl()
        .args(["vm-json", "--json", "--check"])
        .arg(&f)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["problems"][0]["location"], "pci_devices.0.pci_slot");
    assert_eq!(doc["problems"][0]["severity"], "error");
    assert_eq!(doc["problems"][0]["vmadm"], true);
    assert!(doc["problems"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("pci_slot \"0x8\" is not valid"));

    let f = dir.path().join("bad.json");
    std::fs::write(&f, "{\"pci_devices\": [").unwrap();
    pptctl()
        .args(["vm-json", "--check"])
        .arg(&f)
        .assert()
        .code(2);
    pptctl()
        .args(["vm-json", "--check"])
        .arg(dir.path().join("absent.json"))
        .assert()
        .code(2);
}

#[test]
fn boot_style_detection_and_symlinks_leaving_the_media() {
    // Both loaders present: the user must say which.
    let key = tempfile::tempdir().unwrap();
    copy_tree(&seed_data().join("seed-usbkey"), key.path());
    std::fs::write(key.path().join("boot/loader.conf"), "").unwrap();
    let k = key.path().display().to_string();
    pptctl()
        .args(["reserve", "01:00.0", "--boot-media", &k, "--yes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--boot-style"));
    // Forced loader: bootfs files and a loader.conf.local stanza; menu.lst untouched.
    let menu = read(&key.path().join("boot/grub/menu.lst"));
    pptctl()
        .args([
            "reserve",
            "01:00.0",
            "--boot-media",
            &k,
            "--boot-style",
            "loader",
        ])
        .assert()
        .success();
    assert_eq!(read(&key.path().join("boot/grub/menu.lst")), menu);
    let conf = std::fs::read_to_string(key.path().join("boot/loader.conf.local")).unwrap();
    assert!(
        conf.contains("ppt_aliases_flags=\"name=/etc/ppt_aliases\"\n"),
        "{conf}"
    );
    assert!(key.path().join("boot/bootfs/etc/ppt_aliases").is_file());

    // An overlay directory that is a link out of the boot media is refused.
    let key = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    copy_tree(&seed_data().join("seed-usbkey"), key.path());
    std::os::unix::fs::symlink(elsewhere.path(), key.path().join("overlay")).unwrap();
    let k = key.path().display().to_string();
    pptctl()
        .args(["reserve", "01:00.0", "--boot-media", &k, "--yes"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("symbolic link that leaves"));
    assert!(std::fs::read_dir(elsewhere.path())
        .unwrap()
        .next()
        .is_none());
    assert_eq!(
        read(&key.path().join("boot/grub/menu.lst")),
        read(&seed_data().join("seed-usbkey/boot/grub/menu.lst"))
    );
}

/// "Already reserved" is the session's next-boot answer: on a copy of the
/// how-to's root whose aliases are in place but whose `name_to_major` no
/// longer lists `ppt` (the driver was removed), the kernel skips the
/// aliases, so `reserve` may not answer "already reserved": it says that
/// writing nothing reserves nothing, with what binds each function, and
/// fails. With `ppt` listed, the same files are already reserved.
#[test]
fn reserve_is_not_already_done_when_the_next_boot_leaves_the_card() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("examples/levon-2018/root"), root.path());
    let r = root.path().display().to_string();
    let out = pptctl()
        .args(["--root", &r, "reserve", "--dry-run", "01:00.0"])
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("every function is already reserved"),
        "{text}"
    );

    let n2m = root.path().join("etc/name_to_major");
    let kept: String = std::fs::read_to_string(&n2m)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("ppt "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&n2m, kept).unwrap();
    let out = pptctl()
        .args(["--root", &r, "reserve", "--dry-run", "01:00.0"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!text.contains("already reserved"), "{text}");
    assert!(
        err.contains(
            "nothing to change in the files, yet the next boot will not put these functions on ppt"
        ),
        "{err}"
    );
    assert!(
        err.contains("0000:01:00.0 (/pci@0,0/pci8086,151@1/display@0): after the next boot, \"pciexclass,030000\" in /etc/driver_aliases line 8"),
        "{err}"
    );
}

/// A FIFO where `reserve` must read `ppt_aliases` (the persistent root's
/// `/etc`, or the boot media's overlay file its module loads) is
/// unreadable input: exit 2 like every other such refusal, named, never a
/// blocked read, nothing written.
#[test]
fn a_fifo_as_ppt_aliases_is_unreadable_input() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("examples/levon-2018/root"), root.path());
    let aliases = root.path().join("etc/ppt_aliases");
    std::fs::remove_file(&aliases).unwrap();
    mkfifo(&aliases);
    let r = root.path().display().to_string();
    pptctl()
        .args(["--root", &r, "reserve", "--yes", "01:00.0"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("FIFO"));

    let key = tempfile::tempdir().unwrap();
    copy_tree(&seed_data().join("seed-usbkey-reserved"), key.path());
    let overlay = key.path().join("overlay/etc/ppt_aliases");
    std::fs::remove_file(&overlay).unwrap();
    mkfifo(&overlay);
    let k = key.path().display().to_string();
    let menu = key.path().join("boot/grub/menu.lst");
    let before = read(&menu);
    pptctl()
        .args([
            "--root",
            &r,
            "--boot-media",
            &k,
            "reserve",
            "--yes",
            "01:00.0",
        ])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("FIFO"));
    assert_eq!(read(&menu), before);
    assert!(!key.path().join(".pptctl-backup").exists());
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}
