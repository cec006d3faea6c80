//! `ppt_matches` path rules against nodes that never initialised, on the
//! real OmniOS cache: libppt compares `di_devfs_path`, which has no unit
//! address for them. Skips when the shared real data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use pci_illumos::devinfo::load_file;
use pci_illumos::matcher::select;
use pci_illumos::matches::{LintCode, PptMatches};

fn cache() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk/devices/snapshot_cache"
    ));
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: {} is absent", p.display());
        None
    }
}

#[test]
fn bare_last_component_matches_uninitialised_nodes() {
    let Some(c) = cache() else { return };
    let host = load_file(&c).unwrap();
    let m = PptMatches::parse(
        b"/pci@0,0/pci1028,577\n/pci@0,0/pci1028,577@16\n/pci@0,0/pci1028/pci7470,3468@0\n",
        "/etc/ppt_matches",
    );
    let sel = select(&m, &host);
    // four uninitialised functions share the bare path
    assert_eq!(sel[0].functions.len(), 4);
    let codes: Vec<LintCode> = sel[0].lints.iter().map(|l| l.code).collect();
    assert_eq!(codes, [LintCode::UninitializedPath]);
    assert!(sel[0].lints[0].message.contains("only the last of these 4"));
    // the address-filled path is what the node will have, not what libppt sees
    assert!(sel[1].functions.is_empty());
    let l = &sel[1].lints[0];
    assert_eq!(l.code, LintCode::NoSuchPath);
    assert!(
        l.message
            .contains("write /pci@0,0/pci1028,577 to match it now"),
        "{}",
        l.message
    );
    // a parent without its address never matches
    assert!(sel[2]
        .lints
        .iter()
        .any(|l| l.code == LintCode::MissingUnitAddress));
}
