//! The fleet ingest path: a snapshot document (format 1 or 2) derived into
//! the facts the fleet stores (`fleet::derive`), stored in an in-memory
//! SQLite database, and read back. The database is opened once and
//! replaced every few hundred stores so each input stays cheap.
#![no_main]
use std::cell::RefCell;
use std::path::Path;

use fleet::derive::{derive, FileFacts};
use fleet::ingest::sha256_hex;
use fleet::{Fleet, Stored};
use libfuzzer_sys::fuzz_target;

/// Stores kept in one database before it is checked and replaced.
const STORES_PER_DB: usize = 256;

thread_local! {
    static DB: RefCell<Option<(Fleet, usize)>> = const { RefCell::new(None) };
}

fuzz_target!(|data: &[u8]| {
    let facts = FileFacts {
        path: Path::new("fuzz/host.json"),
        mtime: Some(1_600_000_000),
    };
    let Ok(rec) = derive(data, &facts) else {
        return;
    };
    DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        let (fleet, stores) =
            slot.get_or_insert_with(|| (Fleet::open(":memory:").expect("in-memory database"), 0));
        let sha = sha256_hex(data);
        let id = match fleet.store(&rec, &sha, "fuzz/host.json") {
            Ok(Stored::New { id, .. }) => id,
            Ok(Stored::Duplicate) => return,
            Err(e) => panic!("storing a derived record failed: {e}"),
        };
        assert!(fleet.has_snapshot(&sha).expect("query"));
        let rows = fleet.snapshot_functions(id).expect("query");
        assert_eq!(rows.len(), rec.functions.len(), "function rows lost");
        let _ = fleet.history(&rec.host).expect("history");
        *stores += 1;
        if *stores >= STORES_PER_DB {
            let problems = fleet.verify().expect("verify");
            assert!(problems.is_empty(), "inconsistent database: {problems:?}");
            *slot = None;
        }
    });
});
