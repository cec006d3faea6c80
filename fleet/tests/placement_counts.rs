//! Placement read from the per-host counts kept at ingest gives the same
//! hosts, counts and devices as placement judged device by device
//! (`Fleet::place`, which reads the rows), on every configured backend,
//! through claims, releases and newer snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use fleet::{
    ingest_file, ClaimRequest, Constraint, DeviceSelector, Fleet, IngestOptions, PlaceQuery,
};
use support::{databases, host, random_gpus, write, Rng};

/// Host → (free devices, their addresses), as `hosts` answers.
type Answer = BTreeMap<String, (i64, Vec<String>)>;

const SELECTORS: [&str; 6] = ["10de:", "10de:0a65", "1002:", ":", "8086:", "::0300"];

fn by_counts(f: &mut Fleet, sel: &DeviceSelector, count: i64) -> Answer {
    let hosts = f.hosts(sel, count).unwrap();
    assert!(
        hosts
            .windows(2)
            .all(|w| (w[1].passable, &w[0].host) <= (w[0].passable, &w[1].host)),
        "most devices first, then by name"
    );
    hosts
        .into_iter()
        .map(|h| (h.host, (h.passable, h.devices)))
        .collect()
}

fn by_rows(f: &mut Fleet, sel: &DeviceSelector, count: i64) -> Answer {
    let q = PlaceQuery {
        selector: sel,
        count,
        constraint: Constraint::None,
        max_age: None,
        as_of: None,
    };
    f.place(&q)
        .unwrap()
        .hosts
        .into_iter()
        .map(|h| {
            let devs = h
                .devices
                .iter()
                .map(|d| d.pci_bus_id.trim_end_matches(".0").to_string())
                .collect();
            (h.host, (h.free, devs))
        })
        .collect()
}

/// Compares both ways for every selector and count; returns how many
/// host answers were compared.
fn agree(f: &mut Fleet, kind: &str, step: &str) -> usize {
    assert!(f.verify().unwrap().is_empty(), "{kind} {step}");
    let mut n = 0;
    for sel in SELECTORS {
        let parsed = DeviceSelector::parse(sel).unwrap();
        for count in 1..=4 {
            let (a, b) = (by_counts(f, &parsed, count), by_rows(f, &parsed, count));
            assert_eq!(a, b, "{kind} {step}: {sel} x{count}");
            n += a.len();
        }
    }
    n
}

fn now() -> i64 {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(t.as_secs()).unwrap()
}

#[test]
fn counts_and_rows_agree_through_claims_and_new_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xc0ffee);
    let names: Vec<String> = (0..30).map(|i| format!("cn{i:02}")).collect();
    let mut files = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let doc = host(name, "2026-11-01T00:00:00Z", &random_gpus(&mut rng));
        files.push(write(dir.path(), &format!("{i}-a.json"), &doc));
    }
    let newer: Vec<_> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(i, name)| {
            let doc = host(name, "2026-11-02T00:00:00Z", &random_gpus(&mut rng));
            write(dir.path(), &format!("{i}-b.json"), &doc)
        })
        .collect();
    let opts = IngestOptions::default();
    for db in databases("placement_counts") {
        let mut f = Fleet::open(&db.spec).unwrap();
        for p in &files {
            ingest_file(&mut f, p, &opts).unwrap();
        }
        assert!(agree(&mut f, db.kind, "ingested") > 40, "non-trivial fleet");
        let nv = DeviceSelector::parse("10de:").unwrap();
        let mut ids = Vec::new();
        for (k, count) in [1, 2, 1, 3, 1].into_iter().enumerate() {
            let holder = format!("vm-{k}");
            let req = ClaimRequest {
                selector: &nv,
                count,
                holder: &holder,
                ttl: None,
                host: None,
                generation: None,
                constraint: Constraint::None,
                client_time: now(),
            };
            ids.push(f.claim(&req).unwrap().id);
        }
        agree(&mut f, db.kind, "claimed");
        f.release(ids[1], Some("vm-1")).unwrap();
        agree(&mut f, db.kind, "one released");
        for p in &newer {
            ingest_file(&mut f, p, &opts).unwrap();
        }
        agree(&mut f, db.kind, "newer snapshots");
    }
}
