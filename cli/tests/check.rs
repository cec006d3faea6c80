//! `pptctl check` end to end on a Linux sysfs tree generated here: an
//! emulated machine with a host bridge, a legacy PCI device, a PCIe switch,
//! an SR-IOV PF, a device with a 256-byte BAR and a healthy endpoint; the
//! JSON document, the readable report, selectors, `--vm` payloads and the
//! exit codes 0/1/2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

mod support;
use serde_json::Value;
use support::{example_dir, example_from, snapshot_from};
#[path = "check/machine.rs"]
mod machine;
use machine::{machine, w};

fn pptctl(sys: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    // An empty root: no illumos files (a --root must be a directory).
    fs::create_dir_all(sys.parent().unwrap().join("empty-root")).unwrap();
    support::pptctl()
        .arg("--from")
        .arg(format!("sysfs:{}", sys.display()))
        .arg("--root")
        .arg(sys.parent().unwrap().join("empty-root"))
        .args(args)
        .env_remove("NO_COLOR")
        .assert()
}

fn json(sys: &Path, args: &[&str]) -> (Value, i32) {
    let out = pptctl(sys, args).get_output().clone();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

fn function<'v>(v: &'v Value, slot: &str) -> &'v Value {
    v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["slot"] == slot)
        .unwrap_or_else(|| panic!("{slot} not in {v}"))
}

fn codes(f: &Value) -> Vec<String> {
    f["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn emulated_machine_json() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let (v, code) = json(&sys, &["check", "--json"]);
    assert_eq!(code, 1, "the legacy NIC and the 256-byte BAR fail");
    assert_eq!(v["host"]["verdict"], "ok", "{}", v["host"]);
    assert_eq!(v["config"]["verdict"], "ok");
    let slots: Vec<&str> = v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slot"].as_str().unwrap())
        .collect();
    assert_eq!(
        slots,
        [
            "0000:00:03.0",
            "0000:00:1d.0",
            "0000:00:1f.3",
            "0000:01:00.0",
            "0000:04:00.0",
            "0000:04:01.0"
        ],
        "every function a user could pass through: no bridges, no host bridge"
    );
    // --all judges the infrastructure too.
    let (all, code) = json(&sys, &["check", "--json", "--all"]);
    assert_eq!(code, 1);
    let all_slots: Vec<&str> = all["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slot"].as_str().unwrap())
        .collect();
    assert!(all_slots.contains(&"0000:00:00.0"), "{all_slots:?}");
    assert!(all_slots.contains(&"0000:00:1c.0"), "{all_slots:?}");
    let hb = function(&all, "0000:00:00.0");
    assert_eq!(hb["verdict"], "fail");
    assert!(codes(hb).contains(&"host-critical".into()));
    assert!(codes(hb).contains(&"no-msi".into()));
    let legacy = function(&v, "0000:00:03.0");
    assert_eq!(legacy["verdict"], "fail");
    for c in ["no-msi", "bar-not-page-aligned", "io-bar", "no-reset"] {
        assert!(codes(legacy).contains(&c.to_string()), "{c}: {legacy}");
    }
    let nic = function(&v, "0000:01:00.0");
    assert_eq!(nic["verdict"], "ok", "{nic}");
    assert_eq!(nic["ids"], "8086:10d3");
    assert_eq!(nic["reasons"], serde_json::json!([]));
    for slot in ["0000:04:00.0", "0000:04:01.0"] {
        let ep = function(&v, slot);
        assert_eq!(ep["verdict"], "warn", "{ep}");
        assert!(codes(ep).contains(&"no-reset".into()), "{ep}");
        assert!(codes(ep).contains(&"shared-isolation".into()), "{ep}");
    }
    let pf = function(&v, "0000:00:1d.0");
    assert_eq!(codes(pf), ["sriov-pf-with-vfs"], "{pf}");
    let small = function(&v, "0000:00:1f.3");
    assert_eq!(small["verdict"], "fail");
    assert!(
        codes(small).contains(&"bar-not-page-aligned".into()),
        "{small}"
    );
    let r = &small["reasons"][0];
    assert_eq!(r["severity"], "fail");
    assert!(r["message"].as_str().unwrap().contains("256 bytes"), "{r}");
    assert!(!r["hint"].as_str().unwrap().is_empty());
}

#[test]
fn selectors_narrow_the_report_and_set_the_exit_code() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let (v, code) = json(&sys, &["check", "--json", "01:00.0"]);
    assert_eq!(code, 0);
    assert_eq!(v["functions"].as_array().unwrap().len(), 1);
    let (v, code) = json(&sys, &["check", "--json", "1b36:0010"]);
    assert_eq!(code, 0, "warnings do not fail");
    assert_eq!(v["functions"].as_array().unwrap().len(), 2);
    let (_, code) = json(&sys, &["check", "--json", "00:1f.3"]);
    assert_eq!(code, 1);
    // A bridge asked for by name is reported as one.
    let (v, code) = json(&sys, &["check", "--json", "00:1c.0"]);
    assert_eq!(code, 1);
    assert!(codes(function(&v, "0000:00:1c.0")).contains(&"bridge".into()));
}

#[test]
fn readable_report_without_colour_when_piped() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let out = pptctl(&sys, &["check"]).code(1).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains('\x1b'), "no colour on a pipe");
    assert!(text.starts_with("host: ok\n"), "{text}");
    assert!(text.contains("\ndevice 0000:04:00"), "{text}");
    assert!(
        text.contains("  0000:01:00.0 8086:10d3 ok"),
        "functions under their device: {text}"
    );
    assert!(text.contains("fail no-msi: "), "{text}");
    assert!(text.contains("hint: "), "{text}");
    let last = text.lines().last().unwrap();
    assert_eq!(
        last, "6 functions: 1 ok, 3 warn, 2 fail; host ok; config ok",
        "{text}"
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    pptctl(&sys, &["check", "not-a-selector"]).code(2);
    pptctl(&sys, &["check", "09:00.0"]).code(2);
    pptctl(&sys, &["check", "--vm", "/nonexistent/vm.json"]).code(2);
    let bad = t.path().join("bad.json");
    w(&bad, "{ not json");
    let err = pptctl(&sys, &["check", "--vm", bad.to_str().unwrap()])
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("bad.json:1"), "{err}");
    pptctl(&sys, &["check", "--bogus"]).code(2);
}

#[test]
fn vm_payload_findings() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let vm = t.path().join("vm.json");
    w(
        &vm,
        r#"{"alias": "gpu-vm", "pci_devices": [
            {"path": "/devices/pci@0,0/nothing@9", "pci_slot": "0:4:0"},
            {"path": "/devices/pci@0,0/other@8", "pci_slot": "0:4:0"},
            {"path": "devices/bad", "pci_slot": "0x8"}
        ]}"#,
    );
    let (v, code) = json(
        &sys,
        &["check", "--json", "01:00.0", "--vm", vm.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let config = codes(&v["config"]);
    for c in [
        "vm-payload-invalid",
        "vm-device-missing",
        "guest-slot-reserved",
        "guest-slot-conflict",
    ] {
        assert!(config.contains(&c.to_string()), "{c}: {config:?}");
    }
    assert_eq!(v["config"]["verdict"], "fail");
    let invalid: Vec<&str> = v["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "vm-payload-invalid")
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        invalid
            .iter()
            .any(|m| m.contains("Invalid value(s) for: pci_devices.2.path")),
        "{invalid:?}"
    );
    assert!(
        invalid.iter().any(|m| m.contains("pci_devices.2.pci_slot")),
        "{invalid:?}"
    );
}

fn example_check(root: &Path, args: &[&str]) -> (Value, i32) {
    let out = support::pptctl_at(root, example_from())
        .arg("check")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

#[test]
fn example_host_reserved_card_is_clean() {
    let (v, code) = example_check(&example_dir().join("root"), &["10de:a65", "10de:be3"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["host"]["verdict"], "ok");
    for slot in ["0000:01:00.0", "0000:01:00.1"] {
        let f = function(&v, slot);
        assert_ne!(f["verdict"], "fail", "{f}");
        let c = codes(f);
        assert!(!c.contains(&"siblings-left-behind".into()), "{f}");
        assert!(c.contains(&"next-boot".into()), "{f}");
    }
    assert_eq!(
        function(&v, "0000:01:00.0")["path"],
        "/pci@0,0/pci8086,151@1/display@0"
    );
    assert_eq!(v["config"]["verdict"], "ok", "{}", v["config"]);
    let config = codes(&v["config"]);
    assert_eq!(config, ["ppt-kept", "ppt-kept"], "{}", v["config"]);
    let msg = v["config"]["reasons"][0]["message"].as_str().unwrap();
    assert!(msg.contains("/dev/ppt0"), "{msg}");
}

#[test]
fn example_host_only_function_0_reserved() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    w(
        &root.join("etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n",
    );
    let (v, code) = example_check(&root, &[]);
    assert_eq!(
        code, 0,
        "a plain check leaves the host bridge and root port out: {v}"
    );
    assert!(v["functions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["slot"] != "0000:00:00.0" && f["slot"] != "0000:00:01.0"));
    let gpu = function(&v, "0000:01:00.0");
    assert_ne!(gpu["verdict"], "fail", "{gpu}");
    assert!(codes(gpu).contains(&"siblings-left-behind".into()), "{gpu}");
    let msg = gpu["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "siblings-left-behind")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("0000:01:00.1"), "{msg}");
    let audio = function(&v, "0000:01:00.1");
    assert!(!codes(audio).contains(&"siblings-left-behind".into()));
    let config = codes(&v["config"]);
    assert!(config.contains(&"pending-change".into()), "{config:?}");
    assert!(config.contains(&"ppt-kept".into()), "{config:?}");
    // A VM that still wants function 1 will not find it on ppt.
    let vm = t.path().join("vm.json");
    w(
        &vm,
        r#"{"alias":"gpu","pci_devices":[
            {"path":"/devices/pci@0,0/pci8086,151@1/display@0","pci_slot":"0:8:0"},
            {"path":"/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1","pci_slot":"0:8:1"}]}"#,
    );
    let (v, code) = example_check(&root, &["01:00.0", "--vm", vm.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["config"]["verdict"], "fail");
    let reason = v["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "ppt-not-bound")
        .unwrap_or_else(|| panic!("{}", v["config"]));
    assert!(
        reason["message"]
            .as_str()
            .unwrap()
            .contains("pci_devices.1"),
        "{reason}"
    );
}

#[test]
fn example_host_blog_typo_alias_is_explained() {
    // The 2018 blog's second alias lacks function 1's unit address.
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    w(
        &root.join("etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt \"/pci@0,0/pci8086,151@1/pci1462,2291\"\n",
    );
    let (v, code) = example_check(&root, &["10de:a65"]);
    assert_eq!(code, 0, "warnings only");
    assert_eq!(v["config"]["verdict"], "warn");
    let r = v["config"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "alias-binds-nothing")
        .unwrap_or_else(|| panic!("{}", v["config"]));
    let msg = r["message"].as_str().unwrap();
    assert!(msg.starts_with("/etc/ppt_aliases:2: "), "{msg}");
    assert!(
        msg.contains("pci1462,2291@0,1"),
        "the note names the real path: {msg}"
    );
    assert!(codes(function(&v, "0000:01:00.0")).contains(&"siblings-left-behind".into()));
}

#[test]
fn a_snapshot_gives_the_same_verdicts() {
    let t = tempfile::tempdir().unwrap();
    let sys = machine(t.path());
    let snap = pptctl(&sys, &["snapshot"])
        .success()
        .get_output()
        .stdout
        .clone();
    let file = t.path().join("host.json");
    fs::write(&file, snap).unwrap();
    let (live, live_code) = json(&sys, &["check", "--json"]);
    let out = support::pptctl_at(t.path().join("empty-root"), snapshot_from(&file))
        .args(["check", "--json"])
        .output()
        .unwrap();
    let offline: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(live_code));
    assert_eq!(offline, live);
}
