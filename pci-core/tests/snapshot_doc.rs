//! The example in docs/snapshot.md is a valid snapshot and says what the
//! schema table says.

use pci_core::sources::snapshot::parse_snapshot;

#[test]
fn documented_example_parses() {
    let doc = include_str!("../../docs/snapshot.md");
    let start = doc.find("```json\n").expect("example block") + 8;
    let end = start + doc[start..].find("```").expect("end of block");
    let host = parse_snapshot(&doc.as_bytes()[start..end], "docs/snapshot.md").unwrap();
    assert_eq!(host.functions.len(), 1);
    let f = &host.functions[0];
    assert_eq!(f.address.to_string(), "0000:00:03.0");
    assert_eq!(f.config.len(), 64);
    // The identity in the example agrees with its config bytes.
    assert_eq!(pci_core::sources::identity_from_config(&f.config), f.ids);
    assert_eq!(f.bar_sizes[4], Some(16384));
    assert_eq!(host.facts.os.as_deref(), Some("linux"));
}
