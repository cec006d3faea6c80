//! Every warn and fail finding of each function is stored (schema 6,
//! `functions.reasons`), on SQLite and (with `PPTCTL_TEST_PG`)
//! PostgreSQL: what the check finds is what a stored row reads back; rows
//! stored before schema 6 read as "not recorded" and keep their
//! `fail_reason`; and the answers that read `fail_reason` (history's
//! changes, devices, verify, placement) do not change with the new column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fleet::diff::diff_functions;
use fleet::schema::LATEST;
use fleet::{ingest_paths, DeviceSelector, Finding, Fleet, IngestOptions};
use ppt_config::viability::{self, Plan, Severity};
use support::{databases, host, write, BOOT, NV};

/// The check's own warn and fail findings of every function of `file`,
/// by address: asked of the library, not of the fleet.
fn checked(file: &Path) -> BTreeMap<String, Vec<Finding>> {
    let bytes = std::fs::read(file).unwrap();
    let h = pci_core::sources::snapshot::parse_snapshot(&bytes, "test").unwrap();
    let plan = Plan {
        selected: h.functions.iter().map(|f| f.address).collect(),
        ..Default::default()
    };
    viability::evaluate(&h, &plan)
        .functions
        .iter()
        .map(|f| {
            let found = f
                .reasons
                .iter()
                .filter(|r| r.severity != Severity::Info)
                .map(|r| Finding {
                    severity: r.severity.as_str().to_string(),
                    code: r.code.to_string(),
                    message: r.message.clone(),
                })
                .collect();
            (f.slot.clone(), found)
        })
        .collect()
}

fn ingest(f: &mut Fleet, files: &[PathBuf]) {
    let s = ingest_paths(f, files, &IngestOptions::default(), &mut |_, _| {}).unwrap();
    assert_eq!(s.refused, 0);
}

/// The stored rows of `host`'s latest snapshot.
fn latest_rows(f: &mut Fleet, host: &str) -> Vec<fleet::FunctionRow> {
    let l = f
        .latest_snapshots()
        .unwrap()
        .into_iter()
        .find(|l| l.host == host)
        .unwrap();
    f.snapshot_functions(l.id).unwrap()
}

#[test]
fn every_warn_and_fail_finding_is_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[BOOT, NV]),
    );
    let want = checked(&file);
    // The host gives the test something to store: a failing function
    // with warnings besides, and a warn-only one.
    assert!(want.values().any(|r| r.len() >= 2
        && r.iter().any(|x| x.severity == "fail")
        && r.iter().any(|x| x.severity == "warn")));
    assert!(want
        .values()
        .any(|r| !r.is_empty() && r.iter().all(|x| x.severity == "warn")));
    for db in databases("findings") {
        let mut f = Fleet::open(&db.spec).unwrap();
        assert_eq!(f.version(), LATEST);
        ingest(&mut f, std::slice::from_ref(&file));
        let rows = latest_rows(&mut Fleet::open_read(&db.spec).unwrap(), "alpha");
        assert_eq!(rows.len(), want.len(), "{}", db.kind);
        for r in &rows {
            let stored = r.reasons.as_ref().expect("stored from schema 6 on");
            assert_eq!(
                Some(stored),
                want.get(&r.address),
                "{} {}",
                db.kind,
                r.address
            );
            // fail_reason stays the first failing one of the same list.
            let first_fail = stored
                .iter()
                .find(|x| x.severity == "fail")
                .map(|x| format!("{}: {}", x.code, x.message));
            assert_eq!(r.fail_reason, first_fail, "{} {}", db.kind, r.address);
        }
    }
}

#[test]
fn rows_stored_before_schema_6_keep_fail_reason_and_read_as_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let old = write(
        dir.path(),
        "old.json",
        &host("old", "2026-11-01T00:00:00Z", &[BOOT]),
    );
    let new = write(
        dir.path(),
        "new.json",
        &host("new", "2026-11-01T00:00:00Z", &[BOOT]),
    );
    for db in databases("findings_old") {
        let mut f = Fleet::open_at_version(&db.spec, 5).unwrap();
        ingest(&mut f, std::slice::from_ref(&old));
        drop(f);
        let mut f = Fleet::open(&db.spec).unwrap();
        assert_eq!(f.version(), 6, "{}: the upgrade reached 6", db.kind);
        ingest(&mut f, std::slice::from_ref(&new));
        let mut f = Fleet::open_read(&db.spec).unwrap();
        let before = latest_rows(&mut f, "old");
        let after = latest_rows(&mut f, "new");
        assert!(before.iter().all(|r| r.reasons.is_none()), "{}", db.kind);
        assert!(
            before.iter().any(|r| r.fail_reason.is_some()),
            "{}",
            db.kind
        );
        assert!(after.iter().all(|r| r.reasons.is_some()), "{}", db.kind);
        // Apart from the new column the two hosts' rows are the same.
        let strip = |rows: Vec<fleet::FunctionRow>| -> Vec<_> {
            rows.into_iter()
                .map(|mut r| {
                    r.reasons = None;
                    r
                })
                .collect()
        };
        assert_eq!(strip(before), strip(after), "{}", db.kind);
    }
}

/// What the readers of `fail_reason` and the function rows answer.
fn answers(f: &mut Fleet, hosts: &[&str]) -> String {
    let mut out = format!(
        "{:?}\n{:?}\n",
        f.devices().unwrap(),
        f.verify_reboots(None).unwrap()
    );
    let sel = DeviceSelector::parse("10de:").unwrap();
    out.push_str(&format!("{:?}\n", f.hosts(&sel, 1).unwrap()));
    for h in hosts {
        let ids: Vec<i64> = f.history(h).unwrap().iter().map(|e| e.id).collect();
        for w in ids.windows(2) {
            let (a, b) = (
                f.snapshot_functions(w[0]).unwrap(),
                f.snapshot_functions(w[1]).unwrap(),
            );
            for c in diff_functions(&a, &b) {
                out.push_str(&format!("{h} {c}\n"));
            }
        }
    }
    out
}

#[test]
fn answers_that_read_fail_reason_do_not_change_with_schema_6() {
    let dir = tempfile::tempdir().unwrap();
    // alpha: a GPU that moves onto the boot path (warn -> fail) and back.
    let files: Vec<PathBuf> = [
        ("a1.json", "alpha", "2026-11-01T00:00:00Z", vec![NV, NV]),
        ("a2.json", "alpha", "2026-11-02T00:00:00Z", vec![BOOT, NV]),
        ("a3.json", "alpha", "2026-11-03T00:00:00Z", vec![NV, NV]),
        ("b1.json", "beta", "2026-11-01T00:00:00Z", vec![BOOT]),
    ]
    .iter()
    .map(|(file, name, time, gpus)| write(dir.path(), file, &host(name, time, gpus)))
    .collect();
    for (v5, v6) in databases("findings_v5")
        .into_iter()
        .zip(databases("findings_v6"))
    {
        let mut old = Fleet::open_at_version(&v5.spec, 5).unwrap();
        ingest(&mut old, &files);
        let at5 = answers(&mut old, &["alpha", "beta"]);
        drop(old);
        let mut new = Fleet::open(&v6.spec).unwrap();
        ingest(&mut new, &files);
        let at6 = answers(&mut new, &["alpha", "beta"]);
        assert!(
            at6.contains("verdict: warn -> fail (host-critical"),
            "{at6}"
        );
        assert_eq!(at5, at6, "{}", v5.kind);
        let upgraded = answers(&mut Fleet::open(&v5.spec).unwrap(), &["alpha", "beta"]);
        assert_eq!(upgraded, at6, "{}: after the upgrade", v5.kind);
    }
}
