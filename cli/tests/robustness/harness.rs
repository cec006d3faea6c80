//! The hostile-file harness shared by `robustness.rs` and
//! `robustness_paths.rs`: the fixture, a bounded run of pptctl, the ways a
//! file is made hostile and the rules every outcome is judged by.

// Each test binary uses only part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::support;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a single run may take (debug build, loaded machine).
pub const TIME_BOUND: Duration = Duration::from_secs(60);
/// Peak RSS allowed when a 1 GiB file is offered.
pub const RSS_BOUND_KB: u64 = 96 * 1024;
pub const GIB: u64 = 1 << 30;

pub fn example() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018"
    ))
}

pub fn realdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ))
}

/// A fixture: the example host's snapshot, its root (links kept), a dump
/// of the same host, GRUB boot media, a vmadm payload.
pub fn fixture() -> tempfile::TempDir {
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
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub rss_kb: Option<u64>,
}

pub fn have_time() -> bool {
    Path::new("/usr/bin/time").is_file()
}

/// Runs pptctl in `dir`, bounded in time; fails the test on a signal, a
/// panic or a hang.
pub fn run(dir: &Path, args: &[&str]) -> Outcome {
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
pub enum Hostile {
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

pub const ALL: [Hostile; 10] = [
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
pub fn make(path: &Path, how: Hostile) -> bool {
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
pub fn judge(what: &str, clean: &Outcome, o: &Outcome, names: &[&str], how: Hostile) {
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
pub fn full() -> bool {
    std::env::var_os("PPTCTL_ROBUSTNESS_FULL").is_some()
}

/// Whether command `i` runs for case `case` in the default run: one in
/// `stride`, rotating with the case number.
pub fn chosen(case: usize, i: usize, stride: usize) -> bool {
    full() || i % stride == case % stride
}

/// Every subcommand, as run against the fixture.
pub const COMMANDS: &[&[&str]] = &[
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

pub fn with_from<'a>(from: &'a str, root: &'a str, cmd: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--from", from, "--root", root];
    v.extend_from_slice(cmd);
    v
}

/// A hostile `--from` file, every kind, every subcommand.
pub fn source_case(kind: &str, file: &str, seed: Option<&Path>) {
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
