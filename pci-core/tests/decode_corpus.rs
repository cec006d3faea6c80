//! Corpus test: every hex dump in `../shared/realdata`, decoded by
//! `ConfigSpace`, must list the same capabilities (offsets in chain order,
//! extended offsets and versions, loop/broken/truncated endings) as
//! `lspci -F <hex-only copy> -vvvnn` of pciutils 3.9.0 printed in
//! `_generated_lspci-3.9.0/<path>.F-vvvnn.txt`, and agree on MSI-X table
//! sizes, FLR (DevCap and AF) and PCIe link speed/width.
//!
//! The hex extraction here is a tiny test-only reader (the real dump
//! source belongs to `pci_core::sources`); it keeps what the hex-only copy
//! kept: device header lines and `NN: xx ...` lines. Skips cleanly when the
//! data is absent.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::{extract_dumps, parse_slot, realdata, Slot};
use pci_core::caps::CapError;
use pci_core::config::ConfigSpace;

/// What lspci printed for one function.
#[derive(Debug, Default)]
struct Lspci {
    std: Vec<String>,
    ext: Vec<String>,
    msix: Vec<u16>,
    /// Other decoded facts in chain order (PM, MSI, ACS, SR-IOV, ReBAR),
    /// in a common spelling.
    facts: Vec<String>,
    devcap_flr: Option<bool>,
    af_flr: Option<bool>,
    lnkcap: Option<(String, u8)>,
    lnksta: Option<(String, u8)>,
    /// `index kind address`, address 0 for `<unassigned>`.
    bars: Vec<String>,
}

/// `Region N: Memory at X (64-bit, prefetchable)` / `I/O ports at X`.
fn parse_region(rest: &str) -> Option<String> {
    let (idx, what) = rest.split_once(": ")?;
    let addr = |s: &str| -> u64 {
        let tok = s.split(' ').next().unwrap_or("");
        u64::from_str_radix(tok, 16).unwrap_or(0)
    };
    if let Some(a) = what.strip_prefix("I/O ports at ") {
        return Some(format!("{idx} io {:x}", addr(a)));
    }
    let a = what.strip_prefix("Memory at ")?;
    let kind = if a.contains("(64-bit") {
        "mem64"
    } else {
        "mem32"
    };
    let pf = if a.contains(", prefetchable)") {
        " pf"
    } else {
        ""
    };
    Some(format!("{idx} {kind}{pf} {:x}", addr(a)))
}

fn speed_width(s: &str) -> Option<(String, u8)> {
    let sp = s.split("Speed ").nth(1)?;
    let speed: String = sp.chars().take_while(|c| *c != ',' && *c != ' ').collect();
    let w = s.split("Width x").nth(1)?;
    let width: String = w.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((speed, width.parse().ok()?))
}

fn flag(s: &str, name: &str) -> Option<bool> {
    let i = s.find(name)?;
    match s[i + name.len()..].chars().next()? {
        '+' => Some(true),
        '-' => Some(false),
        _ => None,
    }
}

fn parse_lspci(text: &str) -> Vec<(Slot, Lspci)> {
    let mut out: Vec<(Slot, Lspci)> = Vec::new();
    let mut section = String::new();
    let mut cap_kind = String::new();
    for line in text.lines() {
        if let Some(slot) = parse_slot(line) {
            out.push((slot, Lspci::default()));
            section.clear();
            continue;
        }
        let Some((_, f)) = out.last_mut() else {
            continue;
        };
        if let Some(rest) = line.strip_prefix("\tCapabilities: ") {
            section.clear();
            capability_line(f, rest, &mut cap_kind);
            continue;
        }
        if let Some(rest) = line.strip_prefix("\tRegion ") {
            f.bars.extend(parse_region(rest));
            continue;
        }
        if let Some(rest) = line.strip_prefix("\t\t") {
            if !rest.starts_with('\t') {
                section = rest.split(':').next().unwrap_or("").to_string();
            }
        }
        detail_line(f, line, &section, &cap_kind);
    }
    out
}

/// A `Capabilities: [off] ...` line (`rest` after the prefix): the chain
/// entry and the facts its title carries; `cap_kind` says whose detail
/// lines follow.
fn capability_line(f: &mut Lspci, rest: &str, cap_kind: &mut String) {
    if rest.starts_with("<access denied>") {
        f.std.push("denied".into());
        return;
    }
    let Some(close) = rest.find(']') else {
        return;
    };
    let inside = &rest[1..close];
    let tail = &rest[close + 1..];
    let ending = if tail.contains("<chain looped>") {
        " looped"
    } else if tail.contains("<chain broken>") {
        " broken"
    } else {
        ""
    };
    if let Some((off, ver)) = inside.split_once(' ') {
        let v = if ending == " looped" { "" } else { ver };
        f.ext.push(format!(
            "{off}{}{v}{ending}",
            if v.is_empty() { "" } else { " " }
        ));
    } else {
        f.std.push(format!("{inside}{ending}"));
    }
    cap_kind.clear();
    if let Some(m) = tail.split(" MSI: ").nth(1) {
        f.facts.push(format!("msi {m}"));
    }
    if let Some(v) = tail.split("Power Management version ").nth(1) {
        f.facts.push(format!("pm v{v}"));
        *cap_kind = "pm".into();
    }
    if tail.contains("Single Root I/O Virtualization") {
        *cap_kind = "sriov".into();
    }
    if tail.contains(" Physical Resizable BAR") {
        *cap_kind = "rebar".into();
    }
    if let Some(c) = tail.split("MSI-X: ").nth(1) {
        if let Some(n) = c.split("Count=").nth(1) {
            let n: String = n.chars().take_while(|c| c.is_ascii_digit()).collect();
            f.msix.push(n.parse().unwrap());
        }
    }
}

/// A detail line of a capability (`section` is its register name).
fn detail_line(f: &mut Lspci, line: &str, section: &str, cap_kind: &str) {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let header_line = line.starts_with("\t\t") && !line.starts_with("\t\t\t");
    match (cap_kind, section) {
        _ if !header_line || tokens.len() < 5 && section != "Status" => {}
        ("pm", "Flags") => f.facts.push(format!("pm {} {}", tokens[3], tokens[4])),
        ("pm", "Status") => f.facts.push(format!("pm {} {}", tokens[1], tokens[2])),
        ("sriov", s) if s.starts_with("Initial VFs") => f.facts.push(format!(
            "sriov {}",
            line.trim()
                .replace(", Function Dependency Link", "")
                .replace(':', "")
        )),
        ("sriov", s) if s.starts_with("VF offset") => f
            .facts
            .push(format!("sriov {}", line.trim().replace(':', ""))),
        ("rebar", s) if s.starts_with("BAR ") => f.facts.push(format!("rebar {}", line.trim())),
        _ => {}
    }
    if section == "ACSCap" && header_line {
        let on: Vec<&str> = tokens[1..]
            .iter()
            .filter_map(|t| t.strip_suffix('+'))
            .collect();
        f.facts.push(format!("acs {}", on.join(" ")));
    }
    match section {
        "DevCap" => {
            if let Some(v) = flag(line, "FLReset") {
                f.devcap_flr = Some(v);
            }
        }
        "AFCap" => {
            if let Some(v) = flag(line, "FLR") {
                f.af_flr = Some(v);
            }
        }
        "LnkCap" if line.starts_with("\t\tLnkCap:\t") => f.lnkcap = speed_width(line),
        "LnkSta" if line.starts_with("\t\tLnkSta:\t") => f.lnksta = speed_width(line),
        _ => {}
    }
}

/// What our decoder says, in the same vocabulary.
fn ours(cfg: &ConfigSpace<'_>) -> Lspci {
    let mut f = Lspci::default();
    // lspci walks CardBus capabilities only with 128 bytes cached.
    let cardbus = cfg.header_type_raw().map(|h| h & 0x7f) == Some(2);
    if !(cardbus && cfg.len() < 128) {
        for c in cfg.capabilities() {
            f.std.push(match c {
                Ok(c) => format!("{:02x}", c.offset),
                Err(CapError::Loop { offset }) => format!("{offset:02x} looped"),
                Err(CapError::Broken { offset }) => format!("{offset:02x} broken"),
                Err(CapError::Truncated { .. }) => "denied".into(),
                Err(e) => format!("error: {e}"),
            });
        }
    }
    for c in cfg.extended_capabilities() {
        match c {
            Ok(c) => f.ext.push(format!("{:03x} v{}", c.offset, c.version)),
            Err(CapError::Loop { offset }) => f.ext.push(format!("{offset:03x} looped")),
            Err(CapError::Truncated { .. }) => {}
            Err(e) => f.ext.push(format!("error: {e}")),
        }
    }
    for b in cfg.bars(&[None; 6]).into_iter().flatten() {
        let kind = b.kind.as_str();
        let pf = if b.prefetchable { " pf" } else { "" };
        f.bars
            .push(format!("{} {kind}{pf} {:x}", b.index, b.address));
    }
    f.msix = cfg
        .capabilities()
        .filter_map(Result::ok)
        .filter(|c| c.id == 0x11)
        .filter_map(|c| pci_core::caps::MsiX::decode(cfg, c.offset.into()))
        .map(|m| m.table_size)
        .collect();
    if let Some(p) = cfg.pci_express() {
        f.devcap_flr = Some(p.flr());
        if let Some(l) = p.link {
            f.lnkcap = Some((l.cap_speed_name().to_string(), l.cap_width));
            f.lnksta = Some((l.speed_name().to_string(), l.width));
        }
        if !p.port_type.has_link() {
            assert!(p.link.is_none());
        }
    }
    f.facts = our_facts(cfg);
    if let Some(af) = cfg.advanced_features() {
        f.af_flr = Some(af.flr());
    }
    f
}

/// lspci's size spelling for Resizable BAR sizes.
fn rebar_size(bytes: u64) -> String {
    let mb = bytes >> 20;
    if mb < 1024 {
        format!("{mb}MB")
    } else if mb < 1 << 20 {
        format!("{}GB", mb >> 10)
    } else {
        format!("{}TB", mb >> 20)
    }
}

fn our_facts(cfg: &ConfigSpace<'_>) -> Vec<String> {
    use pci_core::caps::{Acs, Msi, PowerManagement, ResizableBar, SrIov};
    let mut out = Vec::new();
    for c in cfg.capabilities().filter_map(Result::ok) {
        let at = usize::from(c.offset);
        match c.id {
            0x01 => {
                let Some(pm) = PowerManagement::decode(cfg, at) else {
                    continue;
                };
                let pm_flag = |b: bool| if b { '+' } else { '-' };
                out.push(format!("pm v{}", pm.version));
                out.push(format!("pm D1{} D2{}", pm_flag(pm.d1()), pm_flag(pm.d2())));
                let state = match pm.state {
                    pci_core::caps::PowerState::D0 => 0,
                    pci_core::caps::PowerState::D1 => 1,
                    pci_core::caps::PowerState::D2 => 2,
                    pci_core::caps::PowerState::D3Hot => 3,
                };
                out.push(format!(
                    "pm D{state} NoSoftRst{}",
                    pm_flag(pm.no_soft_reset)
                ));
            }
            0x05 => {
                let Some(m) = Msi::decode(cfg, at) else {
                    continue;
                };
                let fl = |b: bool| if b { '+' } else { '-' };
                out.push(format!(
                    "msi Enable{} Count={}/{} Maskable{} 64bit{}",
                    fl(m.enabled()),
                    m.vectors_enabled,
                    m.vectors_capable,
                    fl(m.maskable()),
                    fl(m.is_64bit())
                ));
            }
            _ => {}
        }
    }
    for c in cfg.extended_capabilities().filter_map(Result::ok) {
        let at = usize::from(c.offset);
        match c.id {
            0x0d => {
                if let Some(a) = Acs::decode(cfg, at) {
                    out.push(format!("acs {}", a.capability.names().join(" ")));
                }
            }
            0x10 => {
                if let Some(s) = SrIov::decode(cfg, at) {
                    out.push(format!(
                        "sriov Initial VFs {}, Total VFs {}, Number of VFs {}, {:02x}",
                        s.initial_vfs, s.total_vfs, s.num_vfs, s.function_link
                    ));
                    out.push(format!(
                        "sriov VF offset {}, stride {}, Device ID {:04x}",
                        s.vf_offset, s.vf_stride, s.vf_device
                    ));
                }
            }
            0x15 => {
                if let Some(r) = ResizableBar::decode(cfg, at) {
                    for e in r.entries {
                        let sup: Vec<String> = e.supported.iter().map(|&b| rebar_size(b)).collect();
                        out.push(format!(
                            "rebar BAR {}: current size: {}, supported: {}",
                            e.bar,
                            rebar_size(e.current),
                            sup.join(" ")
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Our decode of one function against lspci's (`at` names it in
/// problems).
fn compare(got: &Lspci, want: &Lspci, at: &str, problems: &mut Vec<String>) {
    let mut check = |what: &str, ok: bool, detail: String| {
        if !ok {
            problems.push(format!("{at} {what}: {detail}"));
        }
    };
    check(
        "std caps",
        got.std == want.std,
        format!("ours {:?} lspci {:?}", got.std, want.std),
    );
    check(
        "ext caps",
        got.ext == want.ext,
        format!("ours {:?} lspci {:?}", got.ext, want.ext),
    );
    let lspci_bars = lspci_bars(want);
    check(
        "bars",
        got.bars == lspci_bars,
        format!("ours {:?} lspci {:?}", got.bars, lspci_bars),
    );
    check(
        "msix",
        got.msix == want.msix,
        format!("ours {:?} lspci {:?}", got.msix, want.msix),
    );
    // lspci prints DevCap/Link only when the whole register block is
    // in the bytes; where it printed, we must agree.
    if want.devcap_flr.is_some() {
        check(
            "devcap flr",
            got.devcap_flr == want.devcap_flr,
            format!("ours {:?} lspci {:?}", got.devcap_flr, want.devcap_flr),
        );
    }
    check(
        "af flr",
        got.af_flr == want.af_flr,
        format!("ours {:?} lspci {:?}", got.af_flr, want.af_flr),
    );
    if want.lnkcap.is_some() {
        check(
            "lnkcap",
            got.lnkcap == want.lnkcap,
            format!("ours {:?} lspci {:?}", got.lnkcap, want.lnkcap),
        );
        check(
            "lnksta",
            got.lnksta == want.lnksta,
            format!("ours {:?} lspci {:?}", got.lnksta, want.lnksta),
        );
    }
}

/// lspci's regions as ours are listed. lspci 3.9.0 (dump mode) also
/// prints the upper half of a 64-bit BAR as a region of its own when that
/// dword is not zero; a 64-bit BAR owns both slots (PCI 3.0 §6.2.5.1), so
/// those lines are dropped.
fn lspci_bars(want: &Lspci) -> Vec<String> {
    let mut lspci_bars: Vec<String> = Vec::new();
    let mut upper_half: Option<u32> = None;
    for b in &want.bars {
        let idx: u32 = b.split(' ').next().unwrap().parse().unwrap();
        if upper_half.take() == Some(idx) {
            continue;
        }
        if b.contains(" mem64") {
            upper_half = Some(idx + 1);
        }
        lspci_bars.push(b.clone());
    }
    lspci_bars
}

#[test]
fn capabilities_agree_with_lspci_3_9_0() {
    let root = realdata();
    let gen = root.join("_generated_lspci-3.9.0");
    if !gen.is_dir() {
        eprintln!("{} absent; skipping corpus test", gen.display());
        return;
    }
    let mut files = Vec::new();
    collect_files(&gen, &mut files);
    files.sort();
    let mut functions = 0usize;
    let mut dumps = 0usize;
    let mut facts = 0usize;
    let mut problems: Vec<String> = Vec::new();
    for oracle in files {
        let name = oracle.to_string_lossy().to_string();
        let Some(stripped) = name.strip_suffix(".F-vvvnn.txt") else {
            continue;
        };
        let rel = Path::new(stripped)
            .strip_prefix(&gen)
            .unwrap()
            .to_path_buf();
        let source = root.join(&rel);
        let Ok(src) = fs::read(&source) else {
            eprintln!("no source for {}", oracle.display());
            continue;
        };
        dumps += 1;
        let src = String::from_utf8_lossy(&src);
        let expect = parse_lspci(&fs::read_to_string(&oracle).unwrap());
        let mut by_slot: BTreeMap<Slot, Vec<Lspci>> = BTreeMap::new();
        for (slot, l) in expect {
            by_slot.entry(slot).or_default().push(l);
        }
        for v in by_slot.values_mut() {
            v.reverse();
        }
        for (slot, bytes) in extract_dumps(&src) {
            if bytes.len() < 64 {
                continue; // lspci cannot read the header and drops it
            }
            let Some(want) = by_slot.get_mut(&slot).and_then(|v| v.pop()) else {
                problems.push(format!("{}: {slot:x?} not in lspci output", rel.display()));
                continue;
            };
            functions += 1;
            facts += want.facts.len();
            let got = ours(&ConfigSpace::new(&bytes));
            let at = format!("{} {slot:x?}", rel.display());
            compare(&got, &want, &at, &mut problems);
        }
    }
    eprintln!(
        "compared {functions} functions from {dumps} dumps, {facts} PM/MSI/ACS/SR-IOV/ReBAR facts"
    );
    if !problems.is_empty() {
        panic!(
            "{} disagreements with lspci 3.9.0, first ones:\n{}",
            problems.len(),
            problems
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        facts >= 1000,
        "expected over 1000 decoded facts, compared {facts}"
    );
    assert!(dumps >= 60, "expected the 69 dumps, found {dumps}");
    assert!(
        functions >= 800,
        "expected ~840 functions, compared {functions}"
    );
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn extractor_reads_partial_lines() {
    let d = extract_dumps(
        "00:1f.3 x\r\n00: 86 80 22 1c\r\n10: 01\n20: 01 0pcilib: junk\n0: 00 00\n0000:01:00.0 y\n00: ff\n",
    );
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].0, (0, 0, 0x1f, 3));
    assert_eq!(d[0].1.len(), 0x11);
    assert_eq!(d[1].1, vec![0xff]);
}
