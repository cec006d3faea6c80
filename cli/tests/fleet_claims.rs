//! `pptctl fleet claim`, `release`, `claims` and `hosts --why-not` as a
//! user runs them, on SQLite and (with `PPTCTL_TEST_PG`) PostgreSQL: exit
//! codes, messages, the database unchanged after each refusal, and a VM
//! named when it holds a device.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::run;

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use fleet_support::{databases, host, write, NV};
use serde_json::json;

fn fleet_dir(dir: &Path) {
    write(
        dir,
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[NV, NV, NV]),
    );
    write(dir, "b.json", &host("beta", "2026-11-01T00:00:00Z", &[NV]));
}

/// What a refusal must leave unchanged: every claim, expired and released too.
fn all_claims(d: &str) -> String {
    let (code, out, err) = run(&["fleet", "--db", d, "claims", "--all", "--json"]);
    assert_eq!(code, 0, "{err}");
    out
}

/// Each bad request gets its message and exit code, and the claims stay
/// as they were; `id` is vm-a's live claim.
fn refusals_change_nothing(d: &str, id: &str, kind: &str) {
    let before = all_claims(d);
    let refusals: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["claim", "--for", "bad\u{7}holder"],
            2,
            "control characters",
        ),
        (
            vec!["claim", "--for", "x", "--ttl", "tomorrow"],
            2,
            "not a duration",
        ),
        (
            vec!["claim", "--for", "x", "--ttl", "2020-01-01T00:00:00Z"],
            2,
            "not after now",
        ),
        (
            vec!["claim", "--for", "x", "--host", "vanished"],
            1,
            "no host named `vanished`",
        ),
        (
            vec!["claim", "--for", "x", "--can-pass", "10de:", "--count", "3"],
            1,
            "no host can give 3",
        ),
        (vec!["release", id, "--for", "vm-b"], 1, "not \"vm-b\""),
        (vec!["release", "4242"], 1, "no claim 4242"),
        (
            vec!["release", "--for", "nobody"],
            1,
            "nobody holds no live claim",
        ),
    ];
    for (args, want_code, want) in refusals {
        let mut full = vec!["fleet", "--db", d];
        full.extend(&args);
        let (code, out, err) = run(&full);
        assert_eq!(code, want_code, "{}: {args:?}: {out}{err}", kind);
        assert!(err.contains(want), "{}: {args:?}: {err}", kind);
        assert_eq!(
            all_claims(d),
            before,
            "{}: {args:?} changed the database",
            kind
        );
    }
}

#[test]
fn claim_release_and_list_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    fleet_dir(dir.path());
    for db in databases("cli_claims") {
        let d = db.spec.as_str();
        let (code, _, err) = run(&["fleet", "--db", d, "ingest", dir.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = run(&[
            "fleet",
            "--db",
            d,
            "claim",
            "--can-pass",
            "10de:",
            "--count",
            "2",
            "--for",
            "vm-a",
            "--ttl",
            "2h",
            "--json",
        ]);
        assert_eq!(code, 0, "{}: {err}", db.kind);
        let c: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(c["host"], "alpha");
        assert_eq!(c["devices"], json!(["0000:01:00", "0000:02:00"]));
        assert!(c["expires"].is_string());
        let id = c["id"].as_i64().unwrap().to_string();
        // Placement counts the claimed devices as taken.
        let (_, out, _) = run(&[
            "fleet",
            "--db",
            d,
            "hosts",
            "--can-pass",
            "10de:",
            "--count",
            "2",
        ]);
        assert!(!out.contains("alpha"), "{out}");
        let (code, out, _) = run(&["fleet", "--db", d, "claims"]);
        assert_eq!(code, 0);
        assert!(
            out.starts_with("CLAIM\tHOLDER\tHOST\tDEVICES\tEXPIRES\tSTATE\n"),
            "{out}"
        );
        assert!(
            out.contains("\tvm-a\talpha\t0000:01:00,0000:02:00\t") && out.contains("\tlive\n"),
            "{out}"
        );
        refusals_change_nothing(d, &id, db.kind);
        let (code, out, err) = run(&["fleet", "--db", d, "release", &id, "--for", "vm-a"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("\treleased\n"), "{out}");
        let (_, out, _) = run(&[
            "fleet",
            "--db",
            d,
            "hosts",
            "--can-pass",
            "10de:",
            "--count",
            "2",
        ]);
        assert!(out.contains("alpha"), "{out}");
    }
}

/// `--explain` agrees with placement: a claimed device is taken, and the
/// explanation names the holder.
#[test]
fn explain_names_the_claim_that_takes_a_device() {
    let dir = tempfile::tempdir().unwrap();
    fleet_dir(dir.path());
    for db in databases("cli_explain_claims") {
        let d = db.spec.as_str();
        let (code, _, err) = run(&["fleet", "--db", d, "ingest", dir.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let explain = [
            "hosts",
            "--can-pass",
            "10de:",
            "--count",
            "2",
            "--explain",
            "alpha",
        ];
        let (code, out, err) = run(&[&["fleet", "--db", d][..], &explain].concat());
        assert_eq!(
            code, 0,
            "{}: before the claim alpha qualifies: {out}{err}",
            db.kind
        );
        // alpha has three GPUs: two claimed leave one.
        let claim = [
            "claim",
            "--can-pass",
            "10de:",
            "--count",
            "2",
            "--for",
            "vm-a",
            "--host",
            "alpha",
        ];
        let (code, _, err) = run(&[&["fleet", "--db", d][..], &claim].concat());
        assert_eq!(code, 0, "{}: {err}", db.kind);
        let (code, out, _) = run(&[&["fleet", "--db", d][..], &explain].concat());
        assert_eq!(
            code, 1,
            "{}: two of three devices are claimed: {out}",
            db.kind
        );
        assert!(out.contains("is claimed by vm-a"), "{out}");
        assert!(out.contains("passes, claimed by vm-a"), "{out}");
        let (_, out, _) = run(&[&["fleet", "--db", d][..], &explain, &["--json"]].concat());
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let holders: Vec<&str> = j["devices"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["claimed_by"].as_str())
            .collect();
        assert_eq!(holders, ["vm-a", "vm-a"], "{out}");
    }
}

#[test]
fn a_claim_never_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let d = db.to_str().unwrap();
    for args in [
        vec!["claim", "--for", "x"],
        vec!["claims"],
        vec!["release", "1"],
    ] {
        let mut full = vec!["fleet", "--db", d];
        full.extend(&args);
        let (code, _, err) = run(&full);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("no fleet database at"), "{err}");
        assert!(!db.exists(), "{args:?} created {d}");
    }
}

#[test]
fn why_not_names_the_vm_that_uses_a_device() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018");
    let out = Command::cargo_bin("pptctl")
        .unwrap()
        .current_dir(ex.join("before"))
        .args(["--from", "snapshot:host.json", "--root", "root", "snapshot"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut snap: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uuid = "5e1c4a1e-93b2-4b8b-9a62-0c4c4b1e2f10";
    snap["host"]["name"] = json!("vmhost");
    snap["vms"] = json!({"state": "known", "reason": null, "zones": [{
        "name": uuid, "file": format!("/etc/zones/{uuid}.xml"),
        "pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": null}]
    }]});
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "vmhost.json", &snap);
    for db in databases("cli_why") {
        let d = db.spec.as_str();
        let (code, _, err) = run(&["fleet", "--db", d, "ingest", p.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = run(&[
            "fleet",
            "--db",
            d,
            "hosts",
            "--can-pass",
            "10de:",
            "--why-not",
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with("vmhost\t-\tin-use: 0 of 1 free; 0000:01:00 used by VM "),
            "{}: {out}",
            db.kind
        );
        assert!(out.contains(uuid), "{out}");
        let (code, _, err) = run(&["fleet", "--db", d, "hosts", "--max-age", "soon"]);
        assert_eq!(code, 2);
        assert!(err.contains("--max-age soon"), "{err}");
    }
}
