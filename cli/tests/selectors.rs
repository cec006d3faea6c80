//! One selector grammar for every command that takes functions: lspci `-s`
//! slots, lspci `-d` IDs (`10de:`, `::0300`), illumos paths with or without
//! `/devices`, `/dev/pptN`; a typo'd path gets "did you mean" everywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::{example_dir, example_from, pptctl_at};

const TYPO: &str = "/devices/pci@0,0/pci8086,151@1/pci1462,2291";
const MEANT: &str = "did you mean /devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1?";

fn run(args: &[&str]) -> std::process::Output {
    let root = tempfile::tempdir().unwrap();
    // A copy of the example root, so a reserve could not touch the repo.
    let r = root.path().join("root");
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::copy(
        example_dir().join("root/etc/ppt_aliases"),
        r.join("etc/ppt_aliases"),
    )
    .unwrap();
    pptctl_at(&r, example_from()).args(args).output().unwrap()
}

#[test]
fn every_command_takes_every_form() {
    for form in [
        "10de:",
        "::0300",
        "10de:a65",
        "01:00.*",
        "01:00.0",
        "/devices/pci@0,0/pci8086,151@1/display@0:ppt",
        "/pci@0,0/pci8086,151@1/display@0",
    ] {
        for cmd in [
            &["check", form][..],
            &["vm-json", form][..],
            &["reserve", "--dry-run", form][..],
            &["unreserve", "--dry-run", form][..],
            &["match", form][..],
        ] {
            let o = run(cmd);
            assert!(
                o.status.code() == Some(0) || o.status.code() == Some(1),
                "{cmd:?}: {o:?}"
            );
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!err.contains("is not a selector"), "{cmd:?}: {err}");
        }
    }
    let o = run(&["show", "-s", "/devices/pci@0,0/pci8086,151@1/display@0:ppt"]);
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("01:00.0 VGA"));
}

#[test]
fn a_typo_path_says_did_you_mean_everywhere() {
    for cmd in [
        &["check", TYPO][..],
        &["vm-json", TYPO][..],
        &["reserve", "--dry-run", TYPO][..],
        &["show", "-s", TYPO][..],
        &["match", TYPO][..],
    ] {
        let o = run(cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(MEANT), "{cmd:?}: {err}");
    }
    let t = tempfile::tempdir().unwrap();
    let vm = t.path().join("vm.json");
    std::fs::write(
        &vm,
        format!(r#"{{"pci_devices":[{{"path":"{TYPO}","pci_slot":"0:8:1"}}]}}"#),
    )
    .unwrap();
    let o = run(&["vm-json", "--check", vm.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(MEANT), "{o:?}");
    let o = run(&["check", "01:00.0", "--vm", vm.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(MEANT), "{o:?}");
}

#[test]
fn lspci_messages_and_no_select_all() {
    let o = run(&["check", "01:00.9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Invalid function number"));
    let o = run(&["reserve", "--dry-run", ":"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("would select every function"));
    // match narrows the next boot's changes to the selected functions.
    // (An empty root: nothing keeps the card on ppt, both functions change.)
    let empty = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(empty.path().join("etc")).unwrap();
    let o = pptctl_at(empty.path(), example_from())
        .args(["match", "--json", "::0403"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let paths: Vec<&str> = v["after_reboot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/pci@0,0/pci8086,151@1/pci1462,2291@0,1"], "{v}");
    // show keeps lspci's own -s/-d texts.
    let o = run(&["show", "-d", "10000:"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim_end(),
        "pptctl: -d: Invalid vendor ID"
    );
}

/// `show -s`/`-d` that match nothing exit 0 with no output, as lspci does
/// (README, exit codes); a path that names nothing is an error there too.
#[test]
fn show_with_a_slot_or_id_that_matches_nothing_is_lspci() {
    for sel in [&["-s", "99:00.0"][..], &["-d", "1234:"][..]] {
        let mut args = vec!["show"];
        args.extend_from_slice(sel);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{sel:?}: {o:?}");
        assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{sel:?}: {o:?}");
    }
    let o = run(&["show", "-s", TYPO]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
