//! pptctl-snapshot/2 JSON: parsed, replayed as a session (host,
//! configuration, next-boot binding, the check of every function), then
//! written back; the written snapshot must replay to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ppt_config::selector::Selector;
use ppt_config::session::{Session, SessionOptions};
use ppt_config::snapshot::SnapshotV2;

/// The snapshot a replay of `snap` writes back, its time cleared (the
/// writer stamps the current time).
fn replay(opts: &SessionOptions, snap: SnapshotV2) -> Option<(Session, SnapshotV2)> {
    let session = ppt_config::session::Session::replay(opts, snap, "fuzz.json").ok()?;
    let mut out = session.snapshot();
    out.host.time.clear();
    Some((session, out))
}

fuzz_target!(|data: &[u8]| {
    let Ok(snap) = SnapshotV2::parse(data, "fuzz.json") else {
        return;
    };
    let Ok(opts) = SessionOptions::new("snapshot:fuzz.json", "/nonexistent-root") else {
        return;
    };
    let Some((session, first)) = replay(&opts, snap) else {
        return;
    };
    let selectors: Vec<Selector> = session
        .host()
        .functions
        .iter()
        .map(|f| Selector::Slot(f.address))
        .collect();
    let _ = session.check(&selectors, Vec::new());
    let _ = session.next_boot_unknown();
    let _ = session.binding();

    // What the session wrote must read back and replay to the same document.
    let json = first.to_json().expect("a snapshot serialises");
    let again = SnapshotV2::parse(json.as_bytes(), "again.json").expect("written snapshot parses");
    let (_, second) = replay(&opts, again).expect("written snapshot replays");
    assert_eq!(first, second, "snapshot changed on a second replay");
});
