//! `pptctl fleet verify` on SQLite and (with `PPTCTL_TEST_PG`) PostgreSQL:
//! hosts built from the example host before its reboot (the reservation
//! on its boot media) and after it (both GPU functions on ppt), each host
//! changed in one way after the reboot; every outcome, the hosts not
//! judged, `--host`, `--json` and the exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chromium;
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

/// HTML-escaped as the report writes text (markup characters only).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A host's page in a report directory (`h-NAME.html`, bytes outside
/// `A-Za-z0-9.-` as `_xx`).
fn host_page(dir: &Path, host: &str) -> String {
    let mut name = String::from("h-");
    for b in host.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("_{b:02x}"));
        }
    }
    std::fs::read_to_string(dir.join("hosts").join(name + ".html")).unwrap()
}

/// `fleet verify --json`'s words for one host, as the report must show them.
fn verify_words(h: &Value) -> String {
    let p = h["predictions"].as_array().map_or(&[][..], Vec::as_slice);
    let n = p.len();
    let s = if n == 1 { "binding" } else { "bindings" };
    match h["status"].as_str().unwrap() {
        "held" => format!("held: {n} predicted {s}"),
        "broken" => {
            let k = p.iter().filter(|e| e["held"] == false).count();
            format!("broken: {k} of {n} predicted {s}")
        }
        _ => format!("not judged: {}", h["why"].as_str().unwrap()),
    }
}

#[test]
fn the_fleet_report_shows_each_hosts_reboot_as_verify_judges_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = before_after(&tmp.path().join("ex"));
    let mut files = fleet_files(tmp.path(), &before, &after);
    // A host whose name and new driver carry markup.
    let mut ea = named(&after, "x<b>y", T1);
    set_driver(&mut ea, GPU, "<script>alert(1)</script>");
    for (n, d) in [named(&before, "x<b>y", T0), ea].iter().enumerate() {
        let p = tmp.path().join(format!("esc{n}.json"));
        std::fs::write(&p, serde_json::to_vec(d).unwrap()).unwrap();
        files.push(p.display().to_string());
    }
    for db in databases("verify_report") {
        let mut args = vec!["fleet", "--db", &db.spec, "ingest"];
        args.extend(files.iter().map(String::as_str));
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{}: {out}{err}", db.kind);
        let (_, out, _) = run(&["fleet", "--db", &db.spec, "verify", "--json"]);
        let verdicts: Vec<Value> = serde_json::from_str(&out).unwrap();
        let dir = tmp.path().join(format!("report-{}", db.kind));
        let d = format!("{}/", dir.display());
        let (code, _, err) = run(&["fleet", "--db", &db.spec, "report", "--html", &d]);
        assert_eq!(code, 0, "{}: {err}", db.kind);
        let index = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(index.contains("<th>after reboot</th>"), "{}", db.kind);
        let broken = verdicts.iter().filter(|h| h["status"] == "broken").count();
        assert!(broken >= 5, "{}: the fixture breaks hosts", db.kind);
        assert!(
            index.contains(&format!("{broken} broken after the last reboot")),
            "{}",
            db.kind
        );
        for h in &verdicts {
            let name = h["host"].as_str().unwrap();
            let status = h["status"].as_str().unwrap();
            let words = esc(&verify_words(h));
            // The summary line: the host, its verdict, then verify's words.
            let row = &index[index.find(&format!(">{}</a>", esc(name))).unwrap()..];
            let row = &row[..row.find("</tr>").unwrap()];
            assert!(
                row.contains(&format!("<i class=\"v v-{status}\">{words}</i>")),
                "{}: {name}: {row}",
                db.kind
            );
            let page = host_page(&dir, name);
            assert!(page.contains("<h3>After the last reboot</h3>"), "{name}");
            assert!(page.contains(&words), "{}: {name}", db.kind);
            for e in h["predictions"].as_array().into_iter().flatten() {
                let class = if e["held"] == true {
                    "r-info"
                } else {
                    "r-fail"
                };
                let line = format!(
                    "<li class=\"{class}\">{} {} /devices{}: {}: expected {}, found {}: ",
                    e["address"].as_str().unwrap(),
                    e["ids"].as_str().unwrap(),
                    e["devfs_path"].as_str().unwrap(),
                    e["outcome"].as_str().unwrap(),
                    e["expected"].as_str().unwrap(),
                    esc(e["found"].as_str().unwrap()),
                );
                assert!(page.contains(&line), "{}: {name}: {line}", db.kind);
            }
            assert_eq!(page.matches("<script").count(), 1, "{name}: one script");
        }
        assert_eq!(index.matches("<script").count(), 1);
        assert!(!index.contains("<b>y"), "markup from a host name");
        if db.kind == "sqlite" {
            filters_in_chromium(&dir.join("index.html"), &verdicts);
        }
        // The one-page report has the column and a section per host.
        let file = tmp.path().join(format!("one-{}.html", db.kind));
        let f = file.display().to_string();
        let (code, _, err) = run(&["fleet", "--db", &db.spec, "report", "--html", &f]);
        assert_eq!(code, 0, "{err}");
        let one = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            one.matches("<h3>After the last reboot</h3>").count(),
            verdicts.len()
        );
        assert_eq!(one.matches("<script").count(), 1);
    }
}

/// The summary's after-reboot filter, set from the address, shows the
/// hosts `fleet verify` gives that status, in headless Chromium.
fn filters_in_chromium(index: &Path, verdicts: &[Value]) {
    let Some(b) = chromium::chromium() else {
        return;
    };
    let count = |status: &str| verdicts.iter().filter(|h| h["status"] == status).count();
    let renumbered = verdicts
        .iter()
        .filter(|h| h["status"] == "broken" && h["host"] == "renumbered")
        .count();
    for (hash, want) in [
        ("reboot=broken", count("broken")),
        ("reboot=held", count("held")),
        ("reboot=not%20judged", count("not-judged")),
        ("reboot=broken&q=renumbered", renumbered),
        ("q=nosuchhost", 0),
    ] {
        let page = std::path::PathBuf::from(format!("{}#{hash}", index.display()));
        let r = chromium::browse(&b, &page, &["--dump-dom"]);
        assert!(r.stdout.contains("data-ready=\"1\""), "{hash}: no script");
        assert!(
            r.stdout.contains(&format!("<b id=\"shown\">{want}</b>")),
            "{hash}: not {want} shown"
        );
        assert_eq!(
            r.stdout.matches(" hidden=\"\">").count(),
            verdicts.len() - want,
            "{hash}"
        );
        assert!(chromium::console(&r.stderr).is_empty(), "{hash}");
    }
    // The pictures docs/fleet.md shows: the summary with each host's
    // reboot, and the page of a host a driver took a GPU from.
    let shot = chromium::shot_path("fleet-after-reboot.png");
    chromium::screenshot(&b, index, &shot, (1200, 560));
    let page = index.with_file_name("hosts").join("h-hostdriver.html");
    let shot = chromium::shot_path("fleet-host-page.png");
    chromium::screenshot(&b, &page, &shot, (1200, 900));
}
