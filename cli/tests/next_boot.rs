//! What the next boot reads, on boot media and roots shaped like the real
//! systems (docs/next-boot.md): a SmartOS USB key with GRUB and with the
//! loader (loader.conf, loader.conf.local, conf.d, transient.conf), an
//! OmniOS root with and without the archive file-list entry, path-named
//! modules, an empty `name=`, untyped modules and `-B disable-ppt=true`.
//! For each, `match`, `check --json`, `reserve --dry-run`, `vm-json
//! --check` and `snapshot` → `--from snapshot:` must agree.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;
use support::{example_dir, pptctl, snapshot_from};

const GPU: &str = "0000:01:00.0";
const GPU_PATH: &str = "/pci@0,0/pci8086,151@1/display@0";
const ALIASES: &str =
    "ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n";
const KERNEL: &str =
    "    kernel$ /os/20181023T131405Z/platform/i86pc/kernel/amd64/unix -B smartos=true";
const ARCHIVE: &str = "    module /os/20181023T131405Z/platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk\n    module /20181023T131405Z/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk\n";

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

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The example host before the reservation: (tempdir, host.json, root,
/// media dir). The media starts empty; each case writes its own.
fn host() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    copy_dir(&example_dir().join("before"), t.path());
    let d = t.path().to_path_buf();
    let media = d.join("media");
    std::fs::create_dir_all(&media).unwrap();
    (t, d.join("host.json"), d.join("root"), media)
}

fn run(from: &str, root: &Path, media: Option<&Path>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = pptctl();
    cmd.arg("--from").arg(from).arg("--root").arg(root);
    if let Some(m) = media {
        cmd.arg("--boot-media").arg(m);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn gpu_next_boot(check_json: &str) -> Value {
    let j: Value = serde_json::from_str(check_json).unwrap();
    j["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["slot"] == GPU)
        .unwrap()["next_boot"]
        .clone()
}

/// Runs every command on one fixture and checks they agree: the GPU goes
/// to `driver` at the next boot, decided by a file ending in `by`.
fn agree(host: &Path, root: &Path, media: Option<&Path>, driver: &str, by: &str) -> String {
    let from = snapshot_from(host);
    let (_, check, err) = run(&from, root, media, &["check", "--json", GPU]);
    let nb = gpu_next_boot(&check);
    assert_eq!(nb["driver"], driver, "{check}{err}");
    let got_by = nb["by"].as_str().unwrap_or_default().to_string();
    assert!(got_by.ends_with(by), "by {got_by}, want …{by}");

    let (_, text, _) = run(&from, root, media, &["match"]);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(GPU_PATH))
        .map(str::to_string);
    if driver == "ppt" {
        let l = line.unwrap_or_else(|| panic!("match shows no change for the GPU:\n{text}"));
        assert!(l.contains("-> ppt") && l.contains(by), "{l}");
    } else {
        assert!(line.is_none_or(|l| !l.contains("-> ppt")), "{text}");
    }

    let payload = root.parent().unwrap().join("vm.json");
    let json = format!(
        "{{\"pci_devices\": [{{\"path\": \"/devices{GPU_PATH}\", \"pci_slot\": \"0:8:0\"}}, {{\"path\": \"/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1\", \"pci_slot\": \"0:8:1\"}}]}}"
    );
    std::fs::write(&payload, json).unwrap();
    let (code, out, err) = run(
        &from,
        root,
        media,
        &["vm-json", "--check", payload.to_str().unwrap()],
    );
    assert_eq!(code == 0, driver == "ppt", "vm-json --check: {out}{err}");

    // The snapshot replays the same answer with nothing read from here.
    let (code, snap, err) = run(&from, root, media, &["snapshot"]);
    assert_eq!(code, 0, "{err}");
    let file = root.parent().unwrap().join("snap.json");
    std::fs::write(&file, snap).unwrap();
    let replay = format!("snapshot:{}", file.display());
    let elsewhere = root.parent().unwrap().join("nowhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (_, again, _) = run(&replay, &elsewhere, None, &["check", "--json", GPU]);
    assert_eq!(gpu_next_boot(&again), nb, "replayed:\n{again}");
    check
}

fn grub(media: &Path, modules: &str) {
    write(
        media,
        "boot/grub/menu.lst",
        &format!("default 0\ntimeout 5\ntitle SmartOS\n{KERNEL}\n{ARCHIVE}{modules}"),
    );
}

#[test]
fn grub_path_named_module_replaces_the_file() {
    let (_t, host, root, media) = host();
    write(&media, "etc/ppt_aliases", ALIASES);
    grub(&media, "    module /etc/ppt_aliases type=file\n");
    agree(&host, &root, Some(&media), "ppt", "media/etc/ppt_aliases:1");
    // reserve edits that file: no module line that would shadow it.
    let (code, diff, err) = run(
        &snapshot_from(&host),
        &root,
        Some(&media),
        &[
            "reserve",
            "--dry-run",
            "--by-id",
            "--force",
            "--single-function",
            "00:01.0",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        diff.contains("+++ ") && diff.contains("media/etc/ppt_aliases"),
        "{diff}"
    );
    assert!(!diff.contains("menu.lst"), "{diff}");
    assert!(err.contains("editing that file instead"), "{err}");
}

#[test]
fn grub_empty_name_and_untyped_modules_replace_nothing() {
    let (_t, host, root, media) = host();
    write(&media, "overlay/etc/ppt_aliases", ALIASES);
    // An empty name= is ignored: the module is named by its path.
    grub(
        &media,
        "    module /overlay/etc/ppt_aliases type=file name=\n",
    );
    agree(
        &host,
        &root,
        Some(&media),
        "vgatext",
        "/etc/driver_aliases:8",
    );
    // Two untyped modules are the legacy root filesystem and its hash.
    write(&media, "etc/ppt_aliases", ALIASES);
    write(
        &media,
        "boot/grub/menu.lst",
        &format!("title SmartOS\n{KERNEL}\n    module /platform/i86pc/amd64/boot_archive\n    module /etc/ppt_aliases\n"),
    );
    agree(
        &host,
        &root,
        Some(&media),
        "vgatext",
        "/etc/driver_aliases:8",
    );
}

#[test]
fn grub_boot_option_disables_ppt() {
    let (_t, host, root, media) = host();
    write(&media, "overlay/etc/ppt_aliases", ALIASES);
    write(
        &media,
        "boot/grub/menu.lst",
        &format!("title SmartOS\n{KERNEL},disable-ppt=true\n{ARCHIVE}    module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases\n"),
    );
    let check = agree(
        &host,
        &root,
        Some(&media),
        "vgatext",
        "/etc/driver_aliases:8",
    );
    assert!(check.contains("driver-disabled"), "{check}");
    assert!(check.contains("media/boot/grub/menu.lst:2"), "{check}");
}

#[test]
fn loader_conf_d_transient_and_prefix_named_stanzas() {
    let (_t, host, root, media) = host();
    write(
        &media,
        "boot/loader.conf",
        "kernel=\"i86pc/kernel/amd64\"\nsmartos=\"true\"\n",
    );
    write(&media, "boot/loader.conf.local", "# nothing here\n");
    write(&media, "boot/bootfs/etc/ppt_aliases", ALIASES);
    write(
        &media,
        "boot/conf.d/ppt",
        "ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n",
    );
    agree(
        &host,
        &root,
        Some(&media),
        "ppt",
        "boot/bootfs/etc/ppt_aliases:1",
    );
    // transient.conf, read last, disables ppt for the next boot.
    write(&media, "boot/transient.conf", "disable-ppt=\"true\"\n");
    agree(
        &host,
        &root,
        Some(&media),
        "vgatext",
        "/etc/driver_aliases:8",
    );
    std::fs::remove_file(media.join("boot/transient.conf")).unwrap();
    // A stanza without _name loads the file named after its prefix, found
    // on module_path.
    std::fs::remove_file(media.join("boot/conf.d/ppt")).unwrap();
    write(&media, "platform/i86pc/amd64/ppt_aliases", ALIASES);
    write(
        &media,
        "boot/loader.conf.local",
        "ppt_aliases_load=\"YES\"\nppt_aliases_type=\"file\"\nppt_aliases_flags=\"name=etc/ppt_aliases\"\n",
    );
    agree(
        &host,
        &root,
        Some(&media),
        "ppt",
        "platform/i86pc/amd64/ppt_aliases:1",
    );
}

#[test]
fn loader_module_on_a_missing_file_is_unknown() {
    let (_t, host, root, media) = host();
    write(&media, "boot/loader.conf", "smartos=\"true\"\n");
    write(
        &media,
        "boot/loader.conf.local",
        "ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n",
    );
    let (_, check, _) = run(
        &snapshot_from(&host),
        &root,
        Some(&media),
        &["check", "--json", GPU],
    );
    assert_eq!(gpu_next_boot(&check)["driver"], Value::Null, "{check}");
    assert!(check.contains("next-boot-unknown"), "{check}");
    assert!(check.contains("boot/loader.conf.local:3"), "{check}");
}

/// The example host on a persistent (OmniOS-like) root: no SmartOS
/// release, the gate's file list without etc/ppt_aliases.
fn omnios(root: &Path) {
    std::fs::remove_file(root.join("etc/release")).unwrap();
    write(root, "etc/ppt_aliases", ALIASES);
    write(
        root,
        "boot/solaris/filelist.ramdisk",
        "etc/cluster/nodeid\netc/dacf.conf\netc/driver_aliases\netc/driver_classes\netc/name_to_major\netc/path_to_inst\netc/system\nkernel\nplatform\n",
    );
}

#[test]
fn omnios_root_without_the_file_list_entry_reads_no_aliases() {
    let (_t, host, root, _) = host();
    omnios(&root);
    let check = agree(&host, &root, None, "vgatext", "/etc/driver_aliases:8");
    assert!(check.contains("archive-omits"), "{check}");
    let (code, text, _) = run(&snapshot_from(&host), &root, None, &["match"]);
    assert_eq!(code, 1);
    assert!(text.contains("fail[archive-omits]"), "{text}");
    // reserve adds the entry to the local list, in the diff.
    std::fs::remove_file(root.join("etc/ppt_aliases")).unwrap();
    let (code, diff, err) = run(
        &snapshot_from(&host),
        &root,
        None,
        &["reserve", "--dry-run", "01:00.0"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        diff.contains("+++ /etc/boot/solaris/filelist.ramdisk\n+etc/ppt_aliases")
            || diff.contains("+etc/ppt_aliases"),
        "{diff}"
    );
    // Listed locally: the next boot reads it.
    write(&root, "etc/ppt_aliases", ALIASES);
    write(
        &root,
        "etc/boot/solaris/filelist.ramdisk",
        "etc/ppt_aliases\n",
    );
    let check = agree(&host, &root, None, "ppt", "/etc/ppt_aliases:1");
    assert!(!check.contains("archive-omits"), "{check}");
}

#[test]
fn unreserve_edits_the_users_module_and_reserve_refuses_a_broken_one() {
    let (_t, host, root, media) = host();
    write(&media, "etc/ppt_aliases", ALIASES);
    grub(&media, "    module /etc/ppt_aliases type=file\n");
    let from = snapshot_from(&host);
    let (code, diff, err) = run(
        &from,
        &root,
        Some(&media),
        &["unreserve", "--dry-run", "01:00.0"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        diff.contains("-ppt \"/pci@0,0/pci8086,151@1/display@0\""),
        "{diff}"
    );
    assert!(diff.contains("media/etc/ppt_aliases"), "{diff}");
    assert!(!diff.contains("menu.lst"), "{diff}");

    // The user's module names a file that is not there: refuse, naming it.
    std::fs::remove_file(media.join("etc/ppt_aliases")).unwrap();
    let (code, _, err) = run(
        &from,
        &root,
        Some(&media),
        &["reserve", "--dry-run", "01:00.0"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("boot/grub/menu.lst:7"), "{err}");
    assert!(err.contains("does not exist on the boot media"), "{err}");
}

#[test]
fn conflicting_boot_options_make_the_next_boot_unknown() {
    let (_t, host, root, media) = host();
    write(&media, "overlay/etc/ppt_aliases", ALIASES);
    write(
        &media,
        "boot/grub/menu.lst",
        &format!("title SmartOS\n{KERNEL},disable-ppt=true -B disable-ppt=false\n{ARCHIVE}    module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases\n"),
    );
    let (_, check, _) = run(
        &snapshot_from(&host),
        &root,
        Some(&media),
        &["check", "--json", GPU],
    );
    assert_eq!(gpu_next_boot(&check)["driver"], Value::Null, "{check}");
    assert!(check.contains("next-boot-unknown"), "{check}");
    assert!(check.contains("set disable-ppt differently"), "{check}");
    assert!(check.contains("media/boot/grub/menu.lst:2"), "{check}");
}
