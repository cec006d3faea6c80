//! `pptctl fleet …` and `pptctl diff` as a user runs them, on SQLite and
//! (with `PPTCTL_TEST_PG`) PostgreSQL: exit codes, refusals named, and
//! `kill -9` during ingest leaving every snapshot fully present or absent.
//!
//! Kill runs: 20 per backend by default; `PPTCTL_KILL_RUNS` for more.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::run;

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use fleet::Fleet;
use fleet_support::{databases, host, random_gpus, write, Rng, BOOT, NV};

/// The binary as a plain process (the kill-9 test spawns and signals it).
fn pptctl() -> Command {
    Command::cargo_bin("pptctl").unwrap()
}

fn small_fleet(dir: &Path) {
    let nv = NV;
    let bad = BOOT;
    write(
        dir,
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[nv, nv, nv]),
    );
    write(
        dir,
        "b.json",
        &host("beta", "2026-11-01T00:00:00Z", &[nv, bad]),
    );
    write(
        dir,
        "c.json",
        &host("gamma", "2026-11-01T00:00:00Z", &[nv, nv]),
    );
}

/// `fleet hosts` on the small fleet: the table (header first), JSON,
/// `--explain` and a bad selector.
fn check_hosts(d: &str, kind: &str) {
    let (code, out, _) = run(&[
        "fleet",
        "--db",
        d,
        "hosts",
        "--can-pass",
        "10de:",
        "--count",
        "2",
    ]);
    assert_eq!(code, 0);
    let names: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "gamma"], "{kind}: {out}");
    let (code, out, _) = run(&[
        "fleet",
        "--db",
        d,
        "hosts",
        "--can-pass",
        "10de:",
        "--count",
        "2",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["host"], "alpha");
    assert_eq!(v[0]["passable"], 3);
    let (code, out, _) = run(&[
        "fleet",
        "--db",
        d,
        "hosts",
        "--can-pass",
        "10de:",
        "--count",
        "2",
        "--explain",
        "beta",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("does not qualify") && out.contains("host-critical"),
        "{out}"
    );
    let (code, _, err) = run(&["fleet", "--db", d, "hosts", "--can-pass", "zz:"]);
    assert_eq!(code, 2, "{err}");
}

/// `fleet devices` and `fleet history` on the small fleet.
fn check_devices_and_history(d: &str) {
    let (code, out, _) = run(&["fleet", "--db", d, "devices", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let gpu = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["ids"] == "10de:0a65")
        .unwrap();
    assert_eq!(gpu["hosts"], 3);
    assert_eq!(gpu["functions"], 7);
    assert_eq!(gpu["passable"], 6);
    let (code, out, _) = run(&["fleet", "--db", d, "history", "alpha"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("2026-11-01T00:00:00Z 10 functions"),
        "{out}"
    );
    let (code, _, err) = run(&["fleet", "--db", d, "history", "nobody"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn ingest_hosts_devices_history_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    small_fleet(dir.path());
    std::fs::write(
        dir.path().join("broken.json"),
        b"{\"format\": \"pptctl-snap",
    )
    .unwrap();
    for db in databases("cli") {
        let d = db.spec.as_str();
        let p = dir.path().to_str().unwrap();
        let (code, out, err) = run(&["fleet", "--db", d, "ingest", p]);
        assert_eq!(code, 1, "a refused file makes ingest exit 1: {out}{err}");
        assert!(err.contains("broken.json"), "{err}");
        assert!(out.contains("3 stored, 0 unchanged, 1 refused"), "{out}");
        check_hosts(d, db.kind);
        check_devices_and_history(d);
    }
}

#[test]
fn diff_names_added_removed_and_changed_functions() {
    let dir = tempfile::tempdir().unwrap();
    let nv = NV;
    let mut old = host("h", "2026-11-01T00:00:00Z", &[nv, nv]);
    let new = host("h", "2026-11-02T00:00:00Z", &[nv]);
    old["functions"][2]["driver"] = serde_json::json!("nvidia");
    let o = write(dir.path(), "old.json", &old);
    let n = write(dir.path(), "new.json", &new);
    let (code, out, err) = run(&["diff", o.to_str().unwrap(), n.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("- 0000:02:00.0 10de:0a65"), "{out}");
    assert!(
        out.contains("~ 0000:01:00.0 driver: nvidia -> ppt"),
        "{out}"
    );
    let (code, out, _) = run(&["diff", n.to_str().unwrap(), n.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, "no change\n"));
}

#[test]
fn diff_reads_snapshots_as_ingest_does() {
    let dir = tempfile::tempdir().unwrap();
    let n = write(
        dir.path(),
        "new.json",
        &host("h", "2026-11-02T00:00:00Z", &[]),
    );
    let n = n.to_str().unwrap();
    // A FIFO is refused at once, not waited on.
    let fifo = dir.path().join("fifo.json");
    let st = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(st.unwrap().success());
    let (code, _, err) = run(&["diff", fifo.to_str().unwrap(), n]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("fifo.json"), "{err}");
    // A file beyond ingest's size limit is refused as a snapshot, not as
    // some other kind of file.
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(2 << 30).unwrap();
    let (code, _, err) = run(&["diff", big.to_str().unwrap(), n]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("larger than") && !err.contains("vmadm"),
        "{err}"
    );
    // Not a snapshot: the file is named, exit 2.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{\"hello\": 1}").unwrap();
    let (code, _, err) = run(&["diff", junk.to_str().unwrap(), n]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("junk.json"), "{err}");
}

#[test]
fn kill_9_during_ingest_leaves_every_snapshot_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xdead);
    let files = 60;
    for i in 0..files {
        let doc = host(
            &format!("k{i:02}"),
            "2026-11-01T00:00:00Z",
            &random_gpus(&mut rng),
        );
        write(dir.path(), &format!("k{i:02}.json"), &doc);
    }
    let runs: usize = std::env::var("PPTCTL_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for db in databases("kill") {
        let full = full_ingest_micros(dir.path());
        let mut killed = 0;
        for _ in 0..runs {
            let mut child = pptctl()
                .args([
                    "fleet",
                    "--db",
                    &db.spec,
                    "ingest",
                    dir.path().to_str().unwrap(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_micros(rng.below(full)));
            if child.try_wait().unwrap().is_none() {
                killed += 1;
            }
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            let mut f = Fleet::open(&db.spec).unwrap();
            let problems = f.verify().unwrap();
            assert!(problems.is_empty(), "{}: {problems:?}", db.kind);
        }
        assert!(killed > 0, "no run was killed mid-way");
        finish_after_kills(&db.spec, dir.path(), files, db.kind);
    }
}

/// Microseconds of one full ingest of `dir` into a scratch database, to
/// aim the kills.
fn full_ingest_micros(dir: &Path) -> u64 {
    let scratch = tempfile::tempdir().unwrap();
    let scratch_db = scratch.path().join("t.db");
    let t0 = Instant::now();
    let (code, _, _) = run(&[
        "fleet",
        "--db",
        scratch_db.to_str().unwrap(),
        "ingest",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    t0.elapsed().as_micros().max(1000) as u64
}

/// After the kills, one ingest completes the fleet: every file stored
/// once, the database consistent.
fn finish_after_kills(spec: &str, dir: &Path, files: usize, kind: &str) {
    let (code, out, err) = run(&["fleet", "--db", spec, "ingest", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let mut f = Fleet::open(spec).unwrap();
    let snaps = f
        .table_counts()
        .unwrap()
        .into_iter()
        .find(|(t, _)| t == "snapshots")
        .unwrap()
        .1;
    assert_eq!(snaps, files as i64, "{kind}");
    assert!(f.verify().unwrap().is_empty());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// `pptctl` in `dir` with a fixed snapshot clock; stdout on success.
fn pptctl_in(dir: &Path, args: &[&str]) -> String {
    let out = pptctl()
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1796000000")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn diff_expect_on_the_example_host() {
    // Before: the example host before the reservation, with the
    // reservation written to its boot media; after: the same host after
    // the reboot (examples/levon-2018).
    let tmp = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018");
    copy_dir(&ex, tmp.path());
    let before_dir = tmp.path().join("before");
    pptctl_in(
        &before_dir,
        &[
            "--root",
            "root",
            "--from",
            "snapshot:host.json",
            "reserve",
            "--boot-media",
            "usbkey",
            "--matches",
            "10de:a65",
        ],
    );
    let before = pptctl_in(
        &before_dir,
        &[
            "--root",
            "root",
            "--from",
            "snapshot:host.json",
            "--boot-media",
            "usbkey",
            "snapshot",
        ],
    );
    let after = pptctl_in(
        tmp.path(),
        &["--root", "root", "--from", "snapshot:host.json", "snapshot"],
    );
    let b = tmp.path().join("before-v2.json");
    let a = tmp.path().join("after-v2.json");
    std::fs::write(&b, &before).unwrap();
    std::fs::write(&a, &after).unwrap();
    let (code, out, err) = run(&["diff", "--expect", b.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 2 predicted bindings held"), "{out}");
    // One function missing from the after-state: exit 1, naming it.
    let mut doc: serde_json::Value = serde_json::from_str(&after).unwrap();
    doc["functions"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["address"] != "0000:01:00.1");
    let m = tmp.path().join("after-missing.json");
    std::fs::write(&m, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (code, out, _) = run(&["diff", "--expect", b.to_str().unwrap(), m.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("BROKEN 0000:01:00.1 10de:0be3: expected ppt, found missing"),
        "{out}"
    );
    // The reverse (before has no reservation on its media): nothing binds.
    let (code, out, _) = run(&["diff", "--expect", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    // A format 1 snapshot predicts nothing: a usage error, not a pass.
    let v1 = ex.join("host.json");
    let (code, _, err) = run(&[
        "diff",
        "--expect",
        v1.to_str().unwrap(),
        a.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    both_ingest_with_reservations_known(&b, &a);
}

/// The snapshots before and after the reboot ingest as format 2 with
/// their reservations known.
fn both_ingest_with_reservations_known(b: &Path, a: &Path) {
    for db in databases("expect") {
        let (code, out, err) = run(&[
            "fleet",
            "--db",
            &db.spec,
            "ingest",
            b.to_str().unwrap(),
            a.to_str().unwrap(),
        ]);
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
            (gpu["reserved"].as_i64(), gpu["ppt_now"].as_i64()),
            (Some(2), Some(1)),
            "{}",
            db.kind
        );
    }
}
