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

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a single run may take (debug build, loaded machine).
const TIME_BOUND: Duration = Duration::from_secs(60);
/// Peak RSS allowed when a 1 GiB file is offered.
const RSS_BOUND_KB: u64 = 96 * 1024;
const GIB: u64 = 1 << 30;

fn example() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018"
    ))
}

fn realdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ))
}

/// A fixture: the example host's snapshot, its root (links kept), a dump
/// of the same host, GRUB boot media, a vmadm payload.
fn fixture() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(example().join("root"))
        .arg(t.path().join("root"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::copy(example().join("host.json"), t.path().join("host.json")).unwrap();
    std::fs::write(
        t.path().join("root/etc/driver_aliases"),
        "pcieb \"pciex8086,151\"\nnvidia \"pciex10de,a65\"\n",
    )
    .unwrap();
    static DUMP: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let dump = DUMP.get_or_init(|| {
        let o = Command::new(env!("CARGO_BIN_EXE_pptctl"))
            .args(["--from", "snapshot:host.json", "show", "-xxx"])
            .current_dir(t.path())
            .output()
            .unwrap();
        assert!(o.status.success());
        o.stdout
    });
    std::fs::write(t.path().join("host.txt"), dump).unwrap();
    support::seed_boot_media(&t.path().join("bm"));
    std::fs::write(
        t.path().join("vm.json"),
        r#"{"brand": "bhyve", "pci_devices": [
  {"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"},
  {"path": "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1", "pci_slot": "0:8:1"}]}
"#,
    )
    .unwrap();
    t
}

#[derive(Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    rss_kb: Option<u64>,
}

fn have_time() -> bool {
    Path::new("/usr/bin/time").is_file()
}

/// Runs pptctl in `dir`, bounded in time; fails the test on a signal, a
/// panic or a hang.
fn run(dir: &Path, args: &[&str]) -> Outcome {
    let rss_file = dir.join(".rss");
    let _ = std::fs::remove_file(&rss_file);
    let mut cmd = if have_time() {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file);
        c.arg(env!("CARGO_BIN_EXE_pptctl"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_pptctl"))
    };
    let mut child = cmd
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    // Drain the pipes on threads so a chatty child cannot block.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let ho = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let he = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIME_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pptctl {args:?} did not finish within {TIME_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&ho.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&he.join().unwrap()).into_owned();
    // /usr/bin/time reports a signal as "Command terminated by signal N"
    // and exits 128+N; without it the status itself says.
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.signal().is_none(),
        "pptctl {args:?} died of signal {:?}\n{stderr}",
        status.signal()
    );
    let rss_text = std::fs::read_to_string(&rss_file).unwrap_or_default();
    assert!(
        !rss_text.contains("signal"),
        "pptctl {args:?}: {rss_text}\n{stderr}"
    );
    let rss_kb = rss_text
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back();
    let code = status.code().unwrap();
    assert!(
        !stderr.contains("panicked") && code != 101,
        "pptctl {args:?} panicked (exit {code}):\n{stderr}"
    );
    assert!(
        matches!(code, 0..=2),
        "pptctl {args:?}: exit {code}\n{stderr}"
    );
    Outcome {
        code,
        stdout,
        stderr,
        rss_kb,
    }
}

/// What a file is turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hostile {
    Empty,
    Truncated,
    Binary,
    Crlf,
    NonUtf8,
    Huge,
    Directory,
    Loop,
    Missing,
    Unreadable,
}

const ALL: [Hostile; 10] = [
    Hostile::Empty,
    Hostile::Truncated,
    Hostile::Binary,
    Hostile::Crlf,
    Hostile::NonUtf8,
    Hostile::Huge,
    Hostile::Directory,
    Hostile::Loop,
    Hostile::Missing,
    Hostile::Unreadable,
];

/// Turns `path` into `how`; false when the case cannot be made here (mode
/// 000 does not deny root).
fn make(path: &Path, how: Hostile) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let old = std::fs::read(path).unwrap_or_default();
    if path.symlink_metadata().is_ok() {
        if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    match how {
        Hostile::Empty => std::fs::write(path, b"").unwrap(),
        Hostile::Truncated => std::fs::write(path, &old[..old.len() / 2]).unwrap(),
        Hostile::Binary => {
            let b: Vec<u8> = (0..8192u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
                .collect();
            std::fs::write(path, b).unwrap();
        }
        Hostile::Crlf => {
            let mut b = Vec::new();
            for &c in &old {
                if c == b'\n' {
                    b.push(b'\r');
                }
                b.push(c);
            }
            std::fs::write(path, b).unwrap();
        }
        Hostile::NonUtf8 => {
            // Latin-1 bytes in a comment line and in the middle of the text.
            let mut b = b"# r\xe9serv\xe9 \xff\xfe\n".to_vec();
            let mid = old.len() / 3;
            b.extend_from_slice(&old[..mid]);
            b.extend_from_slice(b"\xc3\x28\x80");
            b.extend_from_slice(&old[mid..]);
            std::fs::write(path, b).unwrap();
        }
        Hostile::Huge => {
            // Sparse: costs no disk, reads as 1 GiB of zeros after the
            // original text.
            std::fs::write(path, &old).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .unwrap()
                .set_len(GIB)
                .unwrap();
        }
        Hostile::Directory => std::fs::create_dir(path).unwrap(),
        Hostile::Loop => {
            let name = path.file_name().unwrap();
            symlink(name, path).unwrap();
        }
        Hostile::Missing => {}
        Hostile::Unreadable => {
            std::fs::write(path, &old).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
            if std::fs::File::open(path).is_ok() {
                return false;
            }
        }
    }
    true
}

/// Asserts the rules for a hostile run against the clean run: a changed,
/// failing exit must name `names` in the message; a huge file must not be
/// read whole.
fn judge(what: &str, clean: &Outcome, o: &Outcome, names: &[&str], how: Hostile) {
    // `check`, `match` and `vm-json` exit 1 as a verdict (something fails,
    // a line is wrong) and say why; any other failure must name the file.
    let verdict = o.code == 1
        && (what.contains("\"check\"")
            || what.contains("\"match\"")
            || what.contains("\"vm-json\"")
            || what.contains("\"--check\""));
    if o.code != 0 && o.code != clean.code && !verdict {
        assert!(
            names.iter().any(|n| o.stderr.contains(n)),
            "{what}: exit {} without naming {names:?}:\n{}",
            o.code,
            o.stderr
        );
    }
    if how == Hostile::Huge {
        if let Some(kb) = o.rss_kb {
            assert!(
                kb < RSS_BOUND_KB,
                "{what}: peak RSS {kb} KiB with a 1 GiB file: read whole?"
            );
        }
    }
}

/// Whether to run the whole matrix (every command for every case):
/// `PPTCTL_ROBUSTNESS_FULL=1`. The default run gives each case a rotating
/// share of the commands (every command still meets every file, across
/// the cases), which keeps the run short on a loaded machine.
fn full() -> bool {
    std::env::var_os("PPTCTL_ROBUSTNESS_FULL").is_some()
}

/// Whether command `i` runs for case `case` in the default run: one in
/// `stride`, rotating with the case number.
fn chosen(case: usize, i: usize, stride: usize) -> bool {
    full() || i % stride == case % stride
}

/// Every subcommand, as run against the fixture.
const COMMANDS: &[&[&str]] = &[
    &["show", "-n"],
    &["show", "-vv"],
    &["show", "--json"],
    &["list"],
    &["list", "-a", "-p", "-o", "dev,vendor,path"],
    &["list", "-j"],
    &["tree"],
    &["match"],
    &["match", "--explain"],
    &["match", "--json"],
    &["check"],
    &["check", "--json", "01:00.0"],
    &["check", "--vm", "vm.json"],
    &["reserve", "--dry-run", "--matches", "01:00.0"],
    &["unreserve", "--dry-run", "--matches", "01:00.0"],
    &["reserve", "--dry-run", "--boot-media", "bm", "01:00.0"],
    &["vm-json", "01:00.0"],
    &["vm-json", "--check", "vm.json"],
    &["snapshot"],
    &["bench"],
];

fn with_from<'a>(from: &'a str, root: &'a str, cmd: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--from", from, "--root", root];
    v.extend_from_slice(cmd);
    v
}

/// A hostile `--from` file, every kind, every subcommand.
fn source_case(kind: &str, file: &str, seed: Option<&Path>) {
    let t = fixture();
    if let Some(s) = seed {
        std::fs::copy(s, t.path().join(file)).unwrap();
    }
    let from = format!("{kind}:{file}");
    let clean: Vec<Outcome> = COMMANDS
        .iter()
        .map(|c| run(t.path(), &with_from(&from, "root", c)))
        .collect();
    for how in ALL {
        let t = fixture();
        if let Some(s) = seed {
            std::fs::copy(s, t.path().join(file)).unwrap();
        }
        if !make(&t.path().join(file), how) {
            eprintln!("skip {kind} {how:?}: mode 000 does not deny root here");
            continue;
        }
        for (i, (c, base)) in COMMANDS.iter().zip(&clean).enumerate() {
            if !chosen(how as usize, i, 3) {
                continue;
            }
            let args = with_from(&from, "root", c);
            let o = run(t.path(), &args);
            let what = format!("{how:?} {args:?}");
            // A cut source may lose the selected function: naming the
            // selector that now matches nothing is right too.
            judge(&what, base, &o, &[file, "01:00.0"], how);
            // A file that cannot be a source at all is exit 2 naming it.
            if matches!(
                how,
                Hostile::Binary | Hostile::Directory | Hostile::Loop | Hostile::Missing
            ) && c[0] != "bench"
                && c.get(1) != Some(&"--check")
            {
                assert_eq!(o.code, 2, "{what}: {}", o.stderr);
                assert!(o.stderr.contains(file), "{what}: {}", o.stderr);
                assert!(
                    o.stdout.is_empty() || c[0] == "vm-json",
                    "{what}: {}",
                    o.stdout
                );
            }
        }
    }
}

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
