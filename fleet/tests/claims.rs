//! Claims on every configured backend (SQLite always, PostgreSQL with
//! `PPTCTL_TEST_PG`): whole devices taken atomically, placement counting
//! them, refusals leaving the database unchanged, the generation check,
//! expiry, and concurrent claimers never sharing a device.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fleet::{ingest_file, ClaimError, ClaimRequest, Constraint, DeviceSelector, Fleet, PlaceQuery};
use support::{databases, host, write, NV};

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn req<'a>(sel: &'a DeviceSelector, count: i64, holder: &'a str) -> ClaimRequest<'a> {
    ClaimRequest {
        selector: sel,
        count,
        holder,
        ttl: None,
        host: None,
        generation: None,
        constraint: Constraint::None,
        client_time: now(),
    }
}

fn ingest(db: &mut Fleet, dir: &Path, file: &str, doc: &serde_json::Value) {
    let p = write(dir, file, doc);
    // Ingest refuses snapshots dated in the future by default; the claim
    // refusal of such a host is what some tests check, so they get in.
    let opts = fleet::IngestOptions {
        max_future_skew: i64::MAX / 2,
        ..fleet::IngestOptions::default()
    };
    ingest_file(db, &p, &opts).unwrap();
}

/// Everything a refusal must leave as it was.
fn state(db: &mut Fleet) -> (Vec<(String, i64)>, Vec<fleet::Claim>) {
    (db.table_counts().unwrap(), db.claims(None, true).unwrap())
}

#[test]
fn claims_take_whole_devices_and_placement_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("claims_basic") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        ingest(
            &mut db,
            dir.path(),
            "a.json",
            &host("alpha", "2026-11-01T00:00:00Z", &[NV, NV, NV]),
        );
        ingest(
            &mut db,
            dir.path(),
            "b.json",
            &host("beta", "2026-11-01T00:00:00Z", &[NV, NV]),
        );
        let nv = DeviceSelector::parse("10de:").unwrap();
        let c = db.claim(&req(&nv, 2, "vm-1")).unwrap();
        assert_eq!(c.host, "alpha", "{}: most free first", tdb.kind);
        assert_eq!(c.devices, vec!["0000:01:00", "0000:02:00"]);
        // The GPU's audio function goes with it: the device is the unit.
        let hosts = db.hosts(&nv, 1).unwrap();
        let alpha = hosts.iter().find(|h| h.host == "alpha").unwrap();
        assert_eq!(alpha.devices, vec!["0000:03:00"], "{}", tdb.kind);
        // Three are no longer free anywhere.
        assert!(db.hosts(&nv, 3).unwrap().is_empty());
        let c2 = db.claim(&req(&nv, 2, "vm-2")).unwrap();
        assert_eq!(c2.host, "beta");
        assert!(matches!(
            db.claim(&req(&nv, 2, "vm-3")),
            Err(ClaimError::NoCapacity { .. })
        ));
        let live = db.claims(None, false).unwrap();
        assert_eq!(live.len(), 2);
        assert!(live
            .iter()
            .all(|c| c.state == "live" && c.expires.is_none()));
        // Someone else's claim is not released.
        let before = state(&mut db);
        let e = db.release(c.id, Some("vm-2")).unwrap_err();
        assert!(matches!(e, ClaimError::NotYours { .. }), "{e}");
        assert_eq!(state(&mut db), before, "{}: unchanged", tdb.kind);
        db.release(c.id, Some("vm-1")).unwrap();
        assert!(matches!(
            db.release(c.id, Some("vm-1")),
            Err(ClaimError::NotLive { .. })
        ));
        assert!(matches!(
            db.release(999, None),
            Err(ClaimError::NoClaim(999))
        ));
        assert_eq!(db.hosts(&nv, 3).unwrap().len(), 1);
        assert_eq!(db.release_all("vm-2").unwrap().len(), 1);
        assert!(db.claims(None, false).unwrap().is_empty());
        assert_eq!(db.claims(None, true).unwrap().len(), 2);
        assert!(db.double_booked().unwrap().is_empty());
    }
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("claims_bad") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        ingest(
            &mut db,
            dir.path(),
            "a.json",
            &host("alpha", "2026-11-01T00:00:00Z", &[NV, NV]),
        );
        ingest(
            &mut db,
            dir.path(),
            "f.json",
            &host("future", "2099-01-01T00:00:00Z", &[NV, NV]),
        );
        let nv = DeviceSelector::parse("10de:").unwrap();
        let before = state(&mut db);
        let cases: Vec<(ClaimRequest<'_>, &str)> = vec![
            (
                ClaimRequest {
                    holder: "evil\u{1b}[2J",
                    ..req(&nv, 1, "")
                },
                "control",
            ),
            (
                ClaimRequest {
                    ttl: Some("soon"),
                    ..req(&nv, 1, "h")
                },
                "duration",
            ),
            (
                ClaimRequest {
                    ttl: Some("2001-01-01T00:00:00Z"),
                    ..req(&nv, 1, "h")
                },
                "not after now",
            ),
            (
                ClaimRequest {
                    host: Some("gone"),
                    ..req(&nv, 1, "h")
                },
                "no host named `gone`",
            ),
            (
                ClaimRequest {
                    client_time: now() - 3600,
                    ..req(&nv, 1, "h")
                },
                "clock skew",
            ),
            (
                ClaimRequest {
                    host: Some("future"),
                    ..req(&nv, 1, "h")
                },
                "after the database's clock",
            ),
            (
                ClaimRequest {
                    host: Some("alpha"),
                    ..req(&nv, 3, "h")
                },
                "no host can give 3",
            ),
        ];
        for (r, want) in cases {
            let e = db.claim(&r).unwrap_err().to_string();
            assert!(e.contains(want), "{}: {want}: {e}", tdb.kind);
            assert_eq!(state(&mut db), before, "{}: {want}: unchanged", tdb.kind);
        }
        // A host dated in the future is never picked on its own.
        let c = db.claim(&req(&nv, 2, "h")).unwrap();
        assert_eq!(c.host, "alpha");
    }
}

#[test]
fn an_older_generation_is_refused_when_the_newer_snapshot_lost_the_device() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("claims_gen") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        ingest(
            &mut db,
            dir.path(),
            "a1.json",
            &host("alpha", "2026-11-01T00:00:00Z", &[NV, NV, NV]),
        );
        let nv = DeviceSelector::parse("10de:").unwrap();
        let q = PlaceQuery {
            selector: &nv,
            count: 3,
            constraint: Constraint::None,
            max_age: None,
            as_of: None,
        };
        let g1 = db.place(&q).unwrap().hosts[0].generation;
        // The newer snapshot has two GPUs: the third slot is gone.
        ingest(
            &mut db,
            dir.path(),
            "a2.json",
            &host("alpha", "2026-11-02T00:00:00Z", &[NV, NV]),
        );
        let before = state(&mut db);
        let r = ClaimRequest {
            host: Some("alpha"),
            generation: Some(g1),
            ..req(&nv, 3, "h")
        };
        let e = db.claim(&r).unwrap_err();
        assert!(matches!(e, ClaimError::Stale { .. }), "{}: {e}", tdb.kind);
        assert!(e.to_string().contains("0000:03:00 gone or used"), "{e}");
        assert_eq!(state(&mut db), before);
        // The devices it still has can be claimed against the old generation.
        let r = ClaimRequest {
            host: Some("alpha"),
            generation: Some(g1),
            ..req(&nv, 2, "h")
        };
        let c = db.claim(&r).unwrap();
        assert_ne!(c.generation, g1, "recorded against the newest snapshot");
        let bogus = ClaimRequest {
            host: Some("alpha"),
            generation: Some(g1 + 1000),
            ..req(&nv, 1, "h")
        };
        assert!(matches!(db.claim(&bogus), Err(ClaimError::Stale { .. })));
    }
}

#[test]
fn expired_claims_free_their_devices() {
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("claims_ttl") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        ingest(
            &mut db,
            dir.path(),
            "a.json",
            &host("alpha", "2026-11-01T00:00:00Z", &[NV]),
        );
        let nv = DeviceSelector::parse("10de:").unwrap();
        let c = db
            .claim(&ClaimRequest {
                ttl: Some("1s"),
                ..req(&nv, 1, "short")
            })
            .unwrap();
        assert!(c.expires.is_some());
        assert!(
            db.hosts(&nv, 1).unwrap().is_empty(),
            "{}: taken while live",
            tdb.kind
        );
        // Wait (not a timing assertion) until the database's clock passes the expiry.
        let start = Instant::now();
        while !db.claims(None, false).unwrap().is_empty() {
            assert!(start.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(db.claims(None, true).unwrap()[0].state, "expired");
        assert_eq!(
            db.hosts(&nv, 1).unwrap().len(),
            1,
            "{}: free again",
            tdb.kind
        );
        let c2 = db.claim(&req(&nv, 1, "next")).unwrap();
        assert_eq!(c2.devices, c.devices);
        assert!(matches!(
            db.release(c.id, None),
            Err(ClaimError::NotLive {
                state: "expired",
                ..
            })
        ));
    }
}

#[test]
fn concurrent_claimers_never_share_a_device() {
    const THREADS: usize = 4;
    const CLAIMS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    for tdb in databases("claims_race") {
        let mut db = Fleet::open(&tdb.spec).unwrap();
        // 24 hosts of 8 GPUs: 192 devices for 200 claims of one, so the
        // last claims find the fleet full.
        for i in 0..24 {
            let doc = host(&format!("cn{i:02}"), "2026-11-01T00:00:00Z", &[NV; 8]);
            ingest(&mut db, dir.path(), &format!("cn{i:02}.json"), &doc);
        }
        let reopen = db.reopener();
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let reopen = reopen.clone();
                std::thread::spawn(move || {
                    let mut db = reopen.open().unwrap();
                    let nv = DeviceSelector::parse("10de:").unwrap();
                    let holder = format!("worker-{t}");
                    let (mut won, mut full) = (0, 0);
                    for _ in 0..CLAIMS {
                        match db.claim(&req(&nv, 1, &holder)) {
                            Ok(_) => won += 1,
                            Err(ClaimError::NoCapacity { .. }) => full += 1,
                            Err(e) => panic!("{e}"),
                        }
                    }
                    (won, full)
                })
            })
            .collect();
        let results: Vec<(usize, usize)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won: usize = results.iter().map(|r| r.0).sum();
        assert_eq!(
            won, 192,
            "{}: every device claimed once: {results:?}",
            tdb.kind
        );
        assert!(db.double_booked().unwrap().is_empty(), "{}", tdb.kind);
        assert_eq!(db.claims(None, false).unwrap().len(), 192);
    }
}
