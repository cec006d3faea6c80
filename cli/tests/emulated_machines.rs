//! Acceptance tests on sysfs trees captured from real Linux kernels in QEMU
//! (tests/emulated/capture.sh): q35 with a PCIe switch, NVMe SR-IOV VFs,
//! a pcie-pci-bridge, a second root bus (pxb-pcie) and intel-iommu groups;
//! q35 with CXL (host bridge, root ports, switch, type-3 devices); i440fx
//! with legacy PCI devices, a pci-bridge and a pxb root bus.
//!
//! Every tree is unpacked into a tempdir and read by pptctl and by
//! `lspci -A linux-sysfs -O sysfs.path=DIR/bus/pci`:
//! * `show -n`, `-n -D`, `-nn`, `-x`, `-xxxx` are byte-identical to lspci;
//! * `show --json` agrees with `lspci -vvv` on capability and extended
//!   capability offsets (in order), MSI-X table size, FLR, link speed and
//!   width, BAR addresses and sizes;
//! * `check --json` gives `no-msi` (fail) to every function without MSI or
//!   MSI-X, `bar-not-page-aligned` (fail) to every memory BAR under 4 KiB
//!   or not 4 KiB aligned, `no-reset` to every PCIe endpoint without FLR,
//!   and never `ok` to any of those. The expectations come from lspci's
//!   text, never from pptctl's own decode.
//!
//! Tests skip (with a message) when `tar` or `lspci` is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Cmd;
use serde_json::Value;
use tempfile::TempDir;

const MACHINES: &[&str] = &["q35", "q35-cxl", "pc"];

fn fixture(machine: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/emulated"))
        .join(format!("{machine}.tar.gz"))
}

/// Unpacks a captured tree; `None` (test skips) when `tar` cannot run.
fn unpack(machine: &str) -> Option<TempDir> {
    let dir = TempDir::new().unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(fixture(machine))
        .arg("-C")
        .arg(dir.path())
        .output();
    match out {
        Ok(o) if o.status.success() => Some(dir),
        Ok(o) => panic!(
            "tar cannot unpack {}: {}",
            fixture(machine).display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("skipping: cannot run tar: {e}");
            None
        }
    }
}

fn have_lspci() -> bool {
    let ok = Command::new("lspci")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: lspci is not installed");
    }
    ok
}

fn lspci(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("lspci")
        .arg("-A")
        .arg("linux-sysfs")
        .arg("-O")
        .arg(format!("sysfs.path={}/bus/pci", dir.display()))
        // names from pci.ids only, as pptctl (and illumos pcidb) look them up
        .args(["-O", "hwdb.disable=1"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "lspci {args:?} failed");
    out.stdout
}

fn pptctl(dir: &Path, args: &[&str]) -> std::process::Output {
    Cmd::cargo_bin("pptctl")
        .unwrap()
        .arg("--from")
        .arg(format!("sysfs:{}", dir.display()))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn fixtures_hold_what_they_claim() {
    // The captures must really contain the interesting topology, or the
    // tests below prove little.
    for (machine, expect) in [
        // SR-IOV PF and VFs, switch ports, pcie-pci-bridge, second root bus
        (
            "q35",
            &[
                "virtfn0",
                "physfn",
                "104c:8232",
                "1b36:000e",
                "80:00.0",
                "iommu_group",
                // multifunction device, integrated endpoint on the root complex
                "00:0d.1",
                "00:0c.0 0200: 8086:10d3",
            ][..],
        ),
        // CXL root port / switch ports / type-3 memory device (class 0502)
        (
            "q35-cxl",
            &["8086:7075", "19e5:a128", "0502: 8086:0d93"][..],
        ),
        // i440fx, ES1370, AC97, pxb root bus
        (
            "pc",
            &["8086:1237", "1274:5000", "8086:2415", "1b36:0009"][..],
        ),
    ] {
        let Some(dir) = unpack(machine) else { return };
        let out = pptctl(dir.path(), &["show", "-n"]);
        assert!(out.status.success());
        let mut text = String::from_utf8(out.stdout).unwrap();
        for entry in walk(dir.path()) {
            text.push('\n');
            text.push_str(&entry);
        }
        for e in expect {
            assert!(text.contains(e), "{machine}: capture lacks {e}");
        }
    }
}

/// Every path below `dir` (names only), to look for links like `virtfn0`.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            out.push(e.path().display().to_string());
            if ft.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

#[test]
fn show_is_byte_identical_to_lspci() {
    if !have_lspci() {
        return;
    }
    for machine in MACHINES {
        let Some(dir) = unpack(machine) else { return };
        for args in [
            &["-n"][..],
            &["-n", "-D"],
            &["-nn"],
            &[],
            &["-x"],
            &["-xxx"],
            &["-xxxx"],
            &["-n", "-s", "80:"],
            &["-n", "-d", "1b36:"],
        ] {
            let mut show = vec!["show"];
            show.extend_from_slice(args);
            let ours = pptctl(dir.path(), &show);
            let theirs = lspci(dir.path(), args);
            assert!(
                !theirs.is_empty() || args.len() > 1,
                "{machine}: lspci printed nothing"
            );
            if ours.stdout != theirs {
                let diff = similar::TextDiff::from_lines(
                    std::str::from_utf8(&theirs).unwrap(),
                    std::str::from_utf8(&ours.stdout).unwrap(),
                );
                panic!(
                    "{machine}: `pptctl show {}` differs from lspci (- lspci, + pptctl):\n{}",
                    args.join(" "),
                    diff.unified_diff()
                );
            }
        }
    }
}

/// What `lspci -vvv` says about one function.
#[derive(Debug, Default)]
struct Lspci {
    caps: Vec<u32>,
    ext_caps: Vec<u32>,
    msi: bool,
    msix_count: Option<u64>,
    /// `FLReset+` in DevCap.
    pcie_flr: bool,
    /// `FLR+` in AFCap.
    af_flr: bool,
    /// The Express capability's device/port type text, e.g. `Endpoint`.
    express: Option<String>,
    lnkcap: Option<(String, u64)>,
    lnksta: Option<(String, u64)>,
    /// Region index -> (memory?, address if assigned, size in bytes).
    regions: BTreeMap<u64, (bool, Option<u64>, u64)>,
    /// Regions lspci marks `[virtual]`: the address comes from the OS
    /// (an SR-IOV VF's BARs read as zero in its config space).
    virtual_regions: Vec<u64>,
}

/// `16K` -> 16384, as lspci prints sizes.
fn size(text: &str) -> u64 {
    let (num, mult) = match text.chars().last() {
        Some('K') => (&text[..text.len() - 1], 1u64 << 10),
        Some('M') => (&text[..text.len() - 1], 1 << 20),
        Some('G') => (&text[..text.len() - 1], 1 << 30),
        Some('T') => (&text[..text.len() - 1], 1 << 40),
        _ => (text, 1),
    };
    num.parse::<u64>().unwrap() * mult
}

/// `Speed 2.5GT/s, Width x1` -> ("2.5GT/s", 1).
fn link(text: &str) -> Option<(String, u64)> {
    let speed = text
        .split("Speed ")
        .nth(1)?
        .split([',', ' '])
        .next()?
        .to_string();
    let width = text
        .split("Width x")
        .nth(1)?
        .split([',', ' '])
        .next()?
        .parse()
        .ok()?;
    Some((speed, width))
}

/// Parses `lspci -D -vvv` into one record per slot.
fn parse_vvv(text: &str) -> BTreeMap<String, Lspci> {
    let mut all = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let slot = lines.next().unwrap().split(' ').next().unwrap().to_string();
        let mut f = Lspci::default();
        // the DevCap/LnkCap... label a continuation line belongs to
        let mut label = String::new();
        for line in lines {
            if let Some(rest) = line.strip_prefix("\tCapabilities: [") {
                let (head, tail) = rest.split_once("] ").unwrap_or((rest, ""));
                let (off, ext) = match head.split_once(' ') {
                    Some((o, _version)) => (o, true),
                    None => (head, false),
                };
                let off = u32::from_str_radix(off, 16).unwrap();
                if ext {
                    f.ext_caps.push(off);
                } else {
                    f.caps.push(off);
                }
                if tail.starts_with("MSI: ") {
                    f.msi = true;
                }
                if let Some(m) = tail.strip_prefix("MSI-X: ") {
                    let c = m.split("Count=").nth(1).unwrap().split(' ').next().unwrap();
                    f.msix_count = Some(c.parse().unwrap());
                }
                if let Some(e) = tail.strip_prefix("Express (") {
                    let t = e.split_once(") ").unwrap().1;
                    let t = t.split([',', '(']).next().unwrap().trim();
                    f.express = Some(t.to_string());
                }
                label.clear();
                continue;
            }
            if let Some(rest) = line.strip_prefix("\tRegion ") {
                let (idx, desc) = rest.split_once(": ").unwrap();
                let idx: u64 = idx.parse().unwrap();
                let mem = desc.starts_with("Memory at ");
                let addr = desc
                    .split(" at ")
                    .nth(1)
                    .and_then(|a| a.split(' ').next())
                    .and_then(|a| u64::from_str_radix(a, 16).ok());
                let sz = desc
                    .split("[size=")
                    .nth(1)
                    .map(|s| size(s.split(']').next().unwrap()));
                if desc.contains("[virtual]") {
                    f.virtual_regions.push(idx);
                }
                if let Some(sz) = sz {
                    f.regions.insert(idx, (mem, addr, sz));
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix("\t\t") {
                if !rest.starts_with('\t') {
                    label = rest.split([':', '\t']).next().unwrap().to_string();
                }
                match label.as_str() {
                    "DevCap" if rest.contains("FLReset+") => f.pcie_flr = true,
                    "AFCap" if rest.contains("FLR+") => f.af_flr = true,
                    "LnkCap" if rest.starts_with("LnkCap:") => f.lnkcap = link(rest),
                    "LnkSta" if rest.starts_with("LnkSta:") => f.lnksta = link(rest),
                    _ => {}
                }
            }
        }
        all.insert(slot, f);
    }
    all
}

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap(), 16).unwrap()
}

#[test]
fn show_json_agrees_with_lspci_vvv() {
    if !have_lspci() {
        return;
    }
    for machine in MACHINES {
        let Some(dir) = unpack(machine) else { return };
        let text = String::from_utf8(lspci(dir.path(), &["-D", "-vvv"])).unwrap();
        let theirs = parse_vvv(&text);
        let out = pptctl(dir.path(), &["show", "--json"]);
        assert!(out.status.success(), "{machine}: show --json failed");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = json["functions"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{machine}: function count");
        for f in ours {
            let slot = f["slot"].as_str().unwrap();
            let l = &theirs[slot];
            compare(f, l, &format!("{machine} {slot}"));
        }
    }
}

/// One function of `show --json` against lspci -vvv's: capability
/// offsets, MSI/MSI-X, PCIe link and FLR, BARs (`at` names it).
fn compare(f: &Value, l: &Lspci, at: &str) {
    let offs = |key: &str| -> Vec<u32> {
        f[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c["offset"].as_u64().unwrap() as u32)
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(offs("capabilities"), l.caps, "{at}: capability offsets");
    assert_eq!(
        offs("extended_capabilities"),
        l.ext_caps,
        "{at}: extended capability offsets"
    );
    assert_eq!(
        f["msix"]["table_size"].as_u64(),
        l.msix_count,
        "{at}: MSI-X table size"
    );
    assert_eq!(!f["msi"].is_null(), l.msi, "{at}: MSI");
    let pcie = &f["pcie"];
    assert_eq!(
        !pcie.is_null(),
        l.express.is_some(),
        "{at}: PCIe capability"
    );
    if !pcie.is_null() {
        assert_eq!(pcie["flr"].as_bool(), Some(l.pcie_flr), "{at}: PCIe FLR");
        let pair = |s: &str, w: &str| {
            pcie[s]
                .as_str()
                .map(|s| (s.to_string(), pcie[w].as_u64().unwrap()))
        };
        assert_eq!(
            pair("link_cap_speed", "link_cap_width"),
            l.lnkcap,
            "{at}: LnkCap"
        );
        assert_eq!(pair("link_speed", "link_width"), l.lnksta, "{at}: LnkSta");
    }
    assert_eq!(
        f["flr"].as_bool(),
        Some(l.pcie_flr || l.af_flr),
        "{at}: FLR (PCIe or AF)"
    );
    let bars: BTreeMap<u64, (bool, Option<u64>, u64)> = f["bars"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["size"].as_u64().is_some_and(|s| s > 0))
        .map(|b| {
            (
                b["index"].as_u64().unwrap(),
                (
                    b["kind"].as_str().unwrap() != "io",
                    Some(hex(&b["address"])),
                    b["size"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    // lspci prints no address for an unassigned BAR; compare sizes
    // there. `[virtual]` regions (an SR-IOV VF's BARs, legacy IDE
    // ports: the register reads zero) carry the OS's address, and
    // pptctl must show that one too.
    let theirs_bars: BTreeMap<u64, (bool, Option<u64>, u64)> = l
        .regions
        .iter()
        .map(|(i, (m, a, s))| (*i, (*m, a.or(bars.get(i).and_then(|b| b.1)), *s)))
        .collect();
    if !f["physfn"].is_null() {
        assert!(
            !l.virtual_regions.is_empty(),
            "{at}: a VF without [virtual] regions"
        );
    }
    assert_eq!(bars, theirs_bars, "{at}: BARs (memory?, address, size)");
}

#[test]
fn check_verdicts_follow_bhyve_rules() {
    if !have_lspci() {
        return;
    }
    for machine in MACHINES {
        let Some(dir) = unpack(machine) else { return };
        let text = String::from_utf8(lspci(dir.path(), &["-D", "-vvv"])).unwrap();
        let theirs = parse_vvv(&text);
        // every function, bridges included, named as selectors
        let mut args = vec!["check", "--json"];
        args.extend(theirs.keys().map(String::as_str));
        let out = pptctl(dir.path(), &args);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{machine}: check --json: {e}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let ours = json["functions"].as_array().unwrap();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{machine}: every function is checked"
        );
        for r in ours {
            let slot = r["slot"].as_str().unwrap();
            let l = &theirs[slot];
            let at = format!("{machine} {slot}");
            let verdict = r["verdict"].as_str().unwrap();
            let has = |code: &str, sev: Option<&str>| {
                r["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["code"] == code && sev.is_none_or(|s| x["severity"] == s))
            };
            let mut refused = false;
            if !l.msi && l.msix_count.is_none() {
                refused = true;
                assert!(
                    has("no-msi", Some("fail")),
                    "{at}: no MSI/MSI-X but no fail no-msi: {r}"
                );
            }
            let bad_bar = l.regions.values().any(|(mem, addr, size)| {
                *mem && (*size < 4096 || addr.is_some_and(|a| a % 4096 != 0))
            });
            if bad_bar {
                refused = true;
                assert!(
                    has("bar-not-page-aligned", Some("fail")),
                    "{at}: small or misaligned memory BAR but no fail bar-not-page-aligned: {r}"
                );
            }
            // and the converse: no such reason where lspci shows no cause
            if l.msi || l.msix_count.is_some() {
                assert!(!has("no-msi", None), "{at}: has MSI/MSI-X, yet no-msi: {r}");
            }
            if !bad_bar {
                assert!(
                    !has("bar-not-page-aligned", None),
                    "{at}: every memory BAR is 4 KiB aligned, yet bar-not-page-aligned: {r}"
                );
            }
            let endpoint = l
                .express
                .as_deref()
                .is_some_and(|t| t.ends_with("Endpoint"));
            if endpoint && !l.pcie_flr {
                assert!(
                    has("no-reset", None),
                    "{at}: PCIe endpoint without FLR lacks no-reset: {r}"
                );
            }
            if refused {
                assert_eq!(verdict, "fail", "{at}: bhyve would refuse it: {r}");
            }
        }
    }
}

#[test]
fn snapshot_round_trip_keeps_every_fact() {
    // a snapshot of the tree, read back, shows the same JSON and check
    // verdicts (bar_os included: VF BAR addresses, IDE legacy ports)
    for machine in MACHINES {
        let Some(dir) = unpack(machine) else { return };
        let snap = pptctl(dir.path(), &["snapshot"]);
        assert!(snap.status.success(), "{machine}: snapshot failed");
        let file = dir.path().join("snapshot.json");
        std::fs::write(&file, &snap.stdout).unwrap();
        for args in [&["show", "--json"][..], &["check", "--json"]] {
            let a = pptctl(dir.path(), args);
            let b = Cmd::cargo_bin("pptctl")
                .unwrap()
                .arg("--from")
                .arg(format!("snapshot:{}", file.display()))
                .args(args)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&a.stdout),
                String::from_utf8_lossy(&b.stdout),
                "{machine}: {args:?} differs after a snapshot round trip"
            );
        }
    }
}

#[test]
fn other_commands_read_the_trees() {
    // -vvv, tree and check's text report run over every tree without a
    // warning: nothing in these real trees is malformed
    for machine in MACHINES {
        let Some(dir) = unpack(machine) else { return };
        for (args, code) in [
            (&["show", "-vvv"][..], Some(0)),
            (&["tree"], Some(0)),
            (&["check"], Some(1)), // legacy devices fail
        ] {
            let out = pptctl(dir.path(), args);
            assert_eq!(
                out.status.code(),
                code,
                "{machine}: {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !out.stdout.is_empty(),
                "{machine}: {args:?} printed nothing"
            );
            assert!(
                out.stderr.is_empty(),
                "{machine}: {args:?} warned: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
