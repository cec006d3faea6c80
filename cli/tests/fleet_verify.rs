//! `pptctl fleet verify` on SQLite and (with `PPTCTL_TEST_PG`) PostgreSQL:
//! hosts built from the example host before its reboot (the reservation
//! on its boot media) and after it (both GPU functions on ppt), each host
//! changed in one way after the reboot; every outcome, the hosts not
//! judged, `--host`, `--json` and the exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;
mod reboot_pair;

use std::path::Path;
use std::process::Command;

use fleet_support::databases;
use reboot_pair::{before_after, function, named, run, set_driver};
use serde_json::{json, Value};

const T0: &str = "2026-11-30T00:00:00Z";
const T1: &str = "2026-11-30T01:00:00Z";
const GPU: &str = "0000:01:00.0";
const AUDIO: &str = "0000:01:00.1";

/// One file per (host, time): each host's change after the reboot.
fn fleet_files(dir: &Path, before: &Value, after: &Value) -> Vec<String> {
    let mut docs = vec![named(before, "held", T0), named(after, "held", T1)];
    docs.push(named(before, "missing", T0));
    let mut m = named(after, "missing", T1);
    m["functions"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["address"] != AUDIO);
    docs.push(m);
    // Links already there before the reboot, swapped after it.
    let mut rb = named(before, "renumbered", T0);
    rb["ppt_links"] = after["ppt_links"].clone();
    let mut ra = named(after, "renumbered", T1);
    let links = ra["ppt_links"].as_array_mut().unwrap();
    let (d0, d1) = (links[0]["dev"].clone(), links[1]["dev"].clone());
    (links[0]["dev"], links[1]["dev"]) = (d1, d0);
    docs.extend([rb, ra]);
    docs.push(named(before, "hostdriver", T0));
    let mut h = named(after, "hostdriver", T1);
    set_driver(&mut h, GPU, "nvidia");
    docs.push(h);
    docs.push(named(before, "identity", T0));
    let mut i = named(after, "identity", T1);
    function(&mut i, GPU)["ids"]["revision"] = json!(0xa3);
    docs.push(i);
    // A VM used the GPU before the reboot; after it, a host driver has it.
    let mut vb = named(before, "vm", T0);
    let path = function(&mut vb, GPU)["illumos"]["path"].clone();
    vb["vms"] = json!({"state": "known", "reason": null, "zones": [{
        "name": "5b0c6f8e-7d8a-4a53-9d1c-3f2e1a0b9c11", "file": "/etc/zones/vm.xml",
        "pci_devices": [{"path": format!("/devices{}", path.as_str().unwrap()), "pci_slot": null}]}]});
    let mut va = named(after, "vm", T1);
    set_driver(&mut va, GPU, "vgatext");
    docs.extend([vb, va]);
    docs.push(named(after, "lonely", T1));
    docs.push(named(after, "unpredicted", T1));
    let mut files: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(n, d)| {
            let p = dir.join(format!("s{n:02}.json"));
            std::fs::write(&p, serde_json::to_vec_pretty(d).unwrap()).unwrap();
            p.display().to_string()
        })
        .collect();
    // A format 1 snapshot (no next-boot prediction), named by its file,
    // timed by its mtime, before the format 2 one above.
    let v1 = dir.join("unpredicted.json");
    std::fs::copy(dir.join("ex/host.json"), &v1).unwrap();
    let touched = Command::new("touch")
        .arg("-d")
        .arg(T0)
        .arg(&v1)
        .status()
        .unwrap();
    assert!(touched.success());
    files.push(v1.display().to_string());
    files
}

#[test]
fn verify_judges_every_host_after_its_reboot() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = before_after(&tmp.path().join("ex"));
    let files = fleet_files(tmp.path(), &before, &after);
    for db in databases("verify") {
        let mut args = vec!["fleet", "--db", &db.spec, "ingest"];
        args.extend(files.iter().map(String::as_str));
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{}: {out}{err}", db.kind);
        check_text(&db.spec, db.kind);
        check_json(&db.spec, db.kind);
        check_one_host(&db.spec, db.kind);
    }
}

fn check_text(d: &str, kind: &str) {
    let (code, out, err) = run(&["fleet", "--db", d, "verify"]);
    assert_eq!(code, 1, "{kind}: {out}{err}");
    for want in [
        "held\theld: 2 predicted bindings\t2026-11-30T00:00:00Z -> 2026-11-30T01:00:00Z\n",
        "hostdriver\tBROKEN: 1 of 2 predicted bindings",
        "  0000:01:00.0 10de:0a65 /pci@0,0/pci8086,151@1/display@0: host-driver: expected ppt, found nvidia\n",
        "0000:01:00.0 10de:0a65 /pci@0,0/pci8086,151@1/display@0: identity-changed: expected ppt, found another device (10de:0a65 sub 1462:2291 rev a3)\n",
        "0000:01:00.1 10de:0be3 /pci@0,0/pci8086,151@1/pci1462,2291@0,1: missing: expected ppt, found missing\n",
        "renumbered: expected ppt, found ppt as /dev/ppt1 (was /dev/ppt0)\n",
        "vm-device-off-ppt: expected ppt, found vgatext\n",
        "lonely\tnot judged: one snapshot\t- -> 2026-11-30T01:00:00Z\n",
        "unpredicted\tnot judged: no next-boot prediction\t",
        "1 held, 5 broken, 2 not judged\n",
    ] {
        assert!(out.contains(want), "{kind}: {want:?} not in\n{out}");
    }
}

fn check_json(d: &str, kind: &str) {
    let (code, out, _) = run(&["fleet", "--db", d, "verify", "--json"]);
    assert_eq!(code, 1, "{kind}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let status: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["host"].as_str().unwrap().into(),
                h["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("held", "held"),
        ("hostdriver", "broken"),
        ("identity", "broken"),
        ("lonely", "not-judged"),
        ("missing", "broken"),
        ("renumbered", "broken"),
        ("unpredicted", "not-judged"),
        ("vm", "broken"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(status, want, "{kind}");
    let vm = &v.as_array().unwrap()[7]["predictions"][0];
    assert_eq!(vm["outcome"], "vm-device-off-ppt", "{kind}: {vm}");
}

fn check_one_host(d: &str, kind: &str) {
    let (code, out, err) = run(&["fleet", "--db", d, "verify", "--host", "held"]);
    assert_eq!((code, out.lines().count()), (0, 2), "{kind}: {out}{err}");
    let (code, _, err) = run(&["fleet", "--db", d, "verify", "--host", "lonely"]);
    assert_eq!(code, 0, "{kind}: not judged is not broken: {err}");
    let (code, _, err) = run(&["fleet", "--db", d, "verify", "--host", "nosuch"]);
    assert_eq!(code, 2, "{kind}: {err}");
    assert!(err.contains("nosuch"), "{kind}: {err}");
}
