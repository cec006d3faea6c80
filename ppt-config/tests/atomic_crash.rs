//! Crash test for `hostfs::atomic`: a child process
//! rewrites a `ppt_aliases`-style file in a loop and is killed with SIGKILL at
//! random points. After every kill the file must parse and be exactly one of
//! the versions the child wrote, never a mix; the backup too; the lock must be
//! free again (the next child could take it); leftover temporary files must
//! be cleaned by the next writer.
//!
//! The child is this test binary itself, re-run with `--exact crash_child`
//! and `PPTCTL_CRASH_CHILD_DIR` set. Iterations: 300 by default,
//! `PPTCTL_CRASH_ITERS=1000` (or more) for the long run; `PPTCTL_CRASH_SEED`
//! replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hostfs::atomic::Tree;
use ppt_config::aliases_file::AliasesFile;

const FILE: &str = "etc/ppt_aliases";

/// The bytes of version `k`: a header naming the version, a number of alias
/// lines that depends on `k` (so sizes differ), and a trailer.
fn version(k: u64) -> Vec<u8> {
    let mut s = format!("# pptctl crash test version {k}\n");
    for i in 0..(200 + (k % 7) * 150) {
        s.push_str(&format!(
            "ppt \"/pci@0,0/pci8086,151@1/display@{k:x},{i:x}\"\n"
        ));
    }
    s.push_str(&format!("# end of version {k}\n"));
    s.into_bytes()
}

/// Checks that `bytes` are one complete version and returns its number.
fn check_version(what: &str, bytes: &[u8]) -> u64 {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{what}: not UTF-8"));
    let first = text.lines().next().unwrap_or("");
    let k: u64 = first
        .strip_prefix("# pptctl crash test version ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{what}: bad header {first:?} ({} bytes)", bytes.len()));
    assert!(
        version(k) == bytes,
        "{what}: version {k} is incomplete or mixed"
    );
    let parsed = AliasesFile::parse(what, text).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(parsed.to_string().as_bytes(), bytes);
    k
}

#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("PPTCTL_CRASH_CHILD_DIR") else {
        return; // only meaningful when run as the child
    };
    let tree = Tree::new(Path::new(&dir)).unwrap();
    let path = Path::new(FILE);
    let mut k = std::fs::read(tree.root().join(FILE))
        .ok()
        .map(|b| check_version("child start", &b) + 1)
        .unwrap_or(0);
    let mut first = true;
    loop {
        tree.write(path, &version(k)).unwrap();
        if first {
            println!("\nPPTCTL-CHILD-READY");
            first = false;
        }
        k += 1;
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How many kills and the random seed (both from the environment when
/// set, so a failure can be replayed).
fn crash_settings() -> (u64, u64) {
    let iters: u64 = std::env::var("PPTCTL_CRASH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("PPTCTL_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    (iters, seed)
}

/// Starts a writing child in `dir` and returns once it has written.
fn spawn_writer(exe: &Path, dir: &Path, i: u64) -> std::process::Child {
    let mut child = Command::new(exe)
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("PPTCTL_CRASH_CHILD_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("PPTCTL-CHILD-READY") {
                let _ = tx.send(());
                break;
            }
        }
    });
    // A generous bound: a child that never gets ready means the previous
    // child's lock was not released.
    if rx.recv_timeout(Duration::from_secs(120)).is_err() {
        let _ = child.kill();
        panic!("iteration {i}: child never wrote (lock left held?)");
    }
    child
}

/// The temporary files left beside `target`.
fn temps_beside(target: &Path) -> Vec<String> {
    std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".pptctl-tmp-"))
        .collect()
}

/// After a kill: the file and its backup are whole versions, the file no
/// older than `last`. Returns its version and whether the kill landed
/// mid-write (a temporary file is left).
fn check_after_kill(i: u64, tree: &Tree, target: &Path, last: Option<u64>) -> (u64, bool) {
    let bytes = std::fs::read(target).unwrap();
    let k = check_version(&format!("iteration {i}"), &bytes);
    if let Some(prev) = last {
        assert!(k >= prev, "iteration {i}: went back from {prev} to {k}");
    }
    if let Ok(b) = std::fs::read(tree.backup_path(target)) {
        let bk = check_version(&format!("iteration {i} backup"), &b);
        assert!(bk <= k, "backup {bk} newer than file {k}");
    }
    (k, !temps_beside(target).is_empty())
}

#[test]
fn sigkill_during_writes_never_leaves_a_partial_file() {
    let (iters, seed) = crash_settings();
    eprintln!("crash test: {iters} kills, PPTCTL_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let tree = Tree::new(dir.path()).unwrap();
    let target = tree.root().join(FILE);
    let exe = std::env::current_exe().unwrap();

    let mut last = None;
    let mut mid_write = 0u64;
    for i in 0..iters {
        let mut child = spawn_writer(&exe, tree.root(), i);
        // Random kill point over the next few writes.
        std::thread::sleep(Duration::from_micros(rng.next() % 3000));
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
        assert_eq!(rc, 0);
        child.wait().unwrap();
        let (k, mid) = check_after_kill(i, &tree, &target, last);
        last = Some(k);
        mid_write += u64::from(mid);
    }
    eprintln!(
        "crash test: {iters} kills, {mid_write} landed mid-write, last version {:?}",
        last
    );
    assert!(
        last.unwrap_or(0) > 0,
        "the children never completed a write"
    );
    if iters >= 100 {
        assert!(mid_write > 0, "no kill landed during a write");
    }
    // The next writer cleans up what the killed ones left.
    tree.write(Path::new(FILE), &version(u64::MAX / 2)).unwrap();
    let left = temps_beside(&target);
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn lock_child() {
    let Ok(dir) = std::env::var("PPTCTL_LOCK_CHILD_DIR") else {
        return; // only meaningful when run as the child
    };
    let _lock = hostfs::atomic::DirLock::acquire(Path::new(&dir)).unwrap();
    println!("\nPPTCTL-CHILD-READY");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Whether another process holds a write lock on `DIR/.pptctl.lock`
/// (`F_GETLK` reports the conflicting lock; no waiting involved).
fn lock_held_by_other(dir: &Path) -> Option<libc::pid_t> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(hostfs::atomic::LOCK_NAME))
        .unwrap();
    // SAFETY: zeroed flock is valid; fields set below; fd is open.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as _;
    fl.l_whence = libc::SEEK_SET as _;
    let rc = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETLK, &mut fl) };
    assert_eq!(rc, 0);
    (i32::from(fl.l_type) != libc::F_UNLCK).then_some(fl.l_pid)
}

#[test]
fn lock_is_exclusive_and_released_by_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(&exe)
        .args(["--exact", "lock_child", "--nocapture", "--test-threads=1"])
        .env("PPTCTL_LOCK_CHILD_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut ready = false;
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().contains("PPTCTL-CHILD-READY") {
            ready = true;
            break;
        }
    }
    assert!(ready);
    assert_eq!(
        lock_held_by_other(dir.path()),
        Some(child.id() as libc::pid_t)
    );
    // SAFETY: kill(2) on our own child.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) },
        0
    );
    child.wait().unwrap();
    assert_eq!(lock_held_by_other(dir.path()), None);
}
