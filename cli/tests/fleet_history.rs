//! `pptctl fleet history --host/--device` on SQLite and (with
//! `PPTCTL_TEST_PG`) PostgreSQL: the device event log derived at ingest
//! from the example host before and after its reboot, claim and release
//! events, a device gone and one whose identity changed, a late older
//! snapshot that adds nothing, `--as-of`, and the snapshot listing of
//! `fleet history HOST` unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;
mod reboot_pair;

use std::path::Path;

use fleet_support::databases;
use reboot_pair::{before_after, function, named, run};
use serde_json::{json, Value};

const GPU: &str = "0000:01:00.0";
const AUDIO: &str = "0000:01:00.1";
const GPU_PATH: &str = "/pci@0,0/pci8086,151@1/display@0";

fn write(dir: &Path, name: &str, doc: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    p.display().to_string()
}

fn ingest(d: &str, file: &str) {
    let (code, out, err) = run(&["fleet", "--db", d, "ingest", file]);
    assert_eq!(code, 0, "{out}{err}");
}

/// (time, address, event, detail) of `fleet history ARGS --json`.
fn events(d: &str, args: &[&str]) -> Vec<(String, String, String, String)> {
    let mut all = vec!["fleet", "--db", d, "history"];
    all.extend(args);
    all.push("--json");
    let (code, out, err) = run(&all);
    assert_eq!(code, 0, "{args:?}: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            (s("time"), s("address"), s("event"), s("detail"))
        })
        .collect()
}

fn has(ev: &[(String, String, String, String)], time: &str, address: &str, event: &str) -> bool {
    ev.iter()
        .any(|e| e.0 == time && e.1 == address && e.2 == event)
}

#[test]
fn history_records_each_device_from_discovery_to_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = before_after(&tmp.path().join("ex"));
    let t = |h: u32| format!("2026-11-30T0{h}:00:00Z");
    let mut gone = named(&after, "cn", &t(3));
    gone["functions"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["address"] != AUDIO);
    function(&mut gone, GPU)["ids"]["revision"] = json!(0xa3);
    let files = [
        write(tmp.path(), "b.json", &named(&before, "cn", &t(1))),
        write(tmp.path(), "a.json", &named(&after, "cn", &t(2))),
        write(tmp.path(), "g.json", &gone),
        write(tmp.path(), "late.json", &named(&after, "cn", &t(0))),
    ];
    for db in databases("history") {
        let d = db.spec.as_str();
        ingest(d, &files[0]);
        ingest(d, &files[1]);
        claim_and_release(d, db.kind);
        ingest(d, &files[2]);
        let log = events(d, &["--host", "cn"]);
        check_log(&log, &t, db.kind);
        // An older snapshot ingested late is stored and adds no event.
        ingest(d, &files[3]);
        assert_eq!(events(d, &["--host", "cn"]), log, "{}", db.kind);
        check_device_and_as_of(d, &log, &t, db.kind);
        check_text_and_errors(d, db.kind);
    }
}

fn claim_and_release(d: &str, kind: &str) {
    let (code, out, err) = run(&[
        "fleet",
        "--db",
        d,
        "claim",
        "--can-pass",
        "10de:0a65",
        "--count",
        "1",
        "--for",
        "vm-7",
        "--json",
    ]);
    assert_eq!(code, 0, "{kind}: {out}{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["id"].to_string();
    let (code, out, err) = run(&["fleet", "--db", d, "release", &id, "--for", "vm-7"]);
    assert_eq!(code, 0, "{kind}: {out}{err}");
}

fn check_log(log: &[(String, String, String, String)], t: &dyn Fn(u32) -> String, kind: &str) {
    for (time, address, event) in [
        (t(1), GPU, "discovered"),
        (t(1), AUDIO, "discovered"),
        (t(1), GPU, "reserved"),
        (t(1), AUDIO, "reserved"),
        (t(2), GPU, "bound-to-ppt"),
        (t(2), AUDIO, "bound-to-ppt"),
        (t(3), GPU, "identity-changed"),
        (t(3), AUDIO, "missing"),
    ] {
        assert!(
            has(log, &time, address, event),
            "{kind}: {time} {address} {event}: {log:#?}"
        );
    }
    let claimed: Vec<_> = log
        .iter()
        .filter(|e| e.2 == "claimed" || e.2 == "released")
        .collect();
    assert_eq!(
        claimed.len(),
        4,
        "{kind}: both functions claimed, then released: {log:#?}"
    );
    assert!(
        claimed.iter().all(|e| e.3 == "vm-7"),
        "{kind}: the holder: {claimed:?}"
    );
    // Appended in time order.
    assert!(log.windows(2).all(|w| w[0].0 <= w[1].0), "{kind}: {log:#?}");
    let gpu_ppt = log
        .iter()
        .find(|e| e.1 == GPU && e.2 == "bound-to-ppt")
        .unwrap();
    assert_eq!(gpu_ppt.3, "/dev/ppt0", "{kind}");
}

fn check_device_and_as_of(
    d: &str,
    log: &[(String, String, String, String)],
    t: &dyn Fn(u32) -> String,
    kind: &str,
) {
    let gpu: Vec<_> = log.iter().filter(|e| e.1 == GPU).cloned().collect();
    assert_eq!(events(d, &["--device", "cn:0000:01:00.0"]), gpu, "{kind}");
    assert_eq!(events(d, &["--device", "cn:01:00.0"]), gpu, "{kind}");
    let by_path = format!("cn:{GPU_PATH}");
    assert_eq!(events(d, &["--device", &by_path]), gpu, "{kind}");
    let then = events(d, &["--host", "cn", "--as-of", &t(1)]);
    let want: Vec<_> = log.iter().filter(|e| e.0 == t(1)).cloned().collect();
    assert_eq!(then, want, "{kind}");
    assert!(
        then.iter()
            .all(|e| e.2 == "discovered" || e.2 == "reserved"),
        "{kind}: {then:?}"
    );
}

fn check_text_and_errors(d: &str, kind: &str) {
    let (code, out, _) = run(&["fleet", "--db", d, "history", "--device", "cn:01:00.1"]);
    assert_eq!(code, 0, "{kind}");
    assert!(
        out.starts_with("TIME\tADDRESS\tEVENT\tDETAIL\tPATH\n"),
        "{kind}: {out}"
    );
    assert!(
        out.contains("2026-11-30T03:00:00Z\t0000:01:00.1\tmissing\t-\t/pci@0,0/pci8086,151@1/pci1462,2291@0,1\n"),
        "{kind}: {out}"
    );
    // The positional form still lists the snapshots.
    let (code, out, _) = run(&["fleet", "--db", d, "history", "cn"]);
    assert_eq!(code, 0, "{kind}");
    assert!(
        out.starts_with("2026-11-30T00:00:00Z 4 functions  "),
        "{kind}: {out}"
    );
    for (args, what) in [
        (vec!["--device", "cn:zz:00.0"], "--device cn:zz:00.0"),
        (vec!["--host", "nosuch"], "nosuch"),
        (
            vec!["--host", "cn", "--as-of", "yesterday"],
            "--as-of yesterday",
        ),
        (vec!["cn", "--host", "cn"], "cannot be used with"),
    ] {
        let mut all = vec!["fleet", "--db", d, "history"];
        all.extend(&args);
        let (code, _, err) = run(&all);
        assert_eq!(code, 2, "{kind}: {args:?}: {err}");
        assert!(err.contains(what), "{kind}: {args:?}: {err}");
    }
}
