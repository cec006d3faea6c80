//! How a fleet database is opened (`Access`), through the library, on
//! SQLite and (with `PPTCTL_TEST_PG`) PostgreSQL: reads and row writes
//! never create or upgrade, a fleet made before the SQLite header id is
//! still a fleet (and ingest stamps it), and a read of an old schema is
//! refused without changing it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fleet::schema::{APPLICATION_ID, LATEST};
use fleet::{Access, Fleet, FleetError};
use support::databases;

#[test]
fn reads_and_row_writes_need_an_existing_fleet_at_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    for access in [Access::Read, Access::Write] {
        let e = Fleet::open_as(missing.to_str().unwrap(), access)
            .err()
            .unwrap();
        assert!(matches!(e, FleetError::NoDatabase { .. }), "{e}");
        assert!(!missing.exists());
    }
    for db in databases("access") {
        Fleet::open_at_version(&db.spec, 2).unwrap();
        for access in [Access::Read, Access::Write] {
            let e = Fleet::open_as(&db.spec, access).err().unwrap();
            assert!(
                matches!(e, FleetError::TooOld { found: 2, .. }),
                "{}: {e}",
                db.kind
            );
        }
        assert_eq!(Fleet::open_at_version(&db.spec, 2).unwrap().version(), 2);
        assert_eq!(Fleet::open(&db.spec).unwrap().version(), LATEST);
        for access in [Access::Read, Access::Write] {
            let f = Fleet::open_as(&db.spec, access).unwrap();
            assert_eq!(f.version(), LATEST, "{}", db.kind);
        }
    }
}

fn header(path: &str) -> (i64, i64) {
    let c = rusqlite::Connection::open(path).unwrap();
    let app = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    let user = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    (app, user)
}

#[test]
fn a_sqlite_fleet_carries_its_id_and_an_unstamped_one_is_still_a_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fleet.db");
    let spec = db.to_str().unwrap();
    Fleet::open(spec).unwrap();
    assert_eq!(header(spec), (APPLICATION_ID, LATEST));
    // A fleet file written before the id existed: no id, same tables.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA application_id = 0; PRAGMA user_version = 0")
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    assert_eq!(Fleet::open_read(spec).unwrap().version(), LATEST);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        bytes,
        "a read stamped the file"
    );
    Fleet::open(spec).unwrap();
    assert_eq!(header(spec), (APPLICATION_ID, LATEST), "ingest stamps it");
    // Another application's id is refused whatever the tables.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1234")
        .unwrap();
    for access in [Access::Read, Access::Write, Access::Create] {
        let e = Fleet::open_as(spec, access).err().unwrap();
        assert!(
            matches!(&e, FleetError::NotFleet { found, .. } if found.contains("0x000004d2")),
            "{e}"
        );
    }
}

#[test]
fn a_creation_killed_after_its_version_table_is_finished_by_the_next_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("half.db");
    let spec = db.to_str().unwrap();
    // What a creation killed between its first statement and its first
    // migration leaves: the version table, empty, and nothing else.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        .unwrap();
    for access in [Access::Read, Access::Write] {
        let e = Fleet::open_as(spec, access).err().unwrap();
        assert!(matches!(e, FleetError::NoDatabase { .. }), "{e}");
    }
    assert_eq!(Fleet::open(spec).unwrap().version(), LATEST);
    // A lone table of another name is still someone else's.
    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (text TEXT)")
        .unwrap();
    let e = Fleet::open(other.to_str().unwrap()).err().unwrap();
    assert!(matches!(e, FleetError::NotFleet { .. }), "{e}");
}
