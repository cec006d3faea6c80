//! Least privilege, watched from outside with strace:
//! read-only commands open nothing for writing and create, rename, remove or
//! chmod nothing; `reserve`/`unreserve` write only inside `--root` or
//! `--boot-media`; without the rights to write, the message says what failed
//! and what to do.
//!
//! Skips (with a message) when strace is absent or cannot trace here (no
//! ptrace permission), and the unprivileged test when not run as root or
//! without `setpriv`. What cannot run here: on illumos, `/dev/pptN` and the
//! devinfo driver need root too; that code is not compiled on Linux.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TRACED: &str = "open,openat,openat2,creat,rename,renameat,renameat2,unlink,unlinkat,\
mkdir,mkdirat,rmdir,link,linkat,symlink,symlinkat,truncate,ftruncate,chmod,fchmod,fchmodat,\
chown,fchown,fchownat,lchown,utimensat";

fn example() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018"
    ))
}

fn strace_works() -> bool {
    let ok = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skip: strace is absent or cannot trace here (ptrace not permitted)");
    }
    ok
}

/// A fixture readable by anyone: root tree, snapshot, dump, GRUB media,
/// vmadm payload.
fn fixture() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(example().join("root"))
        .arg(t.path().join("root"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::copy(example().join("host.json"), t.path().join("host.json")).unwrap();
    // Nothing reserved yet, so a reservation has something to write.
    std::fs::write(t.path().join("root/etc/ppt_aliases"), "# none yet\n").unwrap();
    support::seed_boot_media(&t.path().join("bm"));
    std::fs::write(
        t.path().join("vm.json"),
        r#"{"pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"}]}"#,
    )
    .unwrap();
    let dump = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .args(["--from", "snapshot:host.json", "show", "-xxx"])
        .current_dir(t.path())
        .output()
        .unwrap();
    std::fs::write(t.path().join("host.txt"), dump.stdout).unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(t.path())
        .status()
        .unwrap();
    t
}

/// The syscalls of one run that change the file system, as strace prints
/// them (the process's own stdout/stderr are inherited, never opened).
fn writes_of(dir: &Path, args: &[&str]) -> (i32, Vec<String>) {
    let log = dir.join(".strace");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&log)
        .args(["-e", &format!("trace={TRACED}")])
        .arg(env!("CARGO_BIN_EXE_pptctl"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    let writes = text
        .lines()
        .filter(|l| {
            let call = l
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ')
                .split('(')
                .next()
                .unwrap_or("");
            match call {
                "open" | "openat" | "openat2" | "creat" => {
                    call == "creat"
                        || ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
                            .iter()
                            .any(|f| l.contains(f))
                }
                "" => false,
                _ => true,
            }
        })
        .map(str::to_string)
        .collect();
    (status.code().unwrap_or(-1), writes)
}

/// The quoted paths of a strace line.
fn paths(line: &str) -> Vec<String> {
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The commands that only read, each over the fixture.
const READ_ONLY: &[&[&str]] = &[
    &["--from", "snapshot:host.json", "show", "-n"],
    &["--from", "snapshot:host.json", "show", "-vv", "--json"],
    &["--from", "dump:host.txt", "show", "-xxx"],
    &["show", "-n"],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "list",
        "-a",
    ],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "list",
        "-j",
    ],
    &["--from", "snapshot:host.json", "--root", "root", "tree"],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "match",
        "--explain",
    ],
    &["--from", "snapshot:host.json", "--root", "root", "check"],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "check",
        "--vm",
        "vm.json",
    ],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "vm-json",
        "01:00.0",
    ],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "vm-json",
        "--check",
        "vm.json",
    ],
    &["--from", "snapshot:host.json", "--root", "root", "snapshot"],
    &["snapshot"],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "reserve",
        "--dry-run",
        "--matches",
        "01:00.0",
    ],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "unreserve",
        "--dry-run",
        "--matches",
        "01:00.0",
    ],
    &[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "reserve",
        "--dry-run",
        "--boot-media",
        "bm",
        "01:00.0",
    ],
];

#[test]
fn read_only_commands_write_nothing() {
    if !strace_works() {
        return;
    }
    let t = fixture();
    let cmds = READ_ONLY;
    let before = tree_listing(t.path());
    for c in cmds {
        let (code, writes) = writes_of(t.path(), c);
        assert!(matches!(code, 0..=2), "{c:?}: exit {code}");
        assert!(
            writes.is_empty(),
            "{c:?} changed the file system:\n{}",
            writes.join("\n")
        );
    }
    assert_eq!(
        tree_listing(t.path()),
        before,
        "a read-only command left files behind"
    );
}

/// Every file under `dir` with its size, for before/after comparisons.
fn tree_listing(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((e.path().display().to_string(), m.len()));
        }
    }
    out.sort();
    out
}

#[test]
fn writes_stay_inside_root_and_boot_media() {
    if !strace_works() {
        return;
    }
    let t = fixture();
    let root = t.path().join("root").display().to_string();
    let bm = t.path().join("bm").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "reserve".into(),
                "-y".into(),
                "--matches".into(),
                "01:00.0".into(),
            ],
            &root,
        ),
        (
            vec![
                "unreserve".into(),
                "-y".into(),
                "--matches".into(),
                "01:00.0".into(),
            ],
            &root,
        ),
        (
            vec![
                "reserve".into(),
                "-y".into(),
                "--matches".into(),
                "--boot-media".into(),
                bm.clone(),
                "01:00.0".into(),
            ],
            &bm,
        ),
        (
            vec![
                "unreserve".into(),
                "-y".into(),
                "--matches".into(),
                "--boot-media".into(),
                bm.clone(),
                "01:00.0".into(),
            ],
            &bm,
        ),
    ];
    for (verb, inside) in cases {
        let mut args = vec!["--from", "snapshot:host.json", "--root", root.as_str()];
        args.extend(verb.iter().map(String::as_str));
        let (code, writes) = writes_of(t.path(), &args);
        assert_eq!(code, 0, "{args:?}");
        assert!(!writes.is_empty(), "{args:?}: wrote nothing?");
        for w in &writes {
            for p in paths(w) {
                assert!(
                    p.starts_with(&format!("{inside}/")) || p == inside,
                    "{args:?} touched {p} outside {inside}:\n{w}"
                );
            }
        }
    }
}

/// Without the right to write, reserve fails with exit 1, names the place
/// and says to run it as root; read-only commands still work.
#[test]
fn missing_privileges_say_what_to_do() {
    if !nix_is_root() || !Path::new("/usr/bin/setpriv").is_file() {
        eprintln!("skip: needs root (to drop to nobody) and setpriv");
        return;
    }
    let t = fixture();
    let as_nobody = |args: &[&str]| {
        Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pptctl"))
            .args(args)
            .current_dir(t.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = as_nobody(&[
        "--from",
        "snapshot:host.json",
        "--root",
        "root",
        "reserve",
        "-y",
        "01:00.0",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("root/etc"), "does not say where: {err}");
    assert!(
        err.contains("Permission denied"),
        "does not say what: {err}"
    );
    assert!(err.contains("as root"), "does not say what to do: {err}");
    assert_eq!(
        std::fs::read_to_string(t.path().join("root/etc/ppt_aliases")).unwrap(),
        "# none yet\n"
    );
    // A file only root may read: named, with the same advice.
    std::fs::set_permissions(
        t.path().join("root/etc/ppt_matches"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let o = as_nobody(&["--from", "snapshot:host.json", "--root", "root", "match"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(matches!(o.status.code(), Some(1 | 2)), "{err}");
    assert!(
        err.contains("/etc/ppt_matches") && err.contains("Permission denied"),
        "{err}"
    );
    // What needs no privilege still works.
    let o = as_nobody(&["--from", "snapshot:host.json", "show", "-n"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}
