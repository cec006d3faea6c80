//! The long fuzz campaign: at least 10^6 generated or
//! mutated inputs per parser, in release mode, with a per-input time bound,
//! a watchdog for hangs, panics caught and saved, and the peak RSS recorded.
//! Ignored in the normal run; run it with
//!
//! ```sh
//! cargo test --release -p cli --test hostile_campaign -- --ignored --nocapture
//! PPTCTL_CAMPAIGN_N=100000 ...   # fewer inputs per parser
//! PPTCTL_CAMPAIGN_ONLY=dump ...  # one parser
//! PPTCTL_CAMPAIGN_SEED=7 ...     # another sequence (default 1: replayable)
//! ```
//!
//! Inputs are mutations of the real samples in `../shared/realdata` (lspci
//! dumps, the OmniOS devinfo cache, `driver_aliases`, `path_to_inst`) and
//! of the project's own samples, plus purely random bytes. A panicking
//! input is written to `target/campaign-crashes/`; a hang (no progress for
//! 20 s) aborts with the parser, input number and seed, which replay it.
//! The figures go to stdout and `target/campaign.txt` (TESTING.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pci_core::config::ConfigSpace;
use pci_core::sources::dump::parse_dump_bytes;
use pci_core::sources::filter::{IdFilter, SlotFilter};
use pci_core::sources::snapshot::parse_snapshot;
use pci_illumos::aliases::{AliasFile, Lexer, NameToMajor, PathToInst, Token};
use pci_illumos::matcher::Matcher;
use pci_illumos::matches::{NodeIds, PptMatches};

/// Slowest single input allowed (release build).
const INPUT_BOUND: Duration = Duration::from_secs(2);
/// No progress for this long is a hang.
const WATCHDOG: Duration = Duration::from_secs(20);

fn realdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ))
}

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(rel)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\r",
    b"\0",
    b"\"",
    b"\\",
    b"#",
    b",",
    b":",
    b"=",
    b"{",
    b"}",
    b"[",
    b"]",
    b"00: ",
    b"ff",
    b"0x",
    b"pciex",
    b"pci",
    b"/pci@0,0/",
    b"@",
    b"ppt ",
    b"title ",
    b"module ",
    b"kernel$ /platform/i86pc/kernel/amd64/unix\n",
    b"_load=YES\n",
    b"\xff\xfe",
    b"\xc3\x28",
    b"0000:00:00.0 ",
    b"4294967295",
    b"-1",
    b"1e999",
    b"null",
    b"\t",
    b"\x0c",
];

/// One mutated input from the seeds: a window (at most `max` bytes), then
/// 1..8 edits; one in ten is random bytes.
fn mutate(seeds: &[Vec<u8>], rng: &mut Rng, max: usize) -> Vec<u8> {
    if seeds.is_empty() || rng.below(10) == 0 {
        let n = rng.below(max.min(4096) + 1);
        return (0..n).map(|_| rng.next() as u8).collect();
    }
    let seed = &seeds[rng.below(seeds.len())];
    let mut start = if seed.len() > max {
        rng.below(seed.len())
    } else {
        0
    };
    while start > 0 && seed[start - 1] != b'\n' {
        start -= 1;
    }
    let mut b = seed[start..(start + max).min(seed.len())].to_vec();
    for _ in 0..1 + rng.below(8) {
        let len = b.len().max(1);
        match rng.below(8) {
            0 | 1 => {
                if !b.is_empty() {
                    let i = rng.below(len);
                    b[i] = rng.next() as u8;
                }
            }
            2 => {
                let i = rng.below(b.len() + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                b.splice(i..i, t.iter().copied());
            }
            3 => {
                let i = rng.below(len);
                let e = (i + 1 + rng.below(64)).min(b.len());
                if i < e {
                    b.drain(i..e);
                }
            }
            4 => b.truncate(rng.below(len)),
            5 => {
                let i = rng.below(len);
                let e = (i + 1 + rng.below(256)).min(b.len());
                if i < e {
                    let c = b[i..e].to_vec();
                    b.splice(e..e, c);
                }
            }
            6 => {
                if b.len() >= 4 {
                    let i = rng.below(b.len() - 3) & !3;
                    let w = match rng.below(4) {
                        0 => 0u32,
                        1 => u32::MAX,
                        2 => rng.below(b.len() + 16) as u32,
                        _ => rng.next() as u32,
                    };
                    b[i..i + 4].copy_from_slice(&w.to_le_bytes());
                }
            }
            _ => {
                // Splice a piece of another seed in.
                let o = &seeds[rng.below(seeds.len())];
                if !o.is_empty() {
                    let s = rng.below(o.len());
                    let e = (s + 1 + rng.below(128)).min(o.len());
                    let i = rng.below(b.len() + 1);
                    b.splice(i..i, o[s..e].iter().copied());
                }
            }
        }
    }
    b
}

fn exercise_config(bytes: &[u8]) {
    let cfg = ConfigSpace::new(bytes);
    assert!(cfg.capabilities().count() <= 65);
    assert!(cfg.extended_capabilities().count() <= 1025);
    let _ = (
        cfg.bars(&[None; 6]),
        cfg.bridge(),
        cfg.power_management(),
        cfg.msi(),
        cfg.msix(),
        cfg.pci_express(),
        cfg.acs(),
        cfg.sriov(),
        cfg.aer(),
        cfg.resizable_bar(),
        cfg.flr(),
        cfg.vendor_capabilities(),
    );
}

#[path = "campaign/seeds.rs"]
mod seeds;
use seeds::{read_all, seeds, Seeds};

type Target = (&'static str, Vec<Vec<u8>>, usize, Box<dyn Fn(&[u8])>);

/// Config space and the host sources (lspci dumps, snapshots, the devinfo cache).
fn host_sources(s: &Seeds) -> Vec<Target> {
    let configs = s.configs.clone();
    let dumps = s.dumps.clone();
    let small_dump_snapshot = s.small_dump_snapshot.clone();
    let devinfo = s.devinfo.clone();
    vec![
        ("config-space", configs, 4096, Box::new(exercise_config)),
        (
            "lspci-dump",
            dumps,
            6000,
            Box::new(|b| {
                if let Ok(h) = parse_dump_bytes(b, "f") {
                    for f in &h.functions {
                        exercise_config(&f.config);
                    }
                }
            }),
        ),
        (
            "snapshot-json",
            small_dump_snapshot,
            1 << 20,
            Box::new(|b| {
                if let Ok(h) = parse_snapshot(b, "f") {
                    for f in &h.functions {
                        exercise_config(&f.config);
                    }
                }
            }),
        ),
        (
            "devinfo-snapshot",
            devinfo,
            1 << 20,
            Box::new(|b| {
                // Re-seal the cache checksum on most inputs, or every edit
                // stops at the CRC check and the tree walk is never reached.
                let mut sealed;
                let b = if b.len() >= 0x18 && b[0] != 0xa5 {
                    sealed = b.to_vec();
                    let c = pci_illumos::devinfo::checksum_of(&sealed);
                    sealed[0x14..0x18].copy_from_slice(&c.to_le_bytes());
                    &sealed[..]
                } else {
                    b
                };
                if let Ok(s) = pci_illumos::devinfo::Snapshot::parse(b) {
                    let _ = pci_illumos::devinfo::to_host(&s, "f");
                }
            }),
        ),
    ]
}

/// The files the kernel and libppt read to bind devices.
fn binding_files(s: &Seeds) -> Vec<Target> {
    let matches = s.matches.clone();
    let aliases = s.aliases.clone();
    let omnios = &s.omnios;
    vec![
        (
            "ppt_matches",
            matches.clone(),
            4096,
            Box::new(|b| {
                let m = PptMatches::parse(b, "/etc/ppt_matches");
                let node = NodeIds {
                    path: "/pci@0,0/pci8086,151@1/display@0",
                    vendor: 0x10de,
                    device: 0xa65,
                };
                assert_eq!(
                    Matcher::compile(&m).first_match(&node),
                    m.first_match(&node).map(|l| l.number)
                );
            }),
        ),
        (
            "aliases-kernel",
            aliases.clone(),
            8192,
            Box::new(|b| {
                let mut lx = Lexer::new(b);
                let mut n = 0;
                while lx.next_token().0 != Token::Eof {
                    n += 1;
                    assert!(n <= b.len() + 1);
                }
                let _ = AliasFile::parse(b, "/etc/driver_aliases", None);
            }),
        ),
        (
            "name_to_major+path_to_inst",
            read_all(&[omnios.join("path_to_inst")]),
            4096,
            Box::new(|b| {
                let _ = PathToInst::parse(b, "/etc/path_to_inst").next_free("ppt");
                let _ = NameToMajor::parse(b, "/etc/name_to_major").knows("ppt");
            }),
        ),
    ]
}

/// The editors of the files `reserve` writes: each must give back the bytes it read.
fn editors(s: &Seeds) -> Vec<Target> {
    let matches = s.matches.clone();
    let aliases = s.aliases.clone();
    let menus = s.menus.clone();
    let loaders = s.loaders.clone();
    vec![
        (
            "ppt_aliases-editor",
            aliases,
            8192,
            Box::new(|b| {
                if let Ok(mut f) = ppt_config::aliases_file::AliasesFile::parse_bytes("f", b) {
                    assert_eq!(f.to_string().as_bytes(), b);
                    if f.add_alias("ppt", "/pci@0,0/x@1").is_ok() {
                        f.remove_alias("ppt", "/pci@0,0/x@1");
                    }
                }
            }),
        ),
        (
            "ppt_matches-editor",
            matches,
            4096,
            Box::new(|b| {
                if let Ok(mut f) = ppt_config::matches_file::MatchesFile::parse_bytes("f", b) {
                    assert_eq!(f.to_string().as_bytes(), b);
                    f.add_id(0x10de, 0xa65, true);
                    assert!(f.covers(0x10de, 0xa65));
                    f.remove_id(0x10de, 0xa65);
                }
            }),
        ),
        (
            "menu.lst",
            menus,
            8192,
            Box::new(|b| {
                if let Ok(mut m) = ppt_config::menu_lst::MenuLst::parse_bytes("f", b) {
                    assert_eq!(m.to_string().as_bytes(), b);
                    let _ = m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases");
                    m.remove_module("/overlay/etc/ppt_aliases");
                }
            }),
        ),
        (
            "loader.conf.local",
            loaders,
            8192,
            Box::new(|b| {
                if let Ok(mut c) = ppt_config::loader_conf::LoaderConf::parse_bytes("f", b) {
                    assert_eq!(c.to_string().as_bytes(), b);
                    c.ensure_module(
                        "ppt_aliases",
                        "/boot/bootfs/etc/ppt_aliases",
                        "/etc/ppt_aliases",
                    );
                    c.remove_module("/etc/ppt_aliases");
                }
            }),
        ),
    ]
}

/// What users and payloads hand in: vmadm JSON, selectors, pci.ids.
fn inputs(s: &Seeds) -> Vec<Target> {
    let payloads = s.payloads.clone();
    let words = s.words.clone();
    let pciids = s.pciids.clone();
    let levon = s.levon.clone();
    vec![
        (
            "vmadm-payload",
            payloads,
            4096,
            Box::new(move |b| {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(b) {
                    let (_, d) = ppt_config::vmadm::validate_payload(&v);
                    let _ = ppt_config::vmadm::check_against_host(&d, &levon, &Default::default());
                }
            }),
        ),
        (
            "selectors+slots+filters",
            words,
            200,
            Box::new(|b| {
                for w in String::from_utf8_lossy(b).split('\n') {
                    let _ = w.parse::<ppt_config::selector::Selector>();
                    let _ = ppt_config::vmadm::parse_pci_slot(w);
                    let _ = SlotFilter::parse(w);
                    let _ = IdFilter::parse(w);
                    let _ = w.parse::<pci_core::Address>();
                    let _ = pci_illumos::cfgspace::parse_name(w);
                }
            }),
        ),
        (
            "pci.ids",
            pciids,
            4096,
            Box::new(|b| {
                let n = pci_core::names::PciNames::from_text(
                    PathBuf::from("p"),
                    String::from_utf8_lossy(b).into_owned(),
                );
                let _ = (
                    n.vendor(0x8086),
                    n.device(0x8086, 0x1502),
                    n.class(2),
                    n.subclass(2, 0),
                );
            }),
        ),
    ]
}

fn targets() -> Vec<Target> {
    let s = seeds();
    let mut t: Vec<Target> = Vec::new();
    t.extend(host_sources(&s));
    t.extend(binding_files(&s));
    t.extend(editors(&s));
    t.extend(inputs(&s));
    if let Ok(only) = std::env::var("PPTCTL_CAMPAIGN_ONLY") {
        t.retain(|x| x.0.contains(only.as_str()));
    }
    t
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "long campaign: cargo test --release -p cli --test hostile_campaign -- --ignored --nocapture"]
fn campaign() {
    let n: u64 = std::env::var("PPTCTL_CAMPAIGN_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = std::env::var("PPTCTL_CAMPAIGN_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let crashes = repo("target/campaign-crashes");
    let progress = Arc::new(AtomicU64::new(0));
    let current = Arc::new(std::sync::Mutex::new(String::new()));
    {
        let (progress, current) = (progress.clone(), current.clone());
        std::thread::spawn(move || {
            let mut last = (u64::MAX, Instant::now());
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let p = progress.load(Ordering::Relaxed);
                if p != last.0 {
                    last = (p, Instant::now());
                } else if last.1.elapsed() > WATCHDOG {
                    eprintln!(
                        "HANG: {} input {p} made no progress for {WATCHDOG:?} (PPTCTL_CAMPAIGN_SEED={seed} replays it)",
                        current.lock().map(|c| c.clone()).unwrap_or_default()
                    );
                    std::process::abort();
                }
            }
        });
    }
    std::panic::set_hook(Box::new(|_| {}));
    let mut report = vec![format!(
        "{:<28} {:>9} {:>8} {:>7} {:>12} {:>11}",
        "parser", "inputs", "seconds", "panics", "slowest(us)", "peak RSS kB"
    )];
    let mut total_panics = 0;
    for (name, seeds, max, f) in targets() {
        if seeds.is_empty() && name != "config-space" {
            report.push(format!("{name:<28} skipped: no seeds (realdata absent)"));
            continue;
        }
        *current.lock().unwrap() = name.to_string();
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ name.len() as u64 | 1);
        let started = Instant::now();
        let mut panics = 0u64;
        let mut slowest = Duration::ZERO;
        for i in 0..n {
            let input = mutate(&seeds, &mut rng, max);
            let t = Instant::now();
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(&input)));
            let took = t.elapsed();
            slowest = slowest.max(took);
            if r.is_err() || took > INPUT_BOUND {
                panics += 1;
                std::fs::create_dir_all(&crashes).unwrap();
                let p = crashes.join(format!("{name}-{i}.bin"));
                std::fs::write(&p, &input).unwrap();
                eprintln!(
                    "{name}: input {i} {} ({took:?}); saved {}",
                    if r.is_err() { "panicked" } else { "too slow" },
                    p.display()
                );
            }
            progress.fetch_add(1, Ordering::Relaxed);
        }
        total_panics += panics;
        let line = format!(
            "{name:<28} {n:>9} {:>8.1} {panics:>7} {:>12} {:>11}",
            started.elapsed().as_secs_f64(),
            slowest.as_micros(),
            peak_rss_kb()
        );
        println!("{line}");
        report.push(line);
    }
    let text = report.join("\n") + "\n";
    println!("{text}");
    let _ = std::fs::write(repo("target/campaign.txt"), &text);
    assert_eq!(total_panics, 0, "see target/campaign-crashes");
}
