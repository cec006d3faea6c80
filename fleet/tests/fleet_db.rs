//! The fleet database end to end on every configured backend (SQLite
//! always, PostgreSQL with `PPTCTL_TEST_PG`): placement against an
//! independent computation, re-ingest, history, hostile files, concurrent
//! ingests and the schema 1 → 2 upgrade.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fleet::{ingest_file, ingest_paths, DeviceSelector, FileOutcome, Fleet, IngestOptions};
use pci_core::sources::filter::IdFilter;
use pci_core::sources::snapshot::parse_snapshot;
use ppt_config::viability::{self, Plan, Verdict};
use support::{databases, host, random_gpus, write, Gpu, Rng, NV};

/// A generated fleet on disk: files, and per host the file of its latest
/// snapshot.
struct Generated {
    dir: tempfile::TempDir,
    latest: BTreeMap<String, PathBuf>,
    files: usize,
}

fn generate(hosts: usize, seed: u64) -> Generated {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let mut latest = BTreeMap::new();
    let mut files = 0;
    for i in 0..hosts {
        let name = format!("cn{i:03}");
        // Some hosts have an older snapshot too; placement must use the newest.
        let versions = 1 + rng.below(3);
        for v in 0..versions {
            let time = format!("2026-11-{:02}T10:00:00Z", 1 + v);
            let mut doc = host(&name, &time, &random_gpus(&mut rng));
            if rng.below(6) == 0 {
                // No IOMMU: the host fails, so none of its devices counts.
                doc["facts"]["iommu"]["present"] = serde_json::json!(false);
            }
            let p = write(dir.path(), &format!("{name}-{v}.json"), &doc);
            files += 1;
            latest.insert(name.clone(), p);
        }
    }
    Generated { dir, latest, files }
}

/// Placement computed without the fleet crate: parse each host's latest
/// snapshot, run the viability check on every function, group functions
/// into devices (address without the function number), and count the
/// devices that have a function matching the selector and no failing
/// function; a host that fails the check itself (no IOMMU) has none.
fn independent(latest: &BTreeMap<String, PathBuf>, sel: &str) -> BTreeMap<String, usize> {
    let filter = IdFilter::parse(sel).unwrap();
    let mut out = BTreeMap::new();
    for (name, path) in latest {
        let host = parse_snapshot(&std::fs::read(path).unwrap(), "x").unwrap();
        let plan = Plan {
            selected: host.functions.iter().map(|f| f.address).collect(),
            ..Default::default()
        };
        let report = viability::evaluate(&host, &plan);
        let mut devices: BTreeMap<String, (bool, bool)> = BTreeMap::new();
        for f in &host.functions {
            let a = f.address;
            let key = format!("{:04x}:{:02x}:{:02x}", a.domain, a.bus, a.device);
            let fails = report
                .functions
                .iter()
                .find(|r| r.slot == a.to_string())
                .is_some_and(|r| r.verdict == Verdict::Fail);
            let e = devices.entry(key).or_insert((false, true));
            e.0 |= filter.matches(&f.ids);
            e.1 &= !fails;
        }
        let n = if report.host.verdict == Verdict::Fail {
            0
        } else {
            devices.values().filter(|(m, ok)| *m && *ok).count()
        };
        out.insert(name.clone(), n);
    }
    out
}

#[test]
fn placement_equals_an_independent_computation() {
    let g = generate(40, 0x5eed);
    for db in databases("placement") {
        let mut f = Fleet::open(&db.spec).unwrap();
        let sum = ingest_paths(
            &mut f,
            &[g.dir.path().to_path_buf()],
            &IngestOptions::default(),
            &mut |_, _| {},
        )
        .unwrap();
        assert_eq!(sum.stored, g.files, "{}", db.kind);
        assert_eq!(sum.refused, 0);
        assert!(f.verify().unwrap().is_empty(), "{}", db.kind);
        let mut checked = 0;
        for sel in [
            "10de:",
            "10de:0a65",
            "1002:",
            "::0300",
            "::03",
            "::0403",
            ":",
            "8086:",
        ] {
            let truth = independent(&g.latest, sel);
            let parsed = DeviceSelector::parse(sel).unwrap();
            for count in 1..=4 {
                let got: BTreeMap<String, usize> = f
                    .hosts(&parsed, count)
                    .unwrap()
                    .into_iter()
                    .map(|h| (h.host, usize::try_from(h.passable).unwrap()))
                    .collect();
                let want: BTreeMap<String, usize> = truth
                    .iter()
                    .filter(|(_, n)| **n >= count as usize)
                    .map(|(h, n)| (h.clone(), *n))
                    .collect();
                assert_eq!(got, want, "{} {sel} x{count}", db.kind);
                checked += want.len();
                for (h, n) in &truth {
                    let e = f.explain(h, &parsed, count).unwrap();
                    assert_eq!(
                        e.qualifies,
                        *n >= count as usize,
                        "{} {h} {sel} x{count}: {}",
                        db.kind,
                        e.why
                    );
                }
            }
        }
        assert!(
            checked > 20,
            "the generated fleet must give non-trivial answers"
        );
        // Ranked: most passable devices first.
        let ranked = f
            .hosts(&DeviceSelector::parse("10de:").unwrap(), 1)
            .unwrap();
        assert!(ranked.windows(2).all(|w| w[0].passable >= w[1].passable));
    }
}

fn counts(f: &mut Fleet) -> Vec<(String, i64)> {
    f.table_counts().unwrap()
}

#[test]
fn reingest_is_a_no_op_and_history_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let nv = NV;
    let a = write(
        dir.path(),
        "a1.json",
        &host("a", "2026-11-01T00:00:00Z", &[nv]),
    );
    let b = write(
        dir.path(),
        "a2.json",
        &host("a", "2026-11-03T00:00:00Z", &[nv, nv]),
    );
    // Ingested out of time order: the newest by time is still "latest".
    let c = write(
        dir.path(),
        "a0.json",
        &host("a", "2026-10-01T00:00:00Z", &[]),
    );
    for db in databases("reingest") {
        let mut f = Fleet::open(&db.spec).unwrap();
        for p in [&a, &b, &c] {
            assert!(matches!(
                ingest_file(&mut f, p, &IngestOptions::default()).unwrap(),
                FileOutcome::Stored { .. }
            ));
        }
        let before = counts(&mut f);
        for p in [&a, &b, &c] {
            assert!(
                matches!(
                    ingest_file(&mut f, p, &IngestOptions::default()).unwrap(),
                    FileOutcome::Unchanged
                ),
                "{}",
                db.kind
            );
        }
        assert_eq!(counts(&mut f), before);
        let h = f.history("a").unwrap();
        let times: Vec<&str> = h.iter().map(|e| e.time.as_str()).collect();
        assert_eq!(
            times,
            [
                "2026-10-01T00:00:00Z",
                "2026-11-01T00:00:00Z",
                "2026-11-03T00:00:00Z"
            ]
        );
        let hosts = f
            .hosts(&DeviceSelector::parse("10de:").unwrap(), 2)
            .unwrap();
        assert_eq!(hosts.len(), 1, "{}", db.kind);
        assert_eq!(hosts[0].snapshot_time, "2026-11-03T00:00:00Z");
        let rows = f.snapshot_functions(h[2].id).unwrap();
        assert_eq!(rows.len(), 1 + 3 * 2);
        assert!(f.verify().unwrap().is_empty());
        assert!(matches!(
            f.history("nope"),
            Err(fleet::FleetError::NoHost(_))
        ));
    }
}

/// Variants of a good snapshot that must be refused.
fn hostile(dir: &Path) -> Vec<PathBuf> {
    let good = serde_json::to_vec_pretty(&host(
        "bad",
        "2026-11-01T00:00:00Z",
        &[Gpu {
            vendor: 0x10de,
            boot: false,
        }],
    ))
    .unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let mut out = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        out.push(p);
    };
    for cut in [1, good.len() / 3, good.len() / 2, good.len() - 2] {
        put(&format!("truncated-{cut}.json"), good[..cut].to_vec());
    }
    put(
        "wrong-version.json",
        text.replace("pptctl-snapshot/1", "pptctl-snapshot/7")
            .into_bytes(),
    );
    put(
        "no-format.json",
        text.replace("\"format\"", "\"formaat\"").into_bytes(),
    );
    put(
        "bad-address.json",
        text.replacen("\"0000:01:00.0\"", "\"0000:01:00.9\"", 1)
            .into_bytes(),
    );
    put(
        "duplicate-function.json",
        text.replacen("\"0000:01:00.1\"", "\"0000:01:00.0\"", 1)
            .into_bytes(),
    );
    put(
        "bad-time.json",
        text.replace("2026-11-01T00:00:00Z", "yesterday")
            .into_bytes(),
    );
    put(
        "bad-hex.json",
        text.replacen("\"config\": \"86", "\"config\": \"zz", 1)
            .into_bytes(),
    );
    put(
        "empty-name.json",
        text.replace("\"name\": \"bad\"", "\"name\": \"\"")
            .into_bytes(),
    );
    put("binary.json", vec![0xff, 0xfe, 0x00, 0x01]);
    // Byte mutations at spread positions: each is refused, or (when the
    // flip lands in a free-text value) stored whole; never half.
    let mut rng = Rng(7);
    for i in 0..12 {
        let mut m = good.clone();
        let at = usize::try_from(rng.below(m.len() as u64)).unwrap();
        m[at] = match m[at] {
            b'"' => b'x',
            b'{' | b'[' => b'(',
            _ => b'"',
        };
        put(&format!("mutated-{i}.json"), m);
    }
    out
}

#[test]
fn hostile_files_are_refused_by_name_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = hostile(dir.path());
    let ok = write(
        dir.path(),
        "ok.json",
        &host("fine", "2026-11-01T00:00:00Z", &[]),
    );
    for db in databases("hostile") {
        let mut f = Fleet::open(&db.spec).unwrap();
        assert!(matches!(
            ingest_file(&mut f, &ok, &IngestOptions::default()).unwrap(),
            FileOutcome::Stored { .. }
        ));
        let mut refused = 0;
        for p in &files {
            let before = counts(&mut f);
            match ingest_file(&mut f, p, &IngestOptions::default()).unwrap() {
                FileOutcome::Refused(e) => {
                    refused += 1;
                    let msg = e.to_string();
                    assert!(msg.contains(&p.display().to_string()), "{msg}");
                    assert_eq!(counts(&mut f), before, "{} {}", db.kind, p.display());
                }
                FileOutcome::Stored { .. } => {
                    assert!(
                        p.display().to_string().contains("mutated"),
                        "{} stored",
                        p.display()
                    );
                }
                FileOutcome::Unchanged => panic!("{} unchanged", p.display()),
                FileOutcome::Skipped(why) => panic!("{} skipped: {why}", p.display()),
            }
            assert!(f.verify().unwrap().is_empty());
        }
        assert!(refused >= 13, "{refused}");
        // A directory with bad and good files: the good ones are stored.
        let other = write(
            dir.path(),
            "ok2.json",
            &host("fine2", "2026-11-01T00:00:00Z", &[]),
        );
        let mut named = Vec::new();
        let sum = ingest_paths(
            &mut f,
            &[dir.path().to_path_buf()],
            &IngestOptions::default(),
            &mut |p, o| {
                if let FileOutcome::Refused(_) = o {
                    named.push(p.to_path_buf());
                }
            },
        )
        .unwrap();
        assert!(sum.refused >= 13 && named.len() == sum.refused);
        assert_eq!(f.history("fine2").unwrap().len(), 1, "{}", db.kind);
        std::fs::remove_file(other).unwrap();
    }
}

#[test]
fn concurrent_ingests_stay_consistent() {
    let g = generate(24, 99);
    for db in databases("concurrent") {
        Fleet::open(&db.spec).unwrap();
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let spec = db.spec.clone();
                let dir = g.dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let mut f = Fleet::open(&spec).unwrap();
                    ingest_paths(&mut f, &[dir], &IngestOptions::default(), &mut |_, _| {}).unwrap()
                })
            })
            .collect();
        let sums: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let stored: usize = sums.iter().map(|s| s.stored).sum();
        assert_eq!(
            stored, g.files,
            "{}: each file stored exactly once",
            db.kind
        );
        let mut f = Fleet::open(&db.spec).unwrap();
        assert!(f.verify().unwrap().is_empty(), "{}", db.kind);
        let snaps = counts(&mut f)
            .into_iter()
            .find(|(t, _)| t == "snapshots")
            .unwrap()
            .1;
        assert_eq!(snaps as usize, g.files);
    }
}

#[test]
fn old_databases_upgrade_in_place_with_nothing_lost() {
    let g = generate(15, 3);
    // Version 1 (before device rows), version 2 (before the placement
    // table) and version 5 (before the per-host counts): each upgrade
    // backfills what placement reads.
    for (db, start) in databases("migrate1")
        .into_iter()
        .map(|d| (d, 1))
        .chain(databases("migrate2").into_iter().map(|d| (d, 2)))
        .chain(databases("migrate5").into_iter().map(|d| (d, 5)))
    {
        let (before, hist) = {
            let mut f = Fleet::open_at_version(&db.spec, start).unwrap();
            assert_eq!(f.version(), start);
            ingest_paths(
                &mut f,
                &[g.dir.path().to_path_buf()],
                &IngestOptions::default(),
                &mut |_, _| {},
            )
            .unwrap();
            let hist: Vec<_> = g.latest.keys().map(|h| f.history(h).unwrap()).collect();
            (counts(&mut f), hist)
        };
        let mut f = Fleet::open(&db.spec).unwrap();
        assert_eq!(f.version(), fleet::schema::LATEST);
        let after = counts(&mut f);
        assert_eq!(&after[..before.len()], &before[..], "{}", db.kind);
        let hist2: Vec<_> = g.latest.keys().map(|h| f.history(h).unwrap()).collect();
        assert_eq!(hist, hist2);
        // Migrations 2 and 3 backfilled the device and placement rows:
        // placement works on old data.
        assert!(f.verify().unwrap().is_empty(), "{}", db.kind);
        let truth = independent(&g.latest, "10de:");
        let got: BTreeMap<String, usize> = f
            .hosts(&DeviceSelector::parse("10de:").unwrap(), 1)
            .unwrap()
            .into_iter()
            .map(|h| (h.host, h.passable as usize))
            .collect();
        let want: BTreeMap<String, usize> = truth.into_iter().filter(|(_, n)| *n >= 1).collect();
        assert_eq!(got, want);
        // Reopening is idempotent.
        drop(f);
        assert_eq!(
            Fleet::open(&db.spec).unwrap().version(),
            fleet::schema::LATEST
        );
    }
}
