//! Every function of every lspci dump in ../shared/realdata gets a verdict,
//! the invariants "never ok when bhyve would refuse" hold on real config
//! space, and known devices get the findings they must.
//!
//! Skips (with a message) when the real data is absent.

// Test helpers may unwrap: a panic is a test failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use pci_core::caps::id;
use pci_core::config::{BarKind, Status};
use pci_core::sources::dump::load_dump_file;
use pci_core::{Address, Host};
use ppt_config::viability::{evaluate, FunctionReport, Plan, Report, Verdict};

const REALDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/realdata");

/// Text files with `NN: xx xx …` hex lines (the lspci dumps), excluding the
/// derived `_generated_lspci-3.9.0` outputs.
fn dump_files() -> Option<Vec<PathBuf>> {
    let root = Path::new(REALDATA);
    if !root.is_dir() {
        eprintln!("skipping: {REALDATA} is absent");
        return None;
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("_generated_lspci-3.9.0") {
                    stack.push(p);
                }
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue; // binary (snapshot_cache)
            };
            let is_dump = text.lines().any(|l| {
                let b = l.as_bytes();
                b.len() >= 50
                    && b[0].is_ascii_hexdigit()
                    && b[1].is_ascii_hexdigit()
                    && b[2] == b':'
                    && b[3] == b' '
            });
            if is_dump {
                out.push(p);
            }
        }
    }
    out.sort();
    Some(out)
}

fn every_function(host: &Host) -> Report {
    let plan = Plan {
        selected: host.functions.iter().map(|f| f.address).collect(),
        ..Default::default()
    };
    evaluate(host, &plan)
}

fn codes(r: &FunctionReport) -> Vec<&'static str> {
    r.reasons.iter().map(|x| x.code).collect()
}

fn load(rel: &str) -> Option<Host> {
    let p = Path::new(REALDATA).join(rel);
    if !p.exists() {
        eprintln!("skipping: {} is absent", p.display());
        return None;
    }
    Some(load_dump_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

fn find<'r>(r: &'r Report, slot: &str) -> &'r FunctionReport {
    let a: Address = slot.parse().unwrap();
    r.functions
        .iter()
        .find(|f| f.slot == a.to_string())
        .unwrap_or_else(|| panic!("{slot} missing"))
}

#[test]
fn every_function_gets_a_verdict_and_nothing_refused_is_ok() {
    let Some(files) = dump_files() else { return };
    assert!(
        files.len() >= 20,
        "expected the realdata dumps, got {files:?}"
    );
    let mut total = 0;
    for file in &files {
        let host = load_dump_file(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let report = every_function(&host);
        assert_eq!(
            report.functions.len(),
            host.functions.len(),
            "{}: every function needs a verdict",
            file.display()
        );
        // A dump records no host facts: the host verdict says so.
        assert_eq!(report.host.verdict, Verdict::Warn, "{}", file.display());
        for f in &host.functions {
            total += 1;
            let where_ = format!("{} {}", file.display(), f.address);
            let r = report
                .functions
                .iter()
                .find(|r| r.slot == f.address.to_string())
                .unwrap_or_else(|| panic!("{where_}: no verdict"));
            assert!(
                !r.reasons.is_empty() || r.verdict == Verdict::Ok,
                "{where_}"
            );
            let cfg = f.config_space();
            // Dumps have no BAR sizes: nothing with a memory BAR is ok.
            let mem_bars: Vec<_> = f
                .bars()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|b| b.kind != BarKind::Io)
                .collect();
            if !mem_bars.is_empty() {
                assert_ne!(r.verdict, Verdict::Ok, "{where_}: sizes unknown");
            }
            if mem_bars.iter().any(|b| b.address % 4096 != 0) {
                assert_eq!(r.verdict, Verdict::Fail, "{where_}: misaligned BAR");
                assert!(codes(r).contains(&"bar-not-page-aligned"), "{where_}");
            }
            if f.config.len() >= 256 {
                let has_msi = cfg.find_capability(id::MSI).is_some()
                    || cfg.find_capability(id::MSIX).is_some();
                if !has_msi {
                    assert_eq!(r.verdict, Verdict::Fail, "{where_}: no MSI/MSI-X");
                    assert!(codes(r).contains(&"no-msi"), "{where_}: {:?}", codes(r));
                } else {
                    assert!(!codes(r).contains(&"no-msi"), "{where_}");
                }
                // Every PCIe endpoint without FLR carries no-reset.
                if let Some(p) = cfg.pci_express() {
                    if !p.flr() {
                        assert!(codes(r).contains(&"no-reset"), "{where_}");
                    }
                }
            } else if cfg.status().is_some_and(|s| !s.contains(Status::CAP_LIST)) {
                // Status says there are no capabilities: no MSI, known from 64 bytes.
                assert_eq!(r.verdict, Verdict::Fail, "{where_}: no capabilities");
                assert!(codes(r).contains(&"no-msi"), "{where_}");
            } else {
                assert_ne!(r.verdict, Verdict::Ok, "{where_}: config unknown");
                assert!(codes(r).contains(&"config-unknown"), "{where_}");
            }
            if f.ids.header_type.is_some_and(|h| matches!(h & 0x7f, 1 | 2)) {
                assert!(codes(r).contains(&"bridge"), "{where_}");
            }
        }
    }
    eprintln!("{total} functions in {} dumps checked", files.len());
    assert!(total > 500, "only {total} functions");
}

#[test]
fn nvidia_gpu_with_its_audio_function() {
    let Some(host) = load("MrArtemSid+coreboot_p61-s3-b3/logs/lspci.log") else {
        return;
    };
    // Only the GPU's function 0 selected: its audio function stays behind.
    let plan = Plan {
        selected: vec!["01:00.0".parse().unwrap()],
        ..Default::default()
    };
    let r = evaluate(&host, &plan);
    let gpu = find(&r, "01:00.0");
    assert_eq!(gpu.ids, "10de:1c02");
    let c = codes(gpu);
    assert_eq!(gpu.verdict, Verdict::Warn, "{c:?}");
    for code in [
        "no-reset",
        "io-bar",
        "bar-size-unknown",
        "siblings-left-behind",
    ] {
        assert!(c.contains(&code), "{code} missing: {c:?}");
    }
    assert!(!c.contains(&"no-msi"), "the GTX 1060 has MSI: {c:?}");
    let msg = &gpu
        .reasons
        .iter()
        .find(|x| x.code == "siblings-left-behind")
        .unwrap()
        .message;
    assert!(msg.contains("0000:01:00.1"), "{msg}");
    // Both functions selected: nothing is left behind.
    let plan = Plan {
        selected: vec!["01:00.0".parse().unwrap(), "01:00.1".parse().unwrap()],
        ..Default::default()
    };
    let r = evaluate(&host, &plan);
    assert!(!codes(find(&r, "01:00.0")).contains(&"siblings-left-behind"));
    let audio = find(&r, "01:00.1");
    assert_eq!(audio.ids, "10de:10f1");
    assert_eq!(audio.verdict, Verdict::Warn, "{:?}", codes(audio));
}

#[test]
fn sata_controllers_with_msi_and_without_any() {
    // AHCI with MSI but no MSI-X: MSI is enough for bhyve.
    let Some(mut host) = load("MrArtemSid+coreboot_dh77df/logs/lspci.log") else {
        return;
    };
    let r = every_function(&host);
    let ahci = find(&r, "00:1f.2");
    assert_eq!(ahci.ids, "8086:1e02");
    let c = codes(ahci);
    assert!(!c.contains(&"no-msi"), "{c:?}");
    assert!(c.contains(&"no-reset") && c.contains(&"io-bar"), "{c:?}");
    assert_ne!(ahci.verdict, Verdict::Ok);
    // With the size the on-machine text gives (Region 5: [size=2K]) the
    // 2 KiB ABAR is below a page: bhyve refuses it.
    let f = host
        .functions
        .iter_mut()
        .find(|f| f.address == "00:1f.2".parse().unwrap())
        .unwrap();
    f.bar_sizes[5] = Some(2048);
    let r = every_function(&host);
    let ahci = find(&r, "00:1f.2");
    assert_eq!(ahci.verdict, Verdict::Fail);
    assert!(codes(ahci).contains(&"bar-not-page-aligned"));

    // IDE-mode SATA without MSI or MSI-X: no-msi.
    let Some(host) = load("MrArtemSid+coreboot_p61-s3-b3/logs/lspci.log") else {
        return;
    };
    let r = every_function(&host);
    let ide = find(&r, "00:1f.2");
    assert_eq!(ide.ids, "8086:1c00");
    assert_eq!(ide.verdict, Verdict::Fail);
    assert!(codes(ide).contains(&"no-msi"), "{:?}", codes(ide));
}

#[test]
fn a_256_byte_bar() {
    // The 6-series SMBus controller: Region 0 is 64-bit memory of 256
    // bytes (on-machine text "[size=256]") and it has no capabilities.
    let Some(mut host) = load("MrArtemSid+coreboot_p61-s3-b3/logs/lspci.log") else {
        return;
    };
    let slot: Address = "00:1f.3".parse().unwrap();
    let r = every_function(&host);
    let smbus = find(&r, "00:1f.3");
    assert_eq!(smbus.ids, "8086:1c22");
    assert_eq!(smbus.verdict, Verdict::Fail);
    assert!(codes(smbus).contains(&"no-msi"));
    assert!(
        codes(smbus).contains(&"bar-size-unknown"),
        "{:?}",
        codes(smbus)
    );
    let f = host
        .functions
        .iter_mut()
        .find(|f| f.address == slot)
        .unwrap();
    f.bar_sizes[0] = Some(256);
    let r = every_function(&host);
    let smbus = find(&r, "00:1f.3");
    assert!(
        codes(smbus).contains(&"bar-not-page-aligned"),
        "{:?}",
        codes(smbus)
    );
    assert!(
        !codes(smbus).contains(&"bar-size-unknown"),
        "{:?}",
        codes(smbus)
    );
}

#[test]
fn devinfo_snapshot_without_config_space() {
    // The OmniOS snapshot_cache: no config space, but assigned-addresses
    // give BAR bases and sizes, so bhyve's alignment gate still applies.
    let p = Path::new(REALDATA).join("BartVanLooveren+omniosEindwerk/devices/snapshot_cache");
    if !p.exists() {
        eprintln!("skipping: {} is absent", p.display());
        return;
    }
    let host = pci_illumos::devinfo::load_file(&p).unwrap();
    let r = every_function(&host);
    assert_eq!(r.functions.len(), host.functions.len());
    for f in &r.functions {
        assert_ne!(f.verdict, Verdict::Ok, "{}: MSI unknown", f.slot);
        assert!(codes(f).contains(&"config-unknown"), "{}", f.slot);
    }
    // The 7-series SMBus controller's 256-byte memory BAR.
    let smbus = find(&r, "00:1f.3");
    assert_eq!(smbus.ids, "8086:1e22");
    assert_eq!(smbus.verdict, Verdict::Fail);
    let msg = &smbus
        .reasons
        .iter()
        .find(|x| x.code == "bar-not-page-aligned")
        .unwrap()
        .message;
    assert!(msg.contains("256 bytes"), "{msg}");
    // The RTL8168 behind the root port: nothing fails from what is known.
    let nic = find(&r, "01:00.0");
    assert_eq!(nic.ids, "10ec:8168");
    assert_eq!(nic.verdict, Verdict::Warn, "{:?}", codes(nic));
}
