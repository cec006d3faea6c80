//! Snapshot format 2 through the library: a session's snapshot parses
//! back into a session with the same host, configuration and answers, and
//! writing it again gives the same document (but for the time).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ppt_config::session::{Session, SessionOptions};
use ppt_config::snapshot::{SnapshotV2, FORMAT_V2};

fn before() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018/before"
    ))
}

#[test]
fn snapshot_round_trips_through_the_library() {
    let dir = before();
    let from = format!("snapshot:{}", dir.join("host.json").display());
    let mut opts = SessionOptions::new(&from, dir.join("root")).unwrap();
    opts.boot_media = Some(dir.join("usbkey"));
    let s = Session::open(&opts).unwrap();
    let snap = s.snapshot();
    assert_eq!(snap.format, FORMAT_V2);
    assert!(snap.host.smartos);
    let text = snap.to_json().unwrap();

    let back = SnapshotV2::parse(text.as_bytes(), "s.json").unwrap();
    assert_eq!(back, snap);
    let replay_opts = SessionOptions::new("snapshot:s.json", "/nonexistent").unwrap();
    let r = ppt_config::session::Session::replay(&replay_opts, back, "s.json").unwrap();
    assert_eq!(r.host(), s.host());
    assert_eq!(r.captured(), s.captured());
    assert_eq!(r.next_boot_source(), s.next_boot_source());
    let a = s.check(&[], Vec::new()).unwrap().report;
    let b = r.check(&[], Vec::new()).unwrap().report;
    assert_eq!(a, b);

    let mut again = r.snapshot();
    again.host.time = snap.host.time.clone();
    again.source = snap.source.clone();
    assert_eq!(again, snap);
}

#[test]
fn unknown_keys_and_other_formats_are_refused() {
    let e = SnapshotV2::parse(br#"{"format":"pptctl-snapshot/2","extra":1}"#, "x.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.json: not a pptctl-snapshot/2 snapshot"),
        "{e}"
    );
    let dir = before();
    let from = format!("snapshot:{}", dir.join("host.json").display());
    let s = Session::open(&SessionOptions::new(&from, dir.join("root")).unwrap()).unwrap();
    let mut text = s.snapshot().to_json().unwrap();
    text = text.replace("pptctl-snapshot/2", "pptctl-snapshot/3");
    let e = SnapshotV2::parse(text.as_bytes(), "y.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("pptctl-snapshot/3"), "{e}");
}
