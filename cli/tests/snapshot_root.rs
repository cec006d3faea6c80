//! `--root` (and `--boot-media`) with a version 2 snapshot: a read command
//! answers from the configuration the snapshot recorded and says once on
//! stderr that the files under `--root` are not read; `reserve`, which
//! writes under `--root`, takes only the devices from the snapshot and
//! reads the configuration where it writes, and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod support;
use support::{example_dir, example_from, pptctl, pptctl_at, snapshot_from};

/// A version 2 snapshot of the how-to's host and root (both functions
/// reserved), written to `dir`.
fn v2_snapshot(dir: &Path) -> String {
    let out = pptctl_at(example_dir().join("root"), example_from())
        .arg("snapshot")
        .output()
        .unwrap();
    assert!(out.status.success());
    let file = dir.join("host-v2.json");
    std::fs::write(&file, out.stdout).unwrap();
    snapshot_from(&file)
}

/// A root with the how-to's driver files and no ppt_aliases.
fn bare_root(dir: &Path) -> std::path::PathBuf {
    let etc = dir.join("root/etc");
    std::fs::create_dir_all(&etc).unwrap();
    for f in ["driver_aliases", "name_to_major"] {
        std::fs::copy(example_dir().join("root/etc").join(f), etc.join(f)).unwrap();
    }
    dir.join("root")
}

#[test]
fn a_read_command_says_once_that_root_is_not_read() {
    let d = tempfile::tempdir().unwrap();
    let from = v2_snapshot(d.path());
    let root = bare_root(d.path());
    let out = pptctl_at(&root, &from).arg("match").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    // The snapshot's reservation, not the bare root's.
    assert!(
        text.contains("binds /pci@0,0/pci8086,151@1/display@0"),
        "{text}"
    );
    assert_eq!(err.matches("is a version 2 snapshot").count(), 1, "{err}");
    assert!(err.contains("not the files under --root "), "{err}");
    // Without --root nothing is said.
    let out = pptctl().args(["--from", &from, "match"]).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("version 2 snapshot"), "{err}");
}

#[test]
fn reserve_reads_the_configuration_where_it_writes() {
    let d = tempfile::tempdir().unwrap();
    let from = v2_snapshot(d.path());
    let root = bare_root(d.path());
    let out = pptctl_at(&root, &from)
        .args(["reserve", "--dry-run", "01:00.0"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    // The snapshot recorded both aliases; the root being edited has none,
    // so they are added, not "already reserved".
    assert!(!text.contains("already reserved"), "{text}");
    assert!(
        text.contains("+ppt \"/pci@0,0/pci8086,151@1/display@0\""),
        "{text}"
    );
    assert!(
        err.contains(
            "its devices are used, but the configuration is read where pptctl writes (--root "
        ),
        "{err}"
    );
}
