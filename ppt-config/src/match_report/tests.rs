//! The report and its JSON over a two-function host with files written
//! here (the text rendering is tested in cli/src/cmd/matches.rs).

use pci_illumos::root::HostRoot;

use super::fixture::{build, clean_root, host, root, AUDIO, FILES, GPU};
use crate::session::SessionError;

#[test]
fn json_report() {
    let r = root(FILES);
    let rep = build(host(), &HostRoot::new(r.path())).unwrap();
    let got = serde_json::to_string_pretty(&rep.to_json()).unwrap();
    let want = include_str!("../../tests/data/match-report.json");
    assert_eq!(got, want.trim_end());
    assert_eq!(rep.warning_count(), 3);
}

#[test]
fn clean_files_have_no_warnings_and_guessed_devs_are_null() {
    let r = clean_root();
    let rep = build(host(), &HostRoot::new(r.path())).unwrap();
    assert_eq!(rep.warning_count(), 0, "{:?}", rep.to_json());
    let j = serde_json::to_value(rep.to_json()).unwrap();
    assert_eq!(j["ppt_matches"][0]["file"], "/system/boot/etc/ppt_matches");
    assert_eq!(j["ppt_matches"][0]["matches"].as_array().unwrap().len(), 2);
    assert_eq!(j["ppt_aliases"][0]["file"], "/system/boot/etc/ppt_aliases");
    // no path_to_inst: the number is a guess, so JSON gives null
    assert_eq!(j["after_reboot"][0]["path"], AUDIO);
    assert_eq!(j["after_reboot"][0]["dev"], serde_json::Value::Null);
}

#[test]
fn only_limits_the_changes_not_the_lines() {
    let r = root(FILES);
    let rep = build(host(), &HostRoot::new(r.path()))
        .unwrap()
        .with_only(Some(vec![AUDIO.to_string()]));
    assert_eq!(rep.changes().count(), 0);
    assert_eq!(rep.after_reboot().count(), 0);
    assert_eq!(rep.lines().count(), 4);
    assert_eq!(rep.to_json().ppt_aliases.len(), 2);
    let rep = rep.with_only(Some(vec![GPU.to_string()]));
    let paths: Vec<&str> = rep.changes().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, [GPU]);
}

#[test]
fn unreadable_input_is_an_error_naming_the_file() {
    let r = root(&[("etc/driver_aliases", "x \"y\"\n")]);
    std::fs::create_dir_all(r.path().join("system/boot/etc/ppt_matches")).unwrap();
    let e = build(host(), &HostRoot::new(r.path())).err().unwrap();
    assert!(matches!(e, SessionError::Matches(_)), "{e:?}");
    assert!(
        e.to_string().contains("/system/boot/etc/ppt_matches"),
        "{e}"
    );
}
