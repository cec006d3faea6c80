//! What `fleet ingest` reads and how it judges it: a directory walk that
//! skips symbolic links (follows them with `--follow`, inside the
//! directory, each directory once), refuses FIFOs and devices without
//! blocking, `-` for one snapshot on stdin, snapshots dated in the future
//! refused, equal-time snapshots of one host reported with the latest
//! decided by ingest order, and a full disk reported with what was stored.
//! SQLite always, PostgreSQL with `PPTCTL_TEST_PG`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assert_cmd::cargo::CommandCargoExt;
use fleet_support::{databases, host, write, NV};

/// Runs pptctl with `stdin`, killing it after 60 s (a read that blocks
/// or a walk that never ends fails the test instead of hanging it).
fn run_in(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::cargo_bin("pptctl")
        .unwrap()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    drop(input);
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{args:?} did not return in 60 s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(args, b"")
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn the_walk_skips_links_and_refuses_fifos_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let sub = tree.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    write(
        &tree,
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[NV]),
    );
    // Two links back up: followed blindly, the walk never ends.
    std::os::unix::fs::symlink("..", sub.join("x")).unwrap();
    std::os::unix::fs::symlink("..", sub.join("y")).unwrap();
    // A link out of the tree, to a snapshot that must not be read.
    let outside = write(
        dir.path(),
        "o.json",
        &host("outsider", "2026-11-01T00:00:00Z", &[NV]),
    );
    std::os::unix::fs::symlink(&outside, tree.join("out.json")).unwrap();
    mkfifo(&tree.join("fifo.json"));
    for db in databases("walk") {
        let d = db.spec.as_str();
        let t = tree.to_str().unwrap();
        let (code, out, err) = run(&["fleet", "--db", d, "ingest", t]);
        assert_eq!(code, 1, "the FIFO is refused: {out}{err}");
        assert!(out.contains("1 stored, 0 unchanged, 1 refused"), "{out}");
        assert!(
            err.contains("fifo.json") && err.contains("not a regular file"),
            "{err}"
        );
        assert!(
            err.contains("out.json") && err.contains("symbolic link"),
            "{err}"
        );
        assert!(err.contains("sub/x"), "{err}");
        // --follow: links inside the tree are followed, each directory
        // once; the link out of it is still not.
        let (code, out, err) = run(&["fleet", "--db", d, "ingest", "--follow", t]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("0 stored, 1 unchanged, 1 refused"), "{out}");
        assert!(err.contains("out.json") && err.contains("outside"), "{err}");
        let (code, _, err) = run(&["fleet", "--db", d, "history", "outsider"]);
        assert_eq!(code, 2, "{}: {err}", db.kind);
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn rfc3339(t: i64) -> String {
    fleet::time::format_rfc3339(t)
}

#[test]
fn stdin_takes_one_snapshot() {
    let doc = host("piped", "2026-11-01T00:00:00Z", &[NV]);
    let bytes = serde_json::to_vec(&doc).unwrap();
    for db in databases("stdin") {
        let (code, out, err) = run_in(&["fleet", "--db", &db.spec, "ingest", "-"], &bytes);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("1 stored, 0 unchanged, 0 refused"), "{out}");
        let (code, out, err) = run(&["fleet", "--db", &db.spec, "history", "piped"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("(stdin)"), "{out}");
        let (code, out, _) = run_in(&["fleet", "--db", &db.spec, "ingest", "-"], b"{");
        assert_eq!(code, 1, "{out}");
    }
}

#[test]
fn a_snapshot_from_the_future_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ahead = write(
        dir.path(),
        "ahead.json",
        &host("tardis", &rfc3339(now() + 3600), &[NV]),
    );
    let near = write(
        dir.path(),
        "near.json",
        &host("clock", &rfc3339(now() + 60), &[NV]),
    );
    for db in databases("future") {
        let a = ahead.to_str().unwrap();
        let (code, out, err) = run(&["fleet", "--db", &db.spec, "ingest", a]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            err.contains("ahead.json") && err.contains("in the future"),
            "{err}"
        );
        // A minute of clock skew is normal.
        let n = near.to_str().unwrap();
        let (code, out, err) = run(&["fleet", "--db", &db.spec, "ingest", n]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = run(&[
            "fleet",
            "--db",
            &db.spec,
            "ingest",
            "--max-future-skew",
            "2h",
            a,
        ]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, _, err) = run(&[
            "fleet",
            "--db",
            &db.spec,
            "ingest",
            "--max-future-skew",
            "soon",
            a,
        ]);
        assert_eq!(code, 2, "{err}");
    }
}

#[test]
fn equal_time_snapshots_are_reported_and_the_later_ingest_is_latest() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "1.json",
        &host("twin", "2026-11-01T00:00:00Z", &[NV]),
    );
    let second = write(
        dir.path(),
        "2.json",
        &host("twin", "2026-11-01T00:00:00Z", &[NV, NV]),
    );
    for db in databases("sametime") {
        let d = db.spec.as_str();
        let (code, out, err) = run(&["fleet", "--db", d, "ingest", first.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, err) = run(&["fleet", "--db", d, "ingest", second.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(err.contains("2.json") && err.contains("same time"), "{err}");
        let (_, out, _) = run(&["fleet", "--db", d, "history", "twin"]);
        let latest: Vec<&str> = out.lines().filter(|l| l.contains("(latest")).collect();
        assert_eq!(latest.len(), 1, "{out}");
        assert!(latest[0].contains("2.json"), "{out}");
        let (_, out, _) = run(&["fleet", "--db", d, "hosts", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["passable"], 2, "{}: {out}", db.kind);
    }
}

#[test]
fn devices_on_a_host_that_fails_do_not_count_as_passable() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ok.json",
        &host("ok", "2026-11-01T00:00:00Z", &[NV]),
    );
    let mut bad = host("noiommu", "2026-11-01T00:00:00Z", &[NV, NV]);
    bad["facts"]["iommu"]["present"] = serde_json::json!(false);
    write(dir.path(), "bad.json", &bad);
    for db in databases("devpass") {
        let p = dir.path().to_str().unwrap();
        let (code, out, err) = run(&["fleet", "--db", &db.spec, "ingest", p]);
        assert_eq!(code, 0, "{out}{err}");
        let (_, out, _) = run(&["fleet", "--db", &db.spec, "devices", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let gpu = v
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["ids"] == "10de:0a65")
            .unwrap();
        assert_eq!(
            (gpu["hosts"].as_i64(), gpu["passable"].as_i64()),
            (Some(2), Some(1)),
            "{}",
            db.kind
        );
    }
}

#[test]
fn a_full_disk_says_how_many_snapshots_were_stored() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let name = format!("h{i:03}");
        write(
            dir.path(),
            &format!("{name}.json"),
            &host(&name, "2026-11-01T00:00:00Z", &[NV, NV, NV]),
        );
    }
    let db = dir.path().join("fleet.db");
    // A file size limit (SIGXFSZ ignored, so writes past it fail) stands
    // in for a full disk (SQLite then says "disk I/O error" rather than
    // "database or disk is full": either way, the count must follow). It
    // leaves room for some batches: a batch's pages sit in the WAL until
    // it commits, so a disk fuller than one batch stores nothing.
    let bin = assert_cmd::cargo::cargo_bin("pptctl");
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 3072; exec \"$0\" fleet --db \"$1\" ingest -v \"$2\"")
        .arg(&bin)
        .arg(&db)
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error") || err.contains("full"), "{err}");
    let stored = err
        .split("snapshots were stored before")
        .next()
        .and_then(|s| s.rsplit(' ').nth(1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no count of stored snapshots: {err}"));
    assert!(stored > 0 && stored < 200, "{err}");
    // A file is said to be stored only once its batch is committed: the
    // lines agree with the count, not with what the failed batch held.
    let said = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("stored "))
        .count();
    assert_eq!(said, stored, "{err}");
    // They are there, whole.
    let mut f = fleet::Fleet::open(db.to_str().unwrap()).unwrap();
    assert!(f.verify().unwrap().is_empty());
}
