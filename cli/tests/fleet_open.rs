//! The fleet database is opened for what the command does: only `fleet
//! ingest` creates or upgrades it; every read opens it read-only, refuses
//! a missing database and a file or database that is not a pptctl fleet
//! database (exit 2, saying what it found) and changes nothing, and works
//! on a read-only file and while another process writes. SQLite always,
//! PostgreSQL with `PPTCTL_TEST_PG`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::run;

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use fleet_support::{databases, fresh_pg, host, write, NV};

/// Every read-only fleet command, with `DB` for the database.
fn reads(db: &str, html: &Path) -> Vec<Vec<String>> {
    let html = html.to_str().unwrap();
    [
        vec!["hosts"],
        vec!["hosts", "--explain", "alpha"],
        vec!["devices"],
        vec!["history", "alpha"],
        vec!["report", "--html", html],
    ]
    .into_iter()
    .map(|tail| {
        ["fleet", "--db", db]
            .into_iter()
            .chain(tail)
            .map(str::to_string)
            .collect()
    })
    .collect()
}

fn run_owned(args: &[String]) -> (i32, String, String) {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Another application's SQLite file: one table, rollback journal.
fn other_app_db(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode = DELETE; CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); \
         INSERT INTO notes (body) VALUES ('keep me');",
    )
    .unwrap();
}

#[test]
fn a_read_of_another_applications_sqlite_file_refuses_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other-app.db");
    other_app_db(&db);
    let before = std::fs::read(&db).unwrap();
    let spec = db.to_str().unwrap();
    for args in reads(spec, &dir.path().join("r.html")) {
        let (code, out, err) = run_owned(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("not a pptctl fleet database") && err.contains("notes"),
            "{args:?}: {err}"
        );
    }
    // Ingest, the one command that creates, refuses it too.
    let snaps = tempfile::tempdir().unwrap();
    let nv = NV;
    let f = write(
        snaps.path(),
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[nv]),
    );
    let (code, _, err) = run(&["fleet", "--db", spec, "ingest", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a pptctl fleet database"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file changed");
    assert!(!dir.path().join("other-app.db-wal").exists());
    let c = rusqlite::Connection::open(&db).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    std::fs::write(
        &db,
        "not a database, just some text that is long enough\n".repeat(20),
    )
    .unwrap();
    let before = std::fs::read(&db).unwrap();
    for args in reads(db.to_str().unwrap(), &dir.path().join("r.html")) {
        let (code, out, err) = run_owned(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("not a pptctl fleet database") && err.contains("notes.txt"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_missing_database_is_named_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.db");
    for args in reads(db.to_str().unwrap(), &dir.path().join("r.html")) {
        let (code, out, err) = run_owned(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains(&format!("no fleet database at {}", db.display()))
                && err.contains("`pptctl fleet ingest` creates it"),
            "{args:?}: {err}"
        );
        assert!(!db.exists(), "{args:?} created the database");
    }
}

/// A fleet with one host, alpha, in `db`.
fn one_host(db: &str) {
    let snaps = tempfile::tempdir().unwrap();
    let nv = NV;
    let f = write(
        snaps.path(),
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[nv]),
    );
    let (code, out, err) = run(&["fleet", "--db", db, "ingest", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_read_only_database_file_can_be_queried() {
    // Root writes anything: the reads run as `nobody`.
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/setpriv").is_file() {
        eprintln!("skip: needs root (to drop to nobody with setpriv)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fleet.db");
    one_host(db.to_str().unwrap());
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("pptctl");
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&bin)
        .args(["fleet", "--db", db.to_str().unwrap(), "devices"])
        .output()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("10de:0a65"));
}

#[test]
fn a_read_answers_while_another_process_holds_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fleet.db");
    one_host(db.to_str().unwrap());
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer
        .execute_batch("BEGIN IMMEDIATE; UPDATE hosts SET name = name;")
        .unwrap();
    let (code, out, err) = run(&["fleet", "--db", db.to_str().unwrap(), "hosts"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("alpha"), "{out}");
    writer.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_read_refuses_a_postgres_database_that_is_not_a_fleet() {
    let Some(url) = fresh_pg("foreign") else {
        return;
    };
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let count = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0)
    };
    // An empty database is "no fleet database" and stays empty.
    let html = tempfile::tempdir().unwrap();
    for args in reads(&url, &html.path().join("r.html")) {
        let (code, out, err) = run_owned(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("no fleet database at"), "{args:?}: {err}");
    }
    assert_eq!(count(&mut c), 0, "a read created tables");
    c.batch_execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT)")
        .unwrap();
    for args in reads(&url, &html.path().join("r.html")) {
        let (code, out, err) = run_owned(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains("not a pptctl fleet database") && err.contains("notes"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(count(&mut c), 1, "a read created tables");
    // Ingest, which creates, refuses it too.
    let snaps = tempfile::tempdir().unwrap();
    let nv = NV;
    let f = write(
        snaps.path(),
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[nv]),
    );
    let (code, _, err) = run(&["fleet", "--db", &url, "ingest", f.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(count(&mut c), 1, "ingest created tables");
}

#[test]
fn reads_change_no_fleet_database() {
    for db in databases("readonly") {
        one_host(&db.spec);
        let snapshot = |spec: &str| -> Vec<u8> {
            if db.kind == "sqlite" {
                std::fs::read(spec).unwrap()
            } else {
                Vec::new()
            }
        };
        let before = snapshot(&db.spec);
        let html = tempfile::tempdir().unwrap();
        for args in reads(&db.spec, &html.path().join("r.html")) {
            let (code, out, err) = run_owned(&args);
            assert_eq!(code, 0, "{}: {args:?}: {out}{err}", db.kind);
        }
        assert_eq!(snapshot(&db.spec), before, "{}", db.kind);
    }
}
