//! A read refused by permissions names the file and says what to do (run
//! as root with pfexec or sudo, or read an offline source), whichever
//! command and whichever file: files under `--root`, every `--from`
//! source, `--cfgspace`, `--boot-media`, vmadm payloads.
//!
//! The commands run as `nobody` through `setpriv`; the test skips, saying
//! why, where it cannot drop privileges (not root, or no setpriv).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SETPRIV: &str = "/usr/bin/setpriv";

fn can_drop_privileges() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !Path::new(SETPRIV).is_file() {
        eprintln!("skip: needs root (to drop to nobody with setpriv) and {SETPRIV}");
        return false;
    }
    true
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Everything readable by anyone: the example root, its snapshot, a dump,
/// a devinfo file, a sysfs tree, a cfgspace directory, boot media and a
/// vmadm payload.
fn fixture() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(support::example_dir().join("root"))
        .arg(t.path().join("root"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::write(
        t.path().join("root/etc/driver_aliases"),
        "ppt \"pciex10de,1b80\"\n",
    )
    .unwrap();
    std::fs::copy(
        support::example_dir().join("host.json"),
        t.path().join("host.json"),
    )
    .unwrap();
    let dump = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .args(["--from", "snapshot:host.json", "show", "-xxx"])
        .current_dir(t.path())
        .output()
        .unwrap();
    std::fs::write(t.path().join("host.txt"), dump.stdout).unwrap();
    std::fs::write(t.path().join("cache"), b"not read").unwrap();
    std::fs::create_dir_all(t.path().join("sys/bus/pci/devices")).unwrap();
    std::fs::create_dir_all(t.path().join("cfg")).unwrap();
    support::seed_boot_media(&t.path().join("bm"));
    std::fs::write(t.path().join("vm.json"), r#"{"pci_devices": []}"#).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(t.path())
        .status()
        .unwrap();
    t
}

fn as_nobody(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(SETPRIV)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_pptctl"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// The message names `file`, keeps the system's reason and says what to do.
fn says_what_to_do(out: &str, file: &str) -> bool {
    out.lines().any(|l| {
        l.contains(file)
            && l.contains("Permission denied")
            && l.contains("as root (pfexec or sudo)")
            && l.contains("--from snapshot:FILE")
    })
}

/// What to make unreadable, its mode, the command, the file the message
/// names, whether the command must fail.
type Case<'a> = (PathBuf, u32, Vec<&'a str>, &'a str, bool);

/// Files under `--root` and the boot media, and files given by option.
fn root_cases(d: &Path) -> Vec<Case<'static>> {
    vec![
        (
            d.join("root/etc/ppt_matches"),
            0o600,
            vec!["--from", "snapshot:host.json", "--root", "root", "match"],
            "/etc/ppt_matches",
            true,
        ),
        (
            d.join("root/etc/ppt_aliases"),
            0o600,
            vec!["--from", "snapshot:host.json", "--root", "root", "match"],
            "/etc/ppt_aliases",
            true,
        ),
        (
            d.join("root/etc/driver_aliases"),
            0o600,
            vec!["--from", "snapshot:host.json", "--root", "root", "check"],
            "/etc/driver_aliases",
            true,
        ),
        (
            d.join("root/dev"),
            0o700,
            vec!["--from", "snapshot:host.json", "--root", "root", "list"],
            "/dev",
            false,
        ),
        (
            d.join("cfg"),
            0o700,
            vec!["--from", "snapshot:host.json", "--cfgspace", "cfg", "list"],
            "cfg",
            true,
        ),
        (
            d.join("bm/boot/grub"),
            0o700,
            vec![
                "--from",
                "snapshot:host.json",
                "--root",
                "root",
                "vm-json",
                "--boot-media",
                "bm",
                "01:00.0",
            ],
            "menu.lst",
            true,
        ),
        (
            d.join("vm.json"),
            0o600,
            vec![
                "--from",
                "snapshot:host.json",
                "vm-json",
                "--check",
                "vm.json",
            ],
            "vm.json",
            true,
        ),
    ]
}

/// The `--from` sources.
fn source_cases(d: &Path) -> Vec<Case<'static>> {
    vec![
        (
            d.join("host.json"),
            0o600,
            vec!["--from", "snapshot:host.json", "show"],
            "host.json",
            true,
        ),
        (
            d.join("host.txt"),
            0o600,
            vec!["--from", "dump:host.txt", "show"],
            "host.txt",
            true,
        ),
        (
            d.join("cache"),
            0o600,
            vec!["--from", "devinfo:cache", "show"],
            "cache",
            true,
        ),
        (
            d.join("sys/bus/pci/devices"),
            0o700,
            vec!["--from", "sysfs:sys", "show"],
            "devices",
            true,
        ),
    ]
}

#[test]
fn denied_reads_say_what_to_do() {
    if !can_drop_privileges() {
        return;
    }
    let t = fixture();
    let d = t.path();
    let mut cases = root_cases(d);
    cases.extend(source_cases(d));
    let mut failures = Vec::new();
    for (path, mode, args, file, fails) in &cases {
        let before = std::fs::metadata(path).unwrap().permissions().mode();
        chmod(path, *mode);
        let (code, out) = as_nobody(d, args);
        chmod(path, before);
        let exit_ok = if *fails {
            matches!(code, Some(1 | 2))
        } else {
            code.is_some()
        };
        if !exit_ok || !says_what_to_do(&out, file) {
            failures.push(format!(
                "{args:?} ({}): exit {code:?}\n{out}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n---\n")
    );
}
