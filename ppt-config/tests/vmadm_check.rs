//! vmadm payload validation on the 2018 Levon how-to's card: the
//! correct payload passes, every broken variant is caught at the right JSON
//! location; generation gives one guest device with functions 0 and 1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::{Function, Host, Identity, IllumosNode, PathSource};
use pci_illumos::files::ConfigFiles;
use pci_illumos::root::HostRoot;
use ppt_config::session::{Captured, NextBootPpt, Session, SessionOptions};
use ppt_config::vmadm::{check_against_host, pci_devices, validate_payload, Severity};
use serde_json::{json, Value};

const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

fn func(addr: &str, vendor: u16, device: u16, class: u32, path: &str, driver: &str) -> Function {
    let mut f = Function::new(
        addr.parse().unwrap(),
        Identity {
            vendor,
            device,
            subsystem_vendor: None,
            subsystem: None,
            class,
            revision: 0xa1,
            header_type: Some(0x80),
        },
        Vec::new(),
    );
    f.illumos = Some(IllumosNode {
        path: path.into(),
        path_source: Some(PathSource::Devinfo),
        driver: Some(driver.into()),
        instance: Some(0),
        // As a PCIe function's node lists them: the kernel binds by these
        // first (vgatext, audiohd) and only then by a path alias.
        compatible: vec![
            format!("pciex{vendor:x},{device:x}"),
            format!("pciexclass,{class:06x}"),
            format!("pciexclass,{:04x}", class >> 8),
            format!("pci{vendor:x},{device:x}"),
            format!("pciclass,{class:06x}"),
            format!("pciclass,{:04x}", class >> 8),
        ],
        ..Default::default()
    });
    f
}

fn host(driver: &str) -> Host {
    Host {
        functions: vec![
            func("0000:01:00.0", 0x10de, 0x0a65, 0x030000, GPU, driver),
            func("0000:01:00.1", 0x10de, 0x0be3, 0x040300, AUDIO, driver),
        ],
        ..Default::default()
    }
}

fn seed_payload() -> Value {
    json!({"pci_devices": [
        {"path": format!("/devices{GPU}"), "pci_slot": "0:8:0"},
        {"path": format!("/devices{AUDIO}"), "pci_slot": "0:8:1"}
    ]})
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/levon-2018");

/// What the session answers for "on ppt after the next boot" on `host`
/// with a persistent root whose `/etc/ppt_aliases` holds `aliases` (none
/// when `None`), the how-to's `driver_aliases` and `name_to_major` beside
/// it; `release` is the root's `/etc/release` (a SmartOS one makes the
/// next boot unknown without its boot media).
fn next_boot(host: &Host, aliases: Option<&str>, release: Option<&str>) -> NextBootPpt {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    for f in ["driver_aliases", "name_to_major"] {
        std::fs::copy(format!("{EXAMPLE}/root/etc/{f}"), etc.join(f)).unwrap();
    }
    if let Some(text) = aliases {
        std::fs::write(etc.join("ppt_aliases"), text).unwrap();
    }
    if let Some(text) = release {
        std::fs::write(etc.join("release"), text).unwrap();
    }
    let opts = SessionOptions::new(&format!("snapshot:{EXAMPLE}/host.json"), dir.path()).unwrap();
    let captured = Captured {
        files: ConfigFiles::capture_root(&HostRoot::new(dir.path())),
        ..Default::default()
    };
    let session = Session::from_parts(&opts, host.clone(), captured);
    session.next_ppt().clone()
}

/// The how-to's `ppt_aliases`: both functions reserved.
fn both() -> String {
    format!("ppt \"{GPU}\"\nppt \"{AUDIO}\"\n")
}

/// (location, severity, message) of every problem, payload and host
/// checks, with the session's next boot of a root whose `/etc/ppt_aliases`
/// holds `aliases`.
fn problems(
    payload: &Value,
    host: &Host,
    aliases: Option<&str>,
) -> Vec<(String, Severity, String)> {
    judged(payload, host, &next_boot(host, aliases, None))
}

fn judged(payload: &Value, host: &Host, next: &NextBootPpt) -> Vec<(String, Severity, String)> {
    let (mut p, devices) = validate_payload(payload);
    p.extend(check_against_host(&devices, host, next));
    p.into_iter()
        .map(|p| (p.location, p.severity, p.message))
        .collect()
}

fn errors_at(payload: Value) -> Vec<String> {
    problems(&payload, &host("ppt"), Some(&both()))
        .into_iter()
        .filter(|p| p.1 == Severity::Error)
        .map(|p| p.0)
        .collect()
}

#[test]
fn generated_json_is_the_seed_json_with_the_corrected_path() {
    let h = host("vgatext");
    let funcs: Vec<&Function> = h.functions.iter().collect();
    let devs = pci_devices(&funcs, 0, None).unwrap();
    assert_eq!(
        serde_json::to_value(&devs).unwrap(),
        seed_payload()["pci_devices"]
    );
    // --device 4 is the boot disk's.
    assert!(pci_devices(&funcs, 0, Some(4))
        .unwrap_err()
        .to_string()
        .contains("reserved"));
    // Two cards get two guest devices, skipping reserved ones.
    let devs = pci_devices(&funcs, 0, Some(29)).unwrap();
    assert_eq!(devs[1].pci_slot, "0:29:1");
    let mut other = func(
        "0000:02:00.0",
        0x10de,
        0x0a65,
        0x030000,
        "/pci@0,0/pci8086,155@3/display@0",
        "ppt",
    );
    other.address = "0000:02:00.0".parse().unwrap();
    let funcs = vec![&h.functions[0], &h.functions[1], &other];
    let e = pci_devices(&funcs, 0, Some(29)).unwrap_err();
    assert!(e.to_string().contains("no free guest device"), "{e}");
    let devs = pci_devices(&funcs, 0, Some(2)).unwrap();
    assert_eq!(devs[2].pci_slot, "0:7:0", "3-6 are skipped");
}

#[test]
fn the_seed_payload_is_valid_on_the_reserved_host() {
    // On ppt now, but no ppt_aliases keeps it there after the next boot.
    let p = problems(&seed_payload(), &host("ppt"), None);
    let e: Vec<&str> = p
        .iter()
        .filter(|p| p.1 == Severity::Error)
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(e, ["pci_devices.0.path", "pci_devices.1.path"], "{p:?}");
    assert!(problems(&seed_payload(), &host("ppt"), Some(&both())).is_empty());
    // A compatible alias binds as well as a path alias: the session's
    // kernel prediction decides, not a list of paths.
    let ids = "ppt \"pciex10de,a65\"\nppt \"pciex10de,be3\"\n";
    assert!(problems(&seed_payload(), &host("ppt"), Some(ids)).is_empty());
    // A line the kernel rejects binds nothing, whatever it names.
    let broken = format!("ppt {GPU}\nppt \"{AUDIO}\"\n");
    let p = problems(&seed_payload(), &host("ppt"), Some(&broken));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, "pci_devices.0.path");
}

#[test]
fn each_broken_variant_is_caught_where_it_is() {
    let mut v = seed_payload();
    v["pci_devices"][1]["pci_slot"] = json!("4:32:0");
    assert_eq!(errors_at(v), ["pci_devices.1.pci_slot"]);

    let mut v = seed_payload();
    v["pci_devices"][0]["path"] = json!(GPU);
    let e = errors_at(v);
    assert_eq!(e[0], "pci_devices.0.path", "{e:?}");

    let mut v = seed_payload();
    v["pci_devices"][1]
        .as_object_mut()
        .unwrap()
        .remove("pci_slot");
    let (p, _) = validate_payload(&v);
    assert_eq!(p[0].location, "pci_devices.1.pci_slot");
    assert_eq!(
        p[0].message,
        "Missing required properties: pci_devices.1.pci_slot"
    );

    let mut v = seed_payload();
    v["pci_devices"][0]["model"] = json!("virtio");
    assert_eq!(errors_at(v), ["pci_devices.0.model"]);

    let mut v = seed_payload();
    v["add_pci_devices"] = v["pci_devices"].clone();
    let (p, _) = validate_payload(&v);
    assert_eq!(p[0].location, "add_pci_devices");
    assert_eq!(
        p[0].message,
        "Cannot specify both \"pci_devices\" and \"add_pci_devices\""
    );

    let mut v = seed_payload();
    v["pci_devices"][1]["pci_slot"] = json!("0:8:0");
    assert_eq!(errors_at(v), ["pci_devices.1.pci_slot"]);

    let mut v = seed_payload();
    v["pci_devices"][0]["pci_slot"] = json!("0:4:0");
    v["pci_devices"][1]["pci_slot"] = json!("0:4:1");
    assert_eq!(
        errors_at(v),
        ["pci_devices.0.pci_slot", "pci_devices.1.pci_slot"]
    );

    // The how-to's own typo: the audio path without its @0,1 unit address.
    let mut v = seed_payload();
    v["pci_devices"][1]["path"] = json!("/devices/pci@0,0/pci8086,151@1/pci1462,2291");
    assert_eq!(errors_at(v.clone()), ["pci_devices.1.path"]);
    let p = problems(&v, &host("ppt"), Some(&both()));
    assert!(p[1].2.ends_with("did you mean /devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1? (a node's unit address is part of its path)"), "{p:?}");

    let mut v = seed_payload();
    v["pci_devices"][1]["path"] = v["pci_devices"][0]["path"].clone();
    assert_eq!(errors_at(v), ["pci_devices.1.path"]);

    let v = json!({"remove_pci_devices": ["/pci@0,0/x"], "update_pci_devices": [{"path": format!("/devices{GPU}"), "pci_slot": "0x8"}]});
    assert_eq!(
        errors_at(v),
        ["update_pci_devices.0.pci_slot", "remove_pci_devices.0"]
    );
    let (p, _) = validate_payload(&json!([1]));
    assert_eq!(p[0].location, "");
}

#[test]
fn host_rules_warn_and_fail() {
    // Only function 1, on guest function 1: no function 0, GPU left behind.
    let v = json!({"pci_devices": [{"path": format!("/devices{AUDIO}"), "pci_slot": "0:8:1"}]});
    let p = problems(&v, &host("ppt"), Some(&both()));
    let w: Vec<&str> = p
        .iter()
        .filter(|p| p.1 == Severity::Warning)
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(w, ["pci_devices.0.pci_slot", "pci_devices.0.path"], "{p:?}");
    assert!(p
        .iter()
        .any(|p| p.2.contains("stay with the host: 0000:01:00.0")));

    // Not bound and not reserved: error; reserved for the next boot: warning.
    let p = problems(&seed_payload(), &host("vgatext"), None);
    let e: Vec<&str> = p
        .iter()
        .filter(|p| p.1 == Severity::Error)
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(e, ["pci_devices.0.path", "pci_devices.1.path"]);
    let p = problems(&seed_payload(), &host("vgatext"), Some(&both()));
    assert!(
        p.iter()
            .all(|p| p.1 == Severity::Warning && p.2.contains("until the host reboots")),
        "{p:?}"
    );

    // Bound now, but the pending file no longer reserves the audio function.
    let gpu_only = format!("ppt \"{GPU}\"\n");
    let p = problems(&seed_payload(), &host("ppt"), Some(&gpu_only));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, "pci_devices.1.path");
    assert!(p[0]
        .2
        .contains("no longer reserved after the next boot (read: /etc/ppt_aliases)"));
}

/// A next boot that cannot be known (SmartOS without its boot media)
/// promises nothing: a function on ppt now is judged as staying there, one
/// that is not still needs reserving.
#[test]
fn unknown_next_boot_counts_as_now() {
    let smartos = Some("                       SmartOS x86_64\n");
    for h in [host("ppt"), host("vgatext")] {
        let unknown = next_boot(&h, None, smartos);
        assert!(unknown.unknown_why().is_some(), "{unknown:?}");
        let p = judged(&seed_payload(), &h, &unknown);
        let errors = p.iter().any(|p| p.1 == Severity::Error);
        assert_eq!(errors, h.functions[0].driver_now() != Some("ppt"), "{p:?}");
        if errors {
            assert!(p[0].2.contains("give --boot-media DIR"), "{p:?}");
        }
    }
    // Nothing known at all (the default) is judged the same way.
    let p = judged(&seed_payload(), &host("ppt"), &NextBootPpt::default());
    assert!(p.is_empty(), "{p:?}");
}

/// A `vmadm create` payload as SmartOS users write it (the how-to's
/// shape: disks, nics, bootrom), with `pci_devices` given.
fn create_payload(pci_devices: Value) -> Value {
    json!({
        "brand": "bhyve",
        "alias": "gpu-vm",
        "ram": 8192,
        "vcpus": 4,
        "bootrom": "uefi",
        "autoboot": false,
        "disks": [
            {"boot": true, "model": "virtio", "size": 40960},
            {"model": "virtio", "size": 10240, "pci_slot": "0:9:0"}
        ],
        "nics": [{"nic_tag": "admin", "ip": "dhcp", "model": "virtio", "primary": true}],
        "pci_devices": pci_devices
    })
}

fn at(payload: &Value) -> Vec<(String, Severity, String)> {
    problems(payload, &host("ppt"), Some(&both()))
}

/// bhyve's MPtable describes bus 0 only (mptbl.c `mptable_build`), and the
/// brand never passes -Y: a device on bus 181 stops bhyve unless the VM's
/// bhyve_extra_opts turn the MPtable off.
#[test]
fn a_bus_other_than_0_needs_the_mptable_off() {
    let devices = json!([
        {"path": format!("/devices{GPU}"), "pci_slot": "181:0:0"},
        {"path": format!("/devices{AUDIO}"), "pci_slot": "181:0:1"}
    ]);
    let p = at(&create_payload(devices.clone()));
    let errors: Vec<&(String, Severity, String)> =
        p.iter().filter(|p| p.1 == Severity::Error).collect();
    assert_eq!(errors.len(), 2, "{p:?}");
    assert_eq!(errors[0].0, "pci_devices.0.pci_slot");
    assert!(
        errors[0]
            .2
            .contains("MPtable is incompatible with multiple PCI hierarchies"),
        "{p:?}"
    );
    assert!(errors[0].2.contains("sets no bhyve_extra_opts"), "{p:?}");
    let (problems, _) = validate_payload(&create_payload(devices.clone()));
    // Filed under its own rule, whose hint does not send the user to
    // another bus.
    assert_eq!(problems[0].code, "guest-bus-mptable");
    let rule = ppt_config::viability::rules::ALL
        .iter()
        .find(|r| r.code == "guest-bus-mptable")
        .unwrap();
    assert_eq!(rule.severity, ppt_config::viability::Severity::Fail);
    assert!(rule.hint.contains("-Y"), "{}", rule.hint);
    let reserved = ppt_config::viability::rules::GUEST_SLOT_RESERVED;
    assert!(!reserved.hint.contains("bus 1") && !reserved.hint.contains("another bus"));

    // -Y among other options, or -o x86.mptable=false: bhyve starts.
    for opts in ["-c sockets=1,cores=2 -Y", "-o x86.mptable=false"] {
        let mut v = create_payload(devices.clone());
        v["bhyve_extra_opts"] = json!(opts);
        assert!(at(&v).is_empty(), "{opts}: {:?}", at(&v));
    }
    // Options that leave the MPtable on say so.
    let mut v = create_payload(devices.clone());
    v["bhyve_extra_opts"] = json!("-c sockets=1,cores=2");
    assert!(at(&v)[0].2.contains("does not turn it off"), "{:?}", at(&v));

    // An update payload does not show the VM's own options: still an
    // error, which says how to tell.
    let v = json!({"add_pci_devices": devices});
    let p = at(&v);
    assert_eq!(p[0].1, Severity::Error);
    assert!(p[0].2.contains("this update payload"), "{p:?}");
}

/// A disk with its own pci_slot takes that guest slot (boot.c `add_disk`):
/// a passthru device there is refused by bhyve (`pci_parse_slot`), and the
/// disk counts as function 0 of its guest device.
#[test]
fn a_disks_own_slot_is_taken() {
    let v = create_payload(json!([
        {"path": format!("/devices{GPU}"), "pci_slot": "0:9:0"},
        {"path": format!("/devices{AUDIO}"), "pci_slot": "0:9:1"}
    ]));
    let p = at(&v);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, "pci_devices.0.pci_slot");
    assert_eq!(p[0].1, Severity::Error);
    assert!(p[0].2.contains("already used by disks.1 (a disk)"), "{p:?}");

    // The audio function alone at 0:9:1 beside the disk at 0:9:0: function
    // 0 exists, so only the left-behind GPU is reported.
    let v = create_payload(json!([
        {"path": format!("/devices{AUDIO}"), "pci_slot": "0:9:1"}
    ]));
    let p = at(&v);
    assert!(p.iter().all(|p| p.0 != "pci_devices.0.pci_slot"), "{p:?}");
}

/// The real how-to payload on bus 0 is clean, and `vm-json --bus 1`
/// generates a payload that turns the MPtable off and so passes its own
/// check.
#[test]
fn generation_beyond_bus_0_turns_the_mptable_off() {
    let v = create_payload(seed_payload()["pci_devices"].clone());
    assert!(at(&v).is_empty(), "{:?}", at(&v));
    let h = host("ppt");
    let funcs: Vec<&Function> = h.functions.iter().collect();
    let devs = pci_devices(&funcs, 1, Some(0)).unwrap();
    assert_eq!(devs[0].pci_slot, "1:0:0");
    let v = ppt_config::vmadm::payload(&devs, false);
    assert_eq!(v["bhyve_extra_opts"], "-Y");
    assert!(at(&v).is_empty(), "{:?}", at(&v));
    let v = ppt_config::vmadm::payload(&pci_devices(&funcs, 0, None).unwrap(), true);
    assert!(v.get("bhyve_extra_opts").is_none());
}

/// `check --vm` asks the same judgement: on the how-to's host (its
/// snapshot and root), the bus-181 payload fails the config section under
/// guest-bus-mptable, and the same payload with -Y does not.
#[test]
fn check_vm_judges_the_bus_as_vm_json_does() {
    use ppt_config::session::{vm_plan, Session, SessionOptions};
    let ex = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/levon-2018");
    let opts =
        SessionOptions::new(&format!("snapshot:{ex}/host.json"), format!("{ex}/root")).unwrap();
    let session = Session::open(&opts).unwrap();
    let devices = json!([
        {"path": format!("/devices{GPU}"), "pci_slot": "181:0:0"},
        {"path": format!("/devices{AUDIO}"), "pci_slot": "181:0:1"}
    ]);
    let codes = |v: &Value| -> Vec<String> {
        let answer = session
            .check_scope(&[], vec![vm_plan("vm.json", v)], false)
            .unwrap();
        answer
            .report
            .config
            .reasons
            .iter()
            .map(|r| format!("{} {}", r.severity, r.code))
            .collect()
    };
    let got = codes(&create_payload(devices.clone()));
    assert!(
        got.contains(&"fail guest-bus-mptable".to_string()),
        "{got:?}"
    );
    let mut v = create_payload(devices);
    v["bhyve_extra_opts"] = json!("-Y");
    let got = codes(&v);
    assert!(
        !got.iter()
            .any(|c| c.ends_with("guest-bus-mptable") || c.ends_with("guest-slot-reserved")),
        "{got:?}"
    );
}
