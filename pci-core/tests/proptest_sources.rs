//! Property tests for pci-core's outside-data readers:
//! lspci dumps, JSON host snapshots, sysfs trees, `-s`/`-d` filters,
//! addresses and `pci.ids`, seeded by mutations of the real samples in
//! `../shared/realdata` (skipped cleanly when that folder is absent). The
//! random-bytes config-space tests live in `decode_fuzz.rs`; here config
//! space comes from real dumps, mutated, so the chains walked are real ones.
//!
//! Properties: no panic; an error names the input; what parses decodes
//! without panic; a snapshot written from a parsed host reads back the same.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pci_core::config::ConfigSpace;
use pci_core::sources::filter::{IdFilter, SlotFilter};
use pci_core::sources::snapshot::{parse_snapshot, Snapshot};
use pci_core::sources::{dump::parse_dump_bytes, Source, SourceError, SysfsSource};
use pci_core::{Address, Host};
use proptest::prelude::*;

#[path = "../../tests/support/mutate.rs"]
mod mutate;
use mutate::{apply, Mutation};

fn realdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ))
}

/// Every lspci text sample in realdata (the generated lspci outputs are
/// decodes, not dumps, and are left out).
fn dump_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        let mut stack = vec![realdata()];
        while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for p in entries {
                let name = p.to_string_lossy();
                if name.contains("_generated_") || name.ends_with(".md") {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else if name.contains("lspci") || name.contains("pciutils+pciutils") {
                    if let Ok(b) = std::fs::read(&p) {
                        out.push(b);
                    }
                }
            }
        }
        if out.is_empty() {
            eprintln!("skip: no lspci samples under {}", realdata().display());
        }
        out
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b":".to_vec()),
        Just(b"ff".to_vec()),
        Just(b"00: ".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"0000:00:00.0 ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"{".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        2 => (any::<usize>(), interesting).prop_map(|(p, b)| Mutation::Insert(p, b)),
        2 => (any::<usize>(), 1usize..64).prop_map(|(p, n)| Mutation::Delete(p, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 1usize..200).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        1 => Just(Mutation::Crlf),
    ]
}

/// A window of a seed starting at a line boundary, so every test case
/// holds a few whole functions and stays small (real files reach 390 KiB).
fn window(seed: &[u8], start: usize, len: usize) -> Vec<u8> {
    if seed.is_empty() {
        return Vec::new();
    }
    let mut at = start % seed.len();
    while at > 0 && seed[at - 1] != b'\n' {
        at -= 1;
    }
    let end = (at + len).min(seed.len());
    seed[at..end].to_vec()
}

/// Walks everything a decoded function offers; none of it may panic and
/// the chain walks must end within the slots there are.
fn exercise_config(bytes: &[u8]) {
    let cfg = ConfigSpace::new(bytes);
    assert!(cfg.capabilities().count() <= 65);
    assert!(cfg.extended_capabilities().count() <= 1025);
    let _ = (
        cfg.vendor_id(),
        cfg.class_code(),
        cfg.header_type(),
        cfg.subsystem(),
        cfg.bridge(),
        cfg.cardbus(),
        cfg.bars(&[None; 6]),
        cfg.power_management(),
        cfg.msi(),
        cfg.msix(),
        cfg.pci_express(),
        cfg.advanced_features(),
        cfg.acs(),
        cfg.sriov(),
        cfg.ari(),
        cfg.aer(),
        cfg.resizable_bar(),
        cfg.flr(),
        cfg.vendor_capabilities(),
    );
}

fn check_dump_result(r: Result<Host, SourceError>, name: &str) {
    match r {
        Ok(host) => {
            for f in &host.functions {
                assert!(f.config.len() <= 4096, "config longer than 4096 bytes");
                exercise_config(&f.config);
                let _ = f.bars();
            }
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(name), "error does not name the input: {msg}");
        }
    }
}

/// The hex lines of a dump, written the way lspci writes them, then
/// disturbed: odd offsets, short lines, stray tokens, domains, CRLF.
fn generated_dump() -> impl Strategy<Value = Vec<u8>> {
    let function = (
        prop_oneof![Just(""), Just("0000:"), Just("10000:"), Just("ffff:")],
        any::<u8>(),
        0u8..40,
        0u8..9,
        prop_oneof![Just(4usize), Just(16), Just(256), 0usize..260],
        proptest::collection::vec(any::<u8>(), 16),
        any::<bool>(),
    )
        .prop_map(|(dom, bus, dev, func, rows, bytes, crlf)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut s = format!("{dom}{bus:02x}:{dev:02x}.{func} Class 0200: Device{nl}");
            for r in 0..rows {
                s.push_str(&format!("{:02x}:", r * 16));
                for b in &bytes {
                    s.push_str(&format!(" {b:02x}"));
                }
                s.push_str(nl);
            }
            s.push_str(nl);
            s
        });
    (
        proptest::collection::vec(function, 0..4),
        proptest::collection::vec(mutation(), 0..6),
    )
        .prop_map(|(funcs, muts)| {
            let mut b = funcs.concat().into_bytes();
            apply(&mut b, &muts);
            b
        })
}

/// A snapshot document from a real dump, for the JSON mutations.
fn snapshot_seed() -> Option<&'static str> {
    static SEED: OnceLock<Option<String>> = OnceLock::new();
    SEED.get_or_init(|| {
        let seeds = dump_seeds();
        let host = seeds
            .iter()
            .filter_map(|s| parse_dump_bytes(s, "seed").ok())
            .find(|h| h.functions.len() >= 4)?;
        Some(
            Snapshot::new(host, Some("dump:seed".into()))
                .to_json()
                .unwrap(),
        )
    })
    .as_deref()
}

/// Replaces the value at a pseudo-random place in a JSON tree with another
/// kind of value (a string where a number goes, a huge number, null...).
fn confuse(v: &mut serde_json::Value, mut pick: u64, with: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let n = m.len() as u64;
            if n == 0 {
                return false;
            }
            let key = m.keys().nth((pick % n) as usize).cloned().unwrap();
            pick /= n.max(2);
            let child = m.get_mut(&key).unwrap();
            if pick.is_multiple_of(3) || !confuse(child, pick, with) {
                *child = with.clone();
            }
            true
        }
        Value::Array(a) => {
            let n = a.len() as u64;
            if n == 0 {
                return false;
            }
            let child = &mut a[(pick % n) as usize];
            pick /= n.max(2);
            if pick.is_multiple_of(3) || !confuse(child, pick, with) {
                *child = with.clone();
            }
            true
        }
        _ => false,
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    prop_oneof![
        Just(Value::Null),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(1e300)),
        Just(json!("")),
        Just(json!("zz")),
        Just(json!("0000:00:00.0")),
        Just(json!("ffff:ff:1f.7")),
        Just(json!([])),
        Just(json!({})),
        Just(json!(true)),
        "[0-9a-f]{0,9000}".prop_map(Value::String),
    ]
}

/// Whether the sysfs property test may run: it builds trees in a temporary
/// directory.
#[derive(Debug, Clone)]
enum SysEntry {
    /// A device directory with these attribute files.
    Dev {
        name: String,
        config: Option<Vec<u8>>,
        resource: Option<String>,
        boot_vga: Option<Vec<u8>>,
        driver: Option<String>,
        iommu: Option<String>,
        physfn: Option<String>,
        config_is_dir: bool,
    },
    /// A symbolic link that dangles, loops or escapes.
    Link { name: String, target: String },
    /// A plain file where a device directory belongs.
    File { name: String },
}

fn sys_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0u32..3, any::<u8>(), 0u8..32, 0u8..8)
            .prop_map(|(d, b, dv, f)| format!("{d:04x}:{b:02x}:{dv:02x}.{f}")),
        1 => "[0-9a-f:.]{1,14}",
        1 => Just("..".to_string()),
        1 => Just(".hidden".to_string()),
        1 => Just("0000:00:00.8".to_string()),
    ]
}

fn sys_entry() -> impl Strategy<Value = SysEntry> {
    let dev = (
        sys_name(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        proptest::option::of(prop_oneof![
            "(0x[0-9a-f]{16} 0x[0-9a-f]{16} 0x[0-9a-f]{16}\n){0,8}",
            "[ -~\n]{0,200}",
        ]),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..4)),
        proptest::option::of(prop_oneof![
            Just("../../../bus/pci/drivers/vfio-pci".to_string()),
            Just("/nonexistent".to_string()),
            Just("driver".to_string()),
        ]),
        proptest::option::of(prop_oneof![
            Just("../../../kernel/iommu_groups/7".to_string()),
            Just("../../../kernel/iommu_groups/x".to_string()),
            Just("../../../kernel/iommu_groups/99999999999999999999".to_string()),
        ]),
        proptest::option::of(sys_name().prop_map(|n| format!("../{n}"))),
        any::<bool>(),
    )
        .prop_map(
            |(name, config, resource, boot_vga, driver, iommu, physfn, config_is_dir)| {
                SysEntry::Dev {
                    name,
                    config,
                    resource,
                    boot_vga,
                    driver,
                    iommu,
                    physfn,
                    config_is_dir,
                }
            },
        );
    prop_oneof![
        5 => dev,
        1 => (sys_name(), prop_oneof![
            Just("/nonexistent".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just("loop".to_string()),
        ]).prop_map(|(name, target)| SysEntry::Link { name, target }),
        1 => sys_name().prop_map(|name| SysEntry::File { name }),
    ]
}

fn build_sysfs(root: &Path, entries: &[SysEntry]) {
    use std::os::unix::fs::symlink;
    let devs = root.join("bus/pci/devices");
    std::fs::create_dir_all(&devs).unwrap();
    std::fs::create_dir_all(root.join("devices/pci0000:00")).unwrap();
    for e in entries {
        match e {
            SysEntry::Dev {
                name,
                config,
                resource,
                boot_vga,
                driver,
                iommu,
                physfn,
                config_is_dir,
            } => {
                if name == ".." || devs.join(name).symlink_metadata().is_ok() {
                    continue;
                }
                let real = root.join("devices/pci0000:00").join(name);
                if std::fs::create_dir_all(&real).is_err() {
                    continue;
                }
                let _ = symlink(
                    format!("../../../devices/pci0000:00/{name}"),
                    devs.join(name),
                );
                if *config_is_dir {
                    let _ = std::fs::create_dir(real.join("config"));
                } else if let Some(c) = config {
                    let _ = std::fs::write(real.join("config"), c);
                }
                if let Some(r) = resource {
                    let _ = std::fs::write(real.join("resource"), r);
                }
                if let Some(b) = boot_vga {
                    let _ = std::fs::write(real.join("boot_vga"), b);
                }
                if let Some(d) = driver {
                    let _ = symlink(d, real.join("driver"));
                }
                if let Some(i) = iommu {
                    let _ = symlink(i, real.join("iommu_group"));
                }
                if let Some(p) = physfn {
                    let _ = symlink(p, real.join("physfn"));
                }
            }
            SysEntry::Link { name, target } => {
                let _ = symlink(
                    if target == "loop" { name } else { target },
                    devs.join(name),
                );
            }
            SysEntry::File { name } => {
                if name != ".." {
                    let _ = std::fs::write(devs.join(name), b"not a directory");
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    /// Real dumps, a window of whole lines, mutated.
    #[test]
    fn mutated_real_dumps_never_panic(
        pick in any::<usize>(),
        start in any::<usize>(),
        len in 64usize..12_000,
        muts in proptest::collection::vec(mutation(), 0..8),
    ) {
        let seeds = dump_seeds();
        if seeds.is_empty() {
            return Ok(());
        }
        let mut b = window(&seeds[pick % seeds.len()], start, len);
        apply(&mut b, &muts);
        check_dump_result(parse_dump_bytes(&b, "mutated.txt"), "mutated.txt");
    }

    /// Config space from real dumps with bytes flipped in the capability
    /// areas, so real chains are bent into loops and out-of-range pointers.
    #[test]
    fn mutated_real_config_spaces_never_panic(
        pick in any::<usize>(),
        start in any::<usize>(),
        flips in proptest::collection::vec((0x34usize..4096, any::<u8>()), 1..12),
    ) {
        let seeds = dump_seeds();
        if seeds.is_empty() {
            return Ok(());
        }
        let b = window(&seeds[pick % seeds.len()], start, 40_000);
        let Ok(host) = parse_dump_bytes(&b, "seed") else { return Ok(()); };
        for f in host.functions.iter().take(4) {
            let mut cfg = f.config.clone();
            if cfg.is_empty() {
                continue;
            }
            for (at, v) in &flips {
                let n = cfg.len();
                cfg[at % n] = *v;
            }
            exercise_config(&cfg);
        }
    }

    /// Dumps built line by line, then disturbed.
    #[test]
    fn generated_dumps_never_panic(b in generated_dump()) {
        check_dump_result(parse_dump_bytes(&b, "gen.txt"), "gen.txt");
    }

    /// A snapshot of a real host, its JSON bytes mutated.
    #[test]
    fn mutated_snapshot_bytes_never_panic(muts in proptest::collection::vec(mutation(), 1..6)) {
        let Some(seed) = snapshot_seed() else { return Ok(()); };
        let mut b = seed.as_bytes().to_vec();
        apply(&mut b, &muts);
        match parse_snapshot(&b, "host.json") {
            Ok(h) => h.functions.iter().for_each(|f| exercise_config(&f.config)),
            Err(e) => prop_assert!(e.to_string().contains("host.json")),
        }
    }

    /// A snapshot of a real host with one value replaced by another type.
    #[test]
    fn type_confused_snapshots_never_panic(pick in any::<u64>(), with in json_value()) {
        let Some(seed) = snapshot_seed() else { return Ok(()); };
        let mut v: serde_json::Value = serde_json::from_str(seed).unwrap();
        confuse(&mut v, pick, &with);
        let b = serde_json::to_vec(&v).unwrap();
        match parse_snapshot(&b, "host.json") {
            Ok(h) => h.functions.iter().for_each(|f| exercise_config(&f.config)),
            Err(e) => prop_assert!(e.to_string().contains("host.json")),
        }
    }

    /// What a dump yields, written as a snapshot, reads back the same.
    #[test]
    fn snapshot_round_trips_real_hosts(pick in any::<usize>(), start in any::<usize>()) {
        let seeds = dump_seeds();
        if seeds.is_empty() {
            return Ok(());
        }
        let b = window(&seeds[pick % seeds.len()], start, 30_000);
        let Ok(host) = parse_dump_bytes(&b, "seed") else { return Ok(()); };
        let json = Snapshot::new(host.clone(), None).to_json().unwrap();
        let back = parse_snapshot(json.as_bytes(), "rt.json").unwrap();
        prop_assert_eq!(back.functions, host.functions);
    }

    /// `-s`, `-d` and addresses: any text is accepted or refused, never a panic;
    /// an accepted address prints back to itself.
    #[test]
    fn filters_and_addresses_never_panic(s in prop_oneof![
        "[0-9a-fA-F:.*x -]{0,80}",
        any::<String>(),
        "(ffff|10000|0|)[:]?[0-9a-f]{0,3}:[0-9a-f]{0,3}\\.[0-9a-f]{0,2}",
    ]) {
        let _ = SlotFilter::parse(&s);
        let _ = IdFilter::parse(&s);
        if let Ok(a) = s.parse::<Address>() {
            prop_assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
        }
    }

    /// `pci.ids`, a window of the system file mutated.
    #[test]
    fn mutated_pci_ids_never_panic(
        start in any::<usize>(),
        muts in proptest::collection::vec(mutation(), 0..8),
        v in any::<u16>(), d in any::<u16>(), c in any::<u8>(),
    ) {
        static IDS: OnceLock<Vec<u8>> = OnceLock::new();
        let ids = IDS.get_or_init(|| {
            pci_core::names::SYSTEM_PATHS
                .iter()
                .find_map(|p| std::fs::read(p).ok())
                .unwrap_or_default()
        });
        if ids.is_empty() {
            return Ok(());
        }
        let mut b = window(ids, start, 20_000);
        apply(&mut b, &muts);
        let names = pci_core::names::PciNames::from_text(
            PathBuf::from("pci.ids"),
            String::from_utf8_lossy(&b).into_owned(),
        );
        let _ = (names.vendor(v), names.device(v, d), names.subsystem(v, d, v, d));
        let _ = (names.class(c), names.subclass(c, c), names.prog_if(c, c, c));
    }
}

proptest! {
    // Each case builds a directory tree: fewer cases keep the run short.
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random sysfs trees: dangling, looping and escaping links, files where
    /// directories go, directories where files go, garbage attributes.
    #[test]
    fn random_sysfs_trees_never_panic(entries in proptest::collection::vec(sys_entry(), 0..10)) {
        let tmp = tempfile::tempdir().unwrap();
        build_sysfs(tmp.path(), &entries);
        match SysfsSource::new(tmp.path()).load() {
            Ok(h) => h.functions.iter().for_each(|f| {
                exercise_config(&f.config);
                let _ = f.bars();
            }),
            Err(e) => prop_assert!(e.to_string().contains(&tmp.path().display().to_string())),
        }
    }
}
