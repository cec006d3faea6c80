//! Progress of a long host load: the sysfs source tells an observer of
//! every function it reads (from both reading threads), and `pptctl`
//! draws one erased-at-the-end line on stderr with `--progress always`,
//! nothing into a pipe with the default `auto`, and nothing with `never`;
//! stdout is the same in every case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::{Arc, Mutex};

use pci_core::progress::{Observer, Progress};
use pci_core::sources::{Source, SysfsSource};

mod support;
use support::pptctl;

/// Functions in the generated tree: more than one reading thread's share
/// (the sysfs source reads 256 or more functions on several threads).
const FUNCTIONS: usize = 600;

/// A sysfs tree of `FUNCTIONS` single-function endpoints (virtio network
/// devices, config header only) under one host bridge.
fn tree(dir: &Path) {
    let links = dir.join("bus/pci/devices");
    fs::create_dir_all(&links).unwrap();
    for i in 0..FUNCTIONS {
        let (bus, dev) = (1 + i / 32, i % 32);
        let name = format!("0000:{bus:02x}:{dev:02x}.0");
        let rel = format!("pci0000:00/{name}");
        let d = dir.join("devices").join(&rel);
        fs::create_dir_all(&d).unwrap();
        let mut c = vec![0u8; 64];
        c[0..2].copy_from_slice(&0x1af4u16.to_le_bytes());
        c[2..4].copy_from_slice(&0x1041u16.to_le_bytes());
        c[8] = 1;
        c[9..12].copy_from_slice(&[0x00, 0x00, 0x02]);
        fs::write(d.join("config"), &c).unwrap();
        fs::write(d.join("vendor"), "0x1af4\n").unwrap();
        fs::write(d.join("device"), "0x1041\n").unwrap();
        fs::write(d.join("class"), "0x020000\n").unwrap();
        symlink(format!("../../../devices/{rel}"), links.join(&name)).unwrap();
    }
}

/// What an observer was told.
#[derive(Default)]
struct Told {
    starts: Vec<(String, Option<u64>)>,
    advanced: u64,
    finishes: usize,
}

#[derive(Default)]
struct Recorder(Mutex<Told>);

impl Progress for Recorder {
    fn start(&self, what: &str, total: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .starts
            .push((what.to_string(), total));
    }
    fn advance(&self, n: u64) {
        self.0.lock().unwrap().advanced += n;
    }
    fn finish(&self) {
        self.0.lock().unwrap().finishes += 1;
    }
}

#[test]
fn the_sysfs_source_tells_its_observer_of_every_function() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let recorder = Arc::new(Recorder::default());
    let host = SysfsSource::new(dir.path())
        .with_progress(Observer::new(recorder.clone()))
        .load()
        .unwrap();
    assert_eq!(host.functions.len(), FUNCTIONS);
    let told = recorder.0.lock().unwrap();
    assert_eq!(
        told.starts,
        [(
            "reading sysfs functions".to_string(),
            Some(FUNCTIONS as u64)
        )]
    );
    assert_eq!(told.advanced, FUNCTIONS as u64);
    assert_eq!(told.finishes, 1);
}

/// stdout and stderr of `show -v` over the tree with `--progress WHEN`.
fn show(dir: &Path, when: Option<&str>) -> (String, String) {
    let mut cmd = pptctl();
    cmd.arg("--from")
        .arg(format!("sysfs:{}", dir.display()))
        .args(["show", "-v"]);
    if let Some(w) = when {
        cmd.args(["--progress", w]);
    }
    let out = cmd.env("TERM", "xterm").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn always_draws_one_line_and_erases_it_auto_and_never_draw_nothing_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let (plain, err) = show(dir.path(), None);
    assert_eq!(err, "", "auto draws nothing into a pipe");
    let (never, err) = show(dir.path(), Some("never"));
    assert_eq!((never.as_str(), err.as_str()), (plain.as_str(), ""));
    let (always, err) = show(dir.path(), Some("always"));
    assert_eq!(always, plain, "progress never touches stdout");
    let line = "\r\x1b[2Kpptctl: reading sysfs functions: ";
    assert!(err.starts_with(&format!("{line}1/{FUNCTIONS}")), "{err:?}");
    assert!(
        err.ends_with(&format!("{line}{FUNCTIONS}/{FUNCTIONS}\r\x1b[2K")),
        "the last step is drawn, then erased: {err:?}"
    );
    assert!(!err.contains('\n'), "one line, redrawn in place: {err:?}");
}

#[test]
fn a_bad_progress_value_is_a_usage_error() {
    pptctl()
        .args(["show", "--progress", "sometimes"])
        .assert()
        .code(2);
}

#[test]
fn diagnose_reads_a_large_log_with_progress_in_mib() {
    let dir = tempfile::tempdir().unwrap();
    let sample =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/platform-log/clean.stream.log");
    let text = fs::read(&sample).unwrap();
    let log = dir.path().join("platform.log");
    // Just over 3 MiB of whole copies of a real-format log.
    let copies = (3 << 20) / text.len() + 1;
    fs::write(&log, text.repeat(copies)).unwrap();
    let out = pptctl()
        .args(["--from", &support::example_from(), "--progress", "always"])
        .arg("diagnose")
        .arg(&log)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    let line = "\r\x1b[2Kpptctl: reading platform.log (MiB): ";
    assert!(err.contains(&format!("{line}1/3")), "{err:?}");
    assert!(err.contains(&format!("{line}3/3\r\x1b[2K")), "{err:?}");
    let quiet = pptctl()
        .args(["--from", &support::example_from()])
        .arg("diagnose")
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(quiet.stdout, out.stdout, "progress never touches stdout");
    assert_eq!(quiet.status.code(), out.status.code());
}
