//! `PciNames` against the installed `lspci` (pciutils 3.9.0): for every
//! function of every real dump, the vendor, device, class and subsystem
//! names we look up in the system `pci.ids` must be the ones `lspci -vmm`
//! prints from the same file. Skips when lspci, the system `pci.ids` or
//! the real data is missing.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{extract_dumps, hex_only_copy, parse_slot, realdata, Slot};
use pci_core::config::ConfigSpace;
use pci_core::names::PciNames;

fn files_with_hex(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == "_generated_lspci-3.9.0") {
            continue;
        }
        if p.is_dir() {
            files_with_hex(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `Slot` → field → value from `lspci -vmm`.
fn lspci_vmm(file: &Path) -> Option<HashMap<Slot, HashMap<String, String>>> {
    let out = Command::new("lspci")
        .args(["-O", "hwdb.disable=1"])
        .arg("-F")
        .arg(file)
        .arg("-vmm")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut map = HashMap::new();
    for rec in text.split("\n\n") {
        let fields: HashMap<String, String> = rec
            .lines()
            .filter_map(|l| l.split_once(":\t"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some(slot) = fields
            .get("Slot")
            .and_then(|s| parse_slot(&format!("{s} ")))
        {
            map.insert(slot, fields);
        }
    }
    Some(map)
}

/// Compares our names of one function with lspci's fields (`at` names it
/// in problems); false when the config bytes have no identity.
fn compare(
    names: &PciNames,
    cfg: &[u8],
    want: &HashMap<String, String>,
    at: &str,
    problems: &mut Vec<String>,
) -> bool {
    let cfg = ConfigSpace::new(cfg);
    let (Some(v), Some(d), Some(class)) = (cfg.vendor_id(), cfg.device_id(), cfg.class_code())
    else {
        return false;
    };
    let mut cmp = |what: &str, ours: Option<&str>, fallback: String| {
        let theirs = want.get(what).map(String::as_str).unwrap_or("");
        let expect = ours.map_or(fallback, str::to_string);
        if theirs != expect {
            problems.push(format!("{at} {what}: ours {expect:?} lspci {theirs:?}"));
        }
    };
    cmp("Vendor", names.vendor(v), format!("Vendor {v:04x}"));
    cmp("Device", names.device(v, d), format!("Device {d:04x}"));
    let (base, sub) = ((class >> 16) as u8, (class >> 8) as u8);
    if let Some(n) = names.subclass(base, sub) {
        cmp("Class", Some(n), String::new());
    }
    if let Some((sv, sd)) = cfg.subsystem() {
        if let Some(n) = names.subsystem(v, d, sv, sd) {
            cmp("SDevice", Some(n), String::new());
        }
        if let Some(n) = names.vendor(sv) {
            cmp("SVendor", Some(n), String::new());
        }
    }
    true
}

#[test]
fn names_agree_with_lspci() {
    let names = PciNames::load();
    let Some(path) = names.path().map(Path::to_path_buf) else {
        eprintln!("no system pci.ids; skipping");
        return;
    };
    if Command::new("lspci").arg("--version").output().is_err() {
        eprintln!("lspci not installed; skipping");
        return;
    }
    let root = realdata();
    if !root.is_dir() {
        eprintln!("{} absent; skipping", root.display());
        return;
    }
    let mut files = Vec::new();
    files_with_hex(&root, &mut files);
    files.sort();
    let tmp = tempfile::tempdir().unwrap();
    let (mut checked, mut problems) = (0usize, Vec::new());
    for f in files {
        let Ok(bytes) = fs::read(&f) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        let dumps = extract_dumps(&text);
        if dumps.is_empty() {
            continue;
        }
        let copy = tmp.path().join("hex");
        fs::write(&copy, hex_only_copy(&text)).unwrap();
        let Some(lspci) = lspci_vmm(&copy) else {
            continue;
        };
        for (slot, cfg) in dumps {
            let Some(want) = lspci.get(&slot) else {
                continue;
            };
            let at = format!("{} {slot:x?}", f.display());
            checked += usize::from(compare(&names, &cfg, want, &at, &mut problems));
        }
    }
    eprintln!(
        "checked names of {checked} functions against lspci using {}",
        path.display()
    );
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(checked >= 800, "only {checked} functions checked");
}
