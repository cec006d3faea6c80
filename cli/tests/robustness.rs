//! Every subcommand against hostile files: truncated,
//! empty, binary, huge (a sparse 1 GiB file), CRLF, non-UTF-8, unreadable,
//! a directory where a file belongs, symlink loops under `--root`, `..` in
//! selectors and paths, dangling `/dev/pptN`.
//!
//! Rules checked on every run: the process exits by itself within the time
//! bound with 0, 1 or 2 — never 101 (a panic) nor a signal; nothing says
//! "panicked"; a run whose exit code differs from the same command on the
//! clean fixture names the file it could not use; and with a huge file the
//! peak RSS of the child (from `/usr/bin/time -f %M`, skipped when absent)
//! stays far below the file size, so nothing was read whole.
//!
//! Unreadable files: the tests run as root, and root is not denied by mode
//! 000 (CAP_DAC_OVERRIDE). The mode-000 case is tried and reported as
//! skipped when it does not deny; EISDIR (a directory where the file goes)
//! and ELOOP (a symlink loop) stand in for "cannot read".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "robustness/harness.rs"]
mod harness;

use std::os::unix::fs::symlink;
use std::path::Path;

use harness::*;
#[test]
fn hostile_snapshot_source() {
    source_case("snapshot", "host.json", None);
}

#[test]
fn hostile_dump_source() {
    source_case("dump", "host.txt", None);
}

#[test]
fn hostile_devinfo_source() {
    let cache = realdata().join("BartVanLooveren+omniosEindwerk/devices/snapshot_cache");
    if !cache.is_file() {
        eprintln!("skip: {} is absent", cache.display());
        return;
    }
    source_case("devinfo", "snapshot_cache", Some(&cache));
}

/// Each file under `--root` made hostile in turn, under every subcommand
/// that reads the root.
#[test]
fn hostile_root_files() {
    let files = [
        "etc/ppt_matches",
        "system/boot/etc/ppt_matches",
        "etc/ppt_aliases",
        "system/boot/etc/ppt_aliases",
        "etc/driver_aliases",
        "etc/path_to_inst",
        "etc/name_to_major",
        "etc/release",
    ];
    let t = fixture();
    let clean: Vec<Outcome> = COMMANDS
        .iter()
        .map(|c| run(t.path(), &with_from("snapshot:host.json", "root", c)))
        .collect();
    for (n, file) in files.iter().enumerate() {
        for how in ALL {
            let case = n * ALL.len() + how as usize;
            let t = fixture();
            let path = t.path().join("root").join(file);
            if !make(&path, how) {
                eprintln!("skip {file} {how:?}: mode 000 does not deny root here");
                continue;
            }
            let name = Path::new(file).file_name().unwrap().to_str().unwrap();
            for (i, (c, base)) in COMMANDS.iter().zip(&clean).enumerate() {
                // show and snapshot read nothing under --root but /dev.
                let rooted = !matches!(c[0], "show" | "snapshot" | "bench");
                if !full() && (!rooted || !chosen(case, i, 5)) {
                    continue;
                }
                let args = with_from("snapshot:host.json", "root", c);
                let o = run(t.path(), &args);
                judge(&format!("{file} {how:?} {args:?}"), base, &o, &[name], how);
            }
        }
    }
}

/// `/dev/pptN` links that dangle, loop, escape the root, or are not links.
#[test]
fn hostile_dev_ppt_links() {
    type Setup<'a> = (&'a str, &'a dyn Fn(&Path));
    let cases: &[Setup] = &[
        ("dangling", &|d| {
            std::fs::remove_file(d.join("ppt0")).unwrap();
            symlink("../devices/pci@0,0/gone@7:ppt", d.join("ppt0")).unwrap();
        }),
        ("loop", &|d| {
            std::fs::remove_file(d.join("ppt0")).unwrap();
            symlink("ppt0", d.join("ppt0")).unwrap();
        }),
        ("escapes", &|d| {
            std::fs::remove_file(d.join("ppt1")).unwrap();
            symlink("../../../../../../../../etc/passwd", d.join("ppt1")).unwrap();
        }),
        ("directory", &|d| {
            std::fs::remove_file(d.join("ppt0")).unwrap();
            std::fs::create_dir(d.join("ppt0")).unwrap();
        }),
        ("regular file", &|d| {
            std::fs::write(d.join("ppt7"), b"not a link").unwrap();
        }),
        ("odd names", &|d| {
            symlink("../devices/x:ppt", d.join("ppt")).unwrap();
            symlink("../devices/x:ppt", d.join("ppt00")).unwrap();
            symlink("../devices/x:ppt", d.join("ppt99999999999999999999")).unwrap();
            symlink("../devices/x:ppt", d.join("ppt\u{e9}")).unwrap();
        }),
    ];
    let cmds: &[&[&str]] = &[
        &["list"],
        &["list", "-a"],
        &["tree"],
        &["check"],
        &["reserve", "--dry-run", "/dev/ppt0"],
        &["unreserve", "--dry-run", "/dev/ppt1"],
        &["vm-json", "/dev/ppt0"],
        &["vm-json", "--check", "vm.json"],
        &["snapshot"],
    ];
    for (what, f) in cases {
        let t = fixture();
        f(&t.path().join("root/dev"));
        for c in cmds {
            let args = with_from("snapshot:host.json", "root", c);
            let o = run(t.path(), &args);
            if *what == "dangling" && c == &["list"] {
                assert!(
                    o.stderr.contains("/dev/ppt0"),
                    "{what} {args:?}: {}",
                    o.stderr
                );
                // One warning for one bad link (not "dangling" and "stale").
                assert_eq!(
                    o.stderr.matches("/dev/ppt0").count(),
                    1,
                    "{what} {args:?}: {}",
                    o.stderr
                );
            }
            // The escaping link must not make /etc/passwd a device path
            // (a snapshot records the link's target as a fact, so it may).
            if c[0] != "snapshot" {
                assert!(
                    !o.stdout.contains("/etc/passwd"),
                    "{what} {args:?}: {}",
                    o.stdout
                );
            }
            if o.code != 0 && c[0] != "check" {
                assert!(
                    o.stderr.contains("/dev/ppt"),
                    "{what} {args:?}: exit {} without naming the link: {}",
                    o.code,
                    o.stderr
                );
            }
        }
    }
}

/// Boot media files made hostile; reserve, unreserve and vm-json read them.
#[test]
fn hostile_boot_media() {
    let files = [
        "boot/grub/menu.lst",
        "boot/loader.conf.local",
        "overlay/etc/ppt_aliases",
        "overlay/etc/ppt_matches",
    ];
    let cmds: &[&[&str]] = &[
        &[
            "reserve",
            "--dry-run",
            "--matches",
            "--boot-media",
            "bm",
            "01:00.0",
        ],
        &[
            "unreserve",
            "--dry-run",
            "--matches",
            "--boot-media",
            "bm",
            "01:00.0",
        ],
        &[
            "reserve",
            "-y",
            "--matches",
            "--boot-media",
            "bm",
            "01:00.0",
        ],
        &["vm-json", "--check", "vm.json", "--boot-media", "bm"],
        &["vm-json", "01:00.0", "--boot-media", "bm"],
    ];
    let t = fixture();
    let clean: Vec<Outcome> = cmds
        .iter()
        .map(|c| run(t.path(), &with_from("snapshot:host.json", "root", c)))
        .collect();
    for file in files {
        for how in ALL {
            let t = fixture();
            let path = t.path().join("bm").join(file);
            if file.ends_with("loader.conf.local") {
                // Make it a loader key so the file is the one read.
                std::fs::remove_dir_all(t.path().join("bm/boot/grub")).unwrap();
                std::fs::write(t.path().join("bm/boot/loader.conf"), b"").unwrap();
                std::fs::write(&path, b"ppt_aliases_load=YES\n").unwrap();
            }
            if !make(&path, how) {
                continue;
            }
            let name = Path::new(file).file_name().unwrap().to_str().unwrap();
            for (c, base) in cmds.iter().zip(&clean) {
                let args = with_from("snapshot:host.json", "root", c);
                let o = run(t.path(), &args);
                let what = format!("{file} {how:?} {args:?}");
                judge(&what, base, &o, &[name, "--boot-media", "bm"], how);
            }
        }
    }
}
