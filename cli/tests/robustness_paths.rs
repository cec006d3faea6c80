//! Hostile inputs given by path and by name, the rest of the campaign
//! `robustness.rs` describes: vmadm payloads, `--cfgspace` directories,
//! selectors, symlink loops and escapes under `--root`, `..` in option
//! paths. Same rules: bounded, no panic, a clear message naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "robustness/harness.rs"]
mod harness;

use std::os::unix::fs::symlink;
use std::path::Path;

use harness::*;
/// vmadm payloads given to `vm-json --check` and `check --vm`.
#[test]
fn hostile_payload_files() {
    let cmds: &[&[&str]] = &[
        &["vm-json", "--check", "vm.json"],
        &["vm-json", "--check", "vm.json", "--json"],
        &["check", "--vm", "vm.json", "01:00.0"],
    ];
    let t = fixture();
    let clean: Vec<Outcome> = cmds
        .iter()
        .map(|c| run(t.path(), &with_from("snapshot:host.json", "root", c)))
        .collect();
    for how in ALL {
        let t = fixture();
        if !make(&t.path().join("vm.json"), how) {
            continue;
        }
        for (c, base) in cmds.iter().zip(&clean) {
            let args = with_from("snapshot:host.json", "root", c);
            let o = run(t.path(), &args);
            let what = format!("{how:?} {args:?}");
            judge(&what, base, &o, &["vm.json"], how);
            if !matches!(how, Hostile::Crlf) {
                assert_ne!(o.code, 0, "{what}: a broken payload passed");
            }
        }
    }
}

/// `--cfgspace DIR` with files of wrong sizes, huge, directories, loops.
#[test]
fn hostile_cfgspace_dir() {
    let t = fixture();
    let dir = t.path().join("cfg");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("00-00-00.pci"), vec![0xffu8; 100]).unwrap();
    std::fs::create_dir(dir.join("01-00-00.pci")).unwrap();
    symlink("01-00-01.pci", dir.join("01-00-01.pci")).unwrap();
    let huge = std::fs::File::create(dir.join("00-01-00.pci")).unwrap();
    huge.set_len(GIB).unwrap();
    std::fs::write(dir.join("zz-00-00.pci"), [0u8; 64]).unwrap();
    std::fs::write(dir.join("02-00-00.pci"), [0xabu8; 4096]).unwrap();
    std::fs::write(t.path().join("notadir"), b"x").unwrap();
    for cfg in ["cfg", "notadir", "missing", "cfg/02-00-00.pci"] {
        for c in [&["show", "-vv"][..], &["check"], &["tree"], &["snapshot"]] {
            let mut args = vec!["--from", "snapshot:host.json", "--cfgspace", cfg];
            args.extend_from_slice(c);
            let o = run(t.path(), &args);
            if let Some(kb) = o.rss_kb {
                assert!(
                    kb < RSS_BOUND_KB,
                    "{args:?}: peak RSS {kb} KiB: read whole?"
                );
            }
            if o.code == 2 || cfg == "cfg" {
                assert!(o.stderr.contains(cfg), "{args:?}: {}", o.stderr);
            }
            if cfg != "cfg" {
                assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
            }
        }
    }
}

/// Selectors with `..`, minors, huge text, odd numbers: refused with the
/// text named, never resolved to something else.
#[test]
fn hostile_selectors() {
    let long = format!("/pci@0,0/{}", "a".repeat(100_000));
    let sels = [
        "/pci@0,0/pci8086,151@1/../pci8086,151@1/display@0",
        "/devices/../../etc/passwd",
        "/pci@0,0/./pci8086,151@1/display@0",
        "/pci@0,0//pci8086,151@1/display@0",
        "../../etc/shadow",
        "/dev/ppt0/../../etc/shadow",
        "/dev/ppt99999999999999999999",
        "/dev/ppt-1",
        "0000:00:00.0.0",
        "ffff:ffff",
        "10000:00:00.0",
        "00:20.0",
        "00:1f.8",
        "",
        ":",
        "\u{e9}",
        long.as_str(),
    ];
    let t = fixture();
    for s in sels {
        for c in ["reserve", "unreserve", "vm-json", "check"] {
            let mut args = vec!["--from", "snapshot:host.json", "--root", "root", c];
            if c.ends_with("reserve") {
                args.push("--dry-run");
            }
            args.extend(["--", s]);
            let o = run(t.path(), &args);
            // unreserve may take a plain path that is not on the host (an
            // alias left for a removed card) and says so; it changes nothing.
            let unreserve_gone = c == "unreserve"
                && o.code == 0
                && s.starts_with("/pci")
                && o.stdout.starts_with("Nothing to change");
            assert!(
                matches!(o.code, 1 | 2) || unreserve_gone,
                "{c} {s:?} was accepted: {}",
                o.stdout
            );
            let shown: String = s.chars().take(40).collect();
            assert!(
                o.stderr.contains(&shown),
                "{c} {s:?}: message does not name the selector: {}",
                o.stderr
            );
            assert!(!o.stdout.contains("/etc/"), "{c} {s:?}: {}", o.stdout);
        }
    }
}

/// Symlink loops and escapes under `--root` where reserve writes.
#[test]
fn symlink_loops_and_escapes_under_root() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, b"do not touch\n").unwrap();
    type Setup = Box<dyn Fn(&Path)>;
    let v = victim.clone();
    let cases: Vec<(&str, Setup)> = vec![
        (
            "etc is a loop",
            Box::new(|r: &Path| {
                std::fs::rename(r.join("etc"), r.join("etc.real")).unwrap();
                symlink("etc", r.join("etc")).unwrap();
            }),
        ),
        (
            "ppt_aliases is a loop",
            Box::new(|r: &Path| {
                std::fs::remove_file(r.join("etc/ppt_aliases")).unwrap();
                symlink("ppt_aliases", r.join("etc/ppt_aliases")).unwrap();
            }),
        ),
        (
            "ppt_aliases leaves the root",
            Box::new(move |r: &Path| {
                std::fs::remove_file(r.join("etc/ppt_aliases")).unwrap();
                symlink(&v, r.join("etc/ppt_aliases")).unwrap();
            }),
        ),
        (
            "ppt_matches leaves by ..",
            Box::new(|r: &Path| {
                std::fs::remove_file(r.join("etc/ppt_matches")).unwrap();
                symlink("../../../../../../../../../tmp", r.join("etc/ppt_matches")).unwrap();
            }),
        ),
    ];
    for (what, setup) in cases {
        let t = fixture();
        // Nothing reserved yet, so reserve has something to write.
        std::fs::write(t.path().join("root/etc/ppt_aliases"), b"").unwrap();
        std::fs::write(t.path().join("root/etc/ppt_matches"), b"").unwrap();
        setup(&t.path().join("root"));
        for c in [
            &["reserve", "-y", "--matches", "01:00.0"][..],
            &["unreserve", "-y", "--matches", "01:00.0"],
            &["list", "-a"],
            &["match"],
        ] {
            let args = with_from("snapshot:host.json", "root", c);
            let o = run(t.path(), &args);
            if c.get(1) == Some(&"-y") && what != "etc is a loop" {
                assert_ne!(o.code, 0, "{what} {args:?}: wrote through it\n{}", o.stdout);
            }
            // `match` exits 1 as its verdict on what the files hold.
            if o.code != 0 && c[0] != "match" {
                assert!(
                    o.stderr.contains("ppt_") || o.stderr.contains("/etc"),
                    "{what} {args:?}: {}",
                    o.stderr
                );
            }
        }
        assert_eq!(std::fs::read(&victim).unwrap(), b"do not touch\n", "{what}");
    }
}

/// `..` in `--root`, `--from` and `--boot-media` paths is just a path: it
/// resolves like any other and messages show what the user typed.
#[test]
fn dotdot_in_option_paths() {
    let t = fixture();
    let sub = t.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let o = run(
        &sub,
        &[
            "--from",
            "snapshot:../host.json",
            "--root",
            "../root",
            "list",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("/dev/ppt0"));
    let o = run(&sub, &["--from", "snapshot:../nope/../host.jsn", "show"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("../nope/../host.jsn"), "{}", o.stderr);
}
