//! `check --vm FILE` reports a config `fail` exactly when `vm-json --check
//! FILE` reports an error: both judge with ppt-config `vmadm::judge`, but
//! each reads the next boot its own way (check: the binding prediction over
//! the kernel files; vm-json: the pending `ppt_aliases`), so the agreement
//! is tested end to end on generated payloads (paths with and without
//! `/devices`, minor suffixes, typos; slots valid, reserved, clashing), on
//! the example host with its aliases and with an empty root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use proptest::prelude::*;

mod support;
use support::{example_dir, example_from, pptctl_at};

const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

fn path() -> impl Strategy<Value = String> {
    // Mostly real paths, so that whole payloads are often valid on their
    // own and the host checks (where the two commands' next-boot readings
    // meet) decide.
    let node = prop_oneof![
        4 => Just(GPU.to_string()),
        4 => Just(AUDIO.to_string()),
        // Typos: unit address missing, wrong node, the bridge.
        1 => Just("/pci@0,0/pci8086,151@1/pci1462,2291".to_string()),
        1 => Just("/pci@0,0/pci8086,151@1/display@9".to_string()),
        1 => Just("/pci@0,0/pci8086,151@1".to_string()),
    ];
    let head = prop_oneof![
        8 => Just("/devices"),
        1 => Just(""),
        1 => Just("/devicesX"),
        1 => Just("devices"),
    ];
    let minor = prop_oneof![4 => Just(""), 2 => Just(":ppt"), 1 => Just(":devctl")];
    (head, node, minor).prop_map(|(h, n, m)| format!("{h}{n}{m}"))
}

fn slot() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("0:8:0".to_string()),
        4 => Just("0:8:1".to_string()),
        1 => Just("0:9:0".to_string()),
        1 => Just("0:4:0".to_string()),
        1 => Just("0x8".to_string()),
        1 => Just("1:0:0".to_string()),
    ]
}

fn payload() -> impl Strategy<Value = serde_json::Value> {
    let entries = proptest::collection::vec((path(), slot()), 0..3);
    let key = prop_oneof![Just("pci_devices"), Just("add_pci_devices")];
    (key, entries).prop_map(|(key, entries)| {
        let list: Vec<serde_json::Value> = entries
            .into_iter()
            .map(|(p, s)| serde_json::json!({"path": p, "pci_slot": s}))
            .collect();
        let mut o = serde_json::Map::new();
        o.insert(key.to_string(), serde_json::Value::Array(list));
        serde_json::Value::Object(o)
    })
}

/// (vm-json --check says invalid, check's config verdict is fail).
fn both(root: &Path, file: &Path) -> (bool, bool) {
    let vm = pptctl_at(root, example_from())
        .args(["vm-json", "--check"])
        .arg(file)
        .output()
        .unwrap();
    let vm_code = vm.status.code().unwrap();
    assert!(
        vm_code == 0 || vm_code == 1,
        "vm-json exit {vm_code}: {vm:?}"
    );
    let check = pptctl_at(root, example_from())
        .args(["check", "--json", "01:00.0", "--vm"])
        .arg(file)
        .output()
        .unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&check.stdout).unwrap_or_else(|e| panic!("{e}: {check:?}"));
    (vm_code == 1, doc["config"]["verdict"] == "fail")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn check_vm_and_vm_json_check_agree(p in payload(), empty_root in any::<bool>()) {
        let t = tempfile::tempdir().unwrap();
        let file = t.path().join("vm.json");
        std::fs::write(&file, serde_json::to_vec(&p).unwrap()).unwrap();
        let root = if empty_root {
            let r = t.path().join("root");
            std::fs::create_dir_all(r.join("etc")).unwrap();
            r
        } else {
            example_dir().join("root")
        };
        let (invalid, fails) = both(&root, &file);
        prop_assert_eq!(invalid, fails, "payload {}", p);
    }
}

/// The fixed cases the issue names: vm-json's own output is valid for
/// both, `{}` is invalid for both, a `:devctl` minor and `/devicesX` are
/// invalid for both.
#[test]
fn named_cases_agree() {
    let t = tempfile::tempdir().unwrap();
    let root = example_dir().join("root");
    let good = pptctl_at(&root, example_from())
        .args(["vm-json", "01:00.0"])
        .output()
        .unwrap();
    assert!(good.status.success(), "{good:?}");
    let cases: [(&[u8], bool); 4] = [
        (&good.stdout, false),
        (b"{}", true),
        (
            br#"{"pci_devices":[{"path":"/devices/pci@0,0/pci8086,151@1/display@0:devctl","pci_slot":"0:8:0"}]}"#,
            true,
        ),
        (
            br#"{"pci_devices":[{"path":"/devicesX/pci@0,0/pci8086,151@1/display@0","pci_slot":"0:8:0"}]}"#,
            true,
        ),
    ];
    for (bytes, want_invalid) in cases {
        let file = t.path().join("vm.json");
        std::fs::write(&file, bytes).unwrap();
        let (invalid, fails) = both(&root, &file);
        assert_eq!(
            (invalid, fails),
            (want_invalid, want_invalid),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    // With an empty root nothing keeps the card on ppt after the next
    // boot: both call the same good payload broken.
    let empty = t.path().join("empty");
    std::fs::create_dir_all(empty.join("etc")).unwrap();
    let file = t.path().join("vm.json");
    std::fs::write(&file, &good.stdout).unwrap();
    assert_eq!(both(&empty, &file), (true, true));
}

/// `vm-json` that prints an error exits 1 (here: the bridge, which may
/// never be passed through, and the advice is not to reserve it).
#[test]
fn vm_json_printing_an_error_exits_1() {
    let out = pptctl_at(example_dir().join("root"), example_from())
        .args(["vm-json", "00:01.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["pci_devices"].is_array());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("may never be passed through"), "{err}");
    assert!(!err.contains("pptctl reserve"), "{err}");
}
