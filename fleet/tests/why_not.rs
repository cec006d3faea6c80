//! Placement that explains itself, on every configured backend: a reason
//! code for every host left out, `--max-age`, `--as-of`, and the topology
//! constraints (root complex from the devfs path, NUMA node from the
//! snapshot).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use fleet::time::parse_rfc3339;
use fleet::{ingest_file, ClaimRequest, Constraint, DeviceSelector, Fleet, PlaceQuery};
use serde_json::{json, Value};
use support::{databases, host, write, Gpu, BOOT, NV};

fn ingest(db: &mut Fleet, dir: &Path, file: &str, doc: &Value) {
    ingest_file(db, &write(dir, file, doc), &fleet::IngestOptions::default()).unwrap();
}

/// `doc` with GPU slot `k` (1-based) moved below root complex
/// `/pci@{root},0` and, when given, on NUMA node `numa`.
fn place_gpu(doc: &mut Value, k: usize, root: u32, numa: Option<u32>) {
    for f in doc["functions"].as_array_mut().unwrap() {
        let a = f["address"].as_str().unwrap().to_string();
        let slot = format!("0000:00:{k:02x}.0");
        let gpu = format!("0000:{k:02x}:00.");
        if a == slot || a.starts_with(&gpu) {
            let p = f["illumos"]["path"]
                .as_str()
                .unwrap()
                .replace("/pci@0,0", &format!("/pci@{root},0"));
            f["illumos"]["path"] = json!(p);
            if let Some(n) = numa.filter(|_| a.starts_with(&gpu)) {
                f["numa_node"] = json!(n);
            }
        }
    }
}

fn q(sel: &DeviceSelector, count: i64) -> PlaceQuery<'_> {
    PlaceQuery {
        selector: sel,
        count,
        constraint: Constraint::None,
        max_age: None,
        as_of: None,
    }
}

fn reasons(a: &fleet::PlaceAnswer) -> Vec<(String, &'static str)> {
    a.left_out
        .iter()
        .map(|l| (l.host.clone(), l.reason))
        .collect()
}

/// Six hosts, each left out of "2 NVIDIA devices below one root complex"
/// for a different reason but the first; `e-claimed`'s GPUs are claimed by
/// `team-x`.
fn mixed_fleet(db: &mut Fleet, d: &Path) {
    let amd = Gpu {
        vendor: 0x1002,
        boot: false,
    };
    let t = "2026-11-01T00:00:00Z";
    ingest(db, d, "a.json", &host("a-ok", t, &[NV, NV]));
    ingest(db, d, "b.json", &host("b-amd", t, &[amd]));
    ingest(db, d, "c.json", &host("c-boot", t, &[BOOT, NV]));
    let mut noiommu = host("d-noiommu", t, &[NV, NV]);
    noiommu["facts"]["iommu"]["present"] = json!(false);
    ingest(db, d, "d.json", &noiommu);
    ingest(db, d, "e.json", &host("e-claimed", t, &[NV, NV]));
    let mut split = host("f-split", t, &[NV, NV]);
    place_gpu(&mut split, 2, 1, None);
    ingest(db, d, "f.json", &split);
    let nv = DeviceSelector::parse("10de:").unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claim = ClaimRequest {
        selector: &nv,
        count: 2,
        holder: "team-x",
        ttl: None,
        host: Some("e-claimed"),
        generation: None,
        constraint: Constraint::None,
        client_time: i64::try_from(now).unwrap(),
    };
    db.claim(&claim).unwrap();
}

#[test]
fn every_host_left_out_has_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("why_not") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        mixed_fleet(&mut db, dir.path());
        let nv = DeviceSelector::parse("10de:").unwrap();
        let same = PlaceQuery {
            constraint: Constraint::SameRoot,
            ..q(&nv, 2)
        };
        let a = db.place(&same).unwrap();
        let hosts: Vec<&str> = a.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, vec!["a-ok"], "{}", tdb.kind);
        assert_eq!(
            reasons(&a),
            vec![
                ("b-amd".into(), "no-match"),
                ("c-boot".into(), "not-passable"),
                ("d-noiommu".into(), "not-passable"),
                ("e-claimed".into(), "claimed"),
                ("f-split".into(), "constraint"),
            ],
            "{}",
            tdb.kind
        );
        let detail = |h: &str| {
            a.left_out
                .iter()
                .find(|l| l.host == h)
                .unwrap()
                .detail
                .clone()
        };
        assert!(
            detail("c-boot").contains("host-critical"),
            "{}",
            detail("c-boot")
        );
        assert!(
            detail("d-noiommu").contains("iommu"),
            "{}",
            detail("d-noiommu")
        );
        assert!(
            detail("e-claimed").contains("claimed by team-x"),
            "{}",
            detail("e-claimed")
        );
        assert!(
            detail("f-split").contains("root complex"),
            "{}",
            detail("f-split")
        );
    }
}

#[test]
fn dra_attributes_spread_and_max_age() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("why_spread") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        mixed_fleet(&mut db, dir.path());
        let nv = DeviceSelector::parse("10de:").unwrap();
        let a = db.place(&q(&nv, 2)).unwrap();
        let j = serde_json::to_value(&a.hosts[0]).unwrap();
        assert_eq!(j["host"], "a-ok", "{}", tdb.kind);
        assert_eq!(j["pick"][0]["pciBusID"], "0000:01:00.0");
        assert_eq!(j["pick"][0]["pcieRoot"], "/pci@0,0");
        assert_eq!(j["pick"][0]["numaNode"], Value::Null);
        // Spread wants each device below its own root: only f-split has two.
        let spread = PlaceQuery {
            constraint: Constraint::SpreadRoot,
            ..q(&nv, 2)
        };
        let a = db.place(&spread).unwrap();
        let hosts: Vec<&str> = a.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(hosts, vec!["f-split"], "{}", tdb.kind);
        // Every snapshot is old against --max-age 1d.
        let fresh = PlaceQuery {
            max_age: Some(86_400),
            ..q(&nv, 1)
        };
        let a = db.place(&fresh).unwrap();
        assert!(a.hosts.is_empty());
        assert!(
            a.left_out.iter().all(|l| l.reason == "stale"),
            "{:?}",
            reasons(&a)
        );
    }
}

#[test]
fn numa_and_as_of() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("why_numa") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        let d = dir.path();
        let mut h = host("numa", "2026-11-01T00:00:00Z", &[NV, NV, NV]);
        place_gpu(&mut h, 1, 0, Some(0));
        place_gpu(&mut h, 2, 1, Some(1));
        place_gpu(&mut h, 3, 1, Some(1));
        ingest(&mut db, d, "n1.json", &h);
        // A day later one GPU is gone.
        ingest(
            &mut db,
            d,
            "n2.json",
            &host("numa", "2026-11-02T00:00:00Z", &[NV, NV]),
        );
        ingest(
            &mut db,
            d,
            "late.json",
            &host("late", "2026-11-03T00:00:00Z", &[NV, NV, NV]),
        );
        let nv = DeviceSelector::parse("10de:").unwrap();
        let then = parse_rfc3339("2026-11-01T12:00:00Z");
        let past = PlaceQuery {
            as_of: then,
            constraint: Constraint::SameNuma,
            ..q(&nv, 2)
        };
        let a = db.place(&past).unwrap();
        assert_eq!(a.hosts.len(), 1, "{}: `late` did not exist then", tdb.kind);
        let picked: Vec<_> = a.hosts[0]
            .pick
            .iter()
            .map(|p| (p.pci_bus_id.as_str(), p.numa_node))
            .collect();
        assert_eq!(
            picked,
            vec![("0000:02:00.0", Some(1)), ("0000:03:00.0", Some(1))]
        );
        let now = db
            .place(&PlaceQuery {
                constraint: Constraint::SameNuma,
                ..q(&nv, 2)
            })
            .unwrap();
        assert!(
            now.hosts.is_empty(),
            "{}: no NUMA node recorded now",
            tdb.kind
        );
        assert!(now
            .left_out
            .iter()
            .all(|l| l.reason == "constraint" && l.detail.contains("unknown")));
        let a = db
            .place(&PlaceQuery {
                as_of: then,
                ..q(&nv, 3)
            })
            .unwrap();
        assert_eq!(a.hosts[0].free, 3);
        assert_eq!(db.place(&q(&nv, 3)).unwrap().hosts.len(), 1);
    }
}
