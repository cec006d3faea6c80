//! `Session::into_match_report` over the 2018 Levon how-to's SmartOS host
//! (examples/levon-2018): the answer `pptctl match` renders, with and
//! without selectors, and a selector typo reported before any file is read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ppt_config::selector;
use ppt_config::session::{Session, SessionError, SessionOptions};

const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018")
}

fn session(root: &Path) -> Session {
    let from = format!("snapshot:{}", example().join("host.json").display());
    Session::open(&SessionOptions::new(&from, root).unwrap()).unwrap()
}

fn paths<'a>(it: impl Iterator<Item = &'a pci_illumos::binding::Prediction>) -> Vec<&'a str> {
    it.map(|p| p.path.as_str()).collect()
}

#[test]
fn seed_host_reports_both_functions_on_ppt() {
    let rep = session(&example().join("root"))
        .into_match_report(&[])
        .unwrap();
    assert_eq!(rep.warning_count(), 0);
    assert_eq!(rep.next_boot_unknown(), None);
    assert_eq!(rep.only(), None);
    assert_eq!(paths(rep.after_reboot()), [GPU, AUDIO]);
    let j = rep.to_json();
    assert_eq!(j.ppt_matches[0].matches, [GPU]);
    assert_eq!(j.after_reboot[0].by.as_deref(), Some("/etc/ppt_aliases:5"));
    assert_eq!(j.after_reboot[1].dev.as_deref(), Some("/dev/ppt1"));
}

#[test]
fn selectors_limit_the_next_boot_to_their_functions() {
    let sels = selector::parse_all(&[GPU]).unwrap();
    let rep = session(&example().join("root"))
        .into_match_report(&sels)
        .unwrap();
    assert_eq!(rep.only(), Some(&[GPU.to_string()][..]));
    assert_eq!(paths(rep.after_reboot()), [GPU]);
    assert_eq!(rep.to_json().ppt_aliases.len(), 2);
}

#[test]
fn a_selector_matching_nothing_is_reported_before_the_files() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/ppt_matches")).unwrap();
    let sels = selector::parse_all(&["ffff:"]).unwrap();
    let e = session(root.path()).into_match_report(&sels).unwrap_err();
    assert!(matches!(e, SessionError::Selector(_)), "{e:?}");
    let e = session(root.path()).into_match_report(&[]).unwrap_err();
    assert!(matches!(e, SessionError::Matches(_)), "{e:?}");
}
