//! Property tests for the illumos readers that the
//! owners' tests leave out: the kernel aliases lexer and interpreter
//! (`ppt_aliases`, `driver_aliases`), `name_to_major`, `path_to_inst`, the
//! binding prediction over all of them, `ppt_matches` as real files look
//! (mutated, streamed in tiny reads), `/dev/pptN` link targets, cfgspace
//! file names, and the real OmniOS devinfo snapshot mutated (the synthetic
//! one is covered by `devinfo_synthetic.rs`). Seeds are the real samples in
//! `../shared/realdata`; each property skips cleanly when they are absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufReader;
use std::path::PathBuf;
use std::sync::OnceLock;

use pci_illumos::aliases::{AliasFile, BindingTable, Lexer, NameToMajor, PathToInst, Token};
use pci_illumos::binding::{predict, KernelFiles};
use pci_illumos::devinfo::{to_host, Snapshot};
use pci_illumos::matcher::Matcher;
use pci_illumos::matches::{NodeIds, PptMatches, ReadLimits};
use proptest::prelude::*;

#[path = "../../tests/support/mutate.rs"]
mod mutate;
use mutate::{apply, Mutation};

fn omnios() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk"
    ))
}

fn seed(name: &str) -> &'static [u8] {
    static SEEDS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    let all = SEEDS.get_or_init(|| {
        ["devices/snapshot_cache", "driver_aliases", "path_to_inst"]
            .iter()
            .map(|n| {
                let b = std::fs::read(omnios().join(n)).unwrap_or_else(|_| {
                    eprintln!("skip: {} is absent", omnios().join(n).display());
                    Vec::new()
                });
                (n.to_string(), b)
            })
            .collect()
    });
    all.iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .unwrap_or(&[])
}

/// A `ppt_aliases`/`ppt_matches` sample as people write them (the example
/// host's files and the lines of Levon's 2018 how-to, with the traps of docs/illumos.md).
const PPT_ALIASES: &[u8] = b"# reserved for bhyve\n\
ppt \"/pci@0,0/pci8086,151@1/display@0\"\n\
ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n\
ppt pciex10de,a65\n\
ppt /pci@0,0/pci8086,151@1/display@0\n\
ppt \"pci8086,1502\" \"pciex8086,1502\"\n\
ppt \"unterminated\n\
\"ppt\" \"\\163\\164\"\r\n";
const PPT_MATCHES: &[u8] = b"# comment\n\
pciex10de,a65\n\
pciex10de,be3\n\
/pci@0,0/pci8086,151@1/display@0\n\
/pci@0,0/pci8086,151@1/pci1462,2291@0,1\n\
pci8086\n\
pciex8086,0x1502\n\
  pci10de,0a65  \r\n\
\n";

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\777".to_vec()),
        Just(b"#".to_vec()),
        Just(b",".to_vec()),
        Just(b"\x0c".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"0x".to_vec()),
        Just(vec![b'a'; 1100]),
        Just(b"\xff\xfe".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    let word = prop_oneof![
        Just(0u32),
        Just(1),
        Just(0xffff_ffff),
        Just(0x8000_0000),
        Just(0x7fff_ffff),
        0u32..200_000,
    ];
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        2 => (any::<usize>(), interesting).prop_map(|(p, b)| Mutation::Insert(p, b)),
        2 => (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), word).prop_map(|(p, w)| Mutation::Word(p, w)),
    ]
}

fn window(seed: &[u8], start: usize, len: usize) -> Vec<u8> {
    if seed.is_empty() {
        return Vec::new();
    }
    let mut at = start % seed.len();
    while at > 0 && seed[at - 1] != b'\n' {
        at -= 1;
    }
    seed[at..(at + len).min(seed.len())].to_vec()
}

/// The lexer ends: every token but EOF consumes at least one byte.
fn lex_all(b: &[u8]) {
    let mut lx = Lexer::new(b);
    let mut n = 0usize;
    loop {
        let (t, line) = lx.next_token();
        assert!(line >= 1 && line <= b.len() + 1, "line {line} out of range");
        if t == Token::Eof {
            break;
        }
        n += 1;
        assert!(n <= b.len() + 1, "lexer does not advance");
    }
}

fn aliases_source() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0u8), Just(1u8)],
        any::<usize>(),
        300usize..6000,
        proptest::collection::vec(mutation(), 0..10),
    )
        .prop_map(|(which, start, len, muts)| {
            let mut b = if which == 0 || seed("driver_aliases").is_empty() {
                PPT_ALIASES.to_vec()
            } else {
                window(seed("driver_aliases"), start, len)
            };
            apply(&mut b, &muts);
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The kernel lexer on mutated alias files and on random bytes.
    #[test]
    fn lexer_ends_on_any_input(b in prop_oneof![aliases_source(), proptest::collection::vec(any::<u8>(), 0..2000)]) {
        lex_all(&b);
    }

    /// The aliases interpreter: every entry and problem names a line of the
    /// file, and the binding table builds from anything.
    #[test]
    fn aliases_interpreter_never_panics(b in aliases_source(), known in any::<bool>()) {
        let n2m = NameToMajor::parse(b"ppt 1\npci_pci 2\nnvme 3\n", "/etc/name_to_major");
        let f = AliasFile::parse(&b, "/etc/ppt_aliases", known.then_some(&n2m));
        let lines = b.iter().filter(|&&c| c == b'\n' || c == b'\r').count() + 1;
        for e in &f.entries {
            prop_assert!(e.line >= 1 && e.line <= lines, "entry line {} of {}", e.line, lines);
        }
        for p in &f.problems {
            prop_assert!(p.line >= 1 && p.line <= lines, "problem line {} of {}", p.line, lines);
        }
        let t = BindingTable::build(Some(&n2m), &[&f]);
        for e in &f.entries {
            let _ = t.get(&e.alias);
        }
    }

    /// `name_to_major` and `path_to_inst`, real ones mutated.
    #[test]
    fn kernel_tables_never_panic(
        start in any::<usize>(),
        muts in proptest::collection::vec(mutation(), 0..10),
        drv in "[a-z_]{1,8}",
    ) {
        let mut p = window(seed("path_to_inst"), start, 1500);
        apply(&mut p, &muts);
        let t = PathToInst::parse(&p, "/etc/path_to_inst");
        let _ = t.instance("/pci@0,0/pci8086,151@1", &drv);
        let _ = t.next_free(&drv);
        let mut n = b"ppt 151\nnvme 212\n".to_vec();
        apply(&mut n, &muts);
        let _ = NameToMajor::parse(&n, "/etc/name_to_major").knows(&drv);
    }

    /// `ppt_matches` as people write it, mutated: parsing the bytes and
    /// streaming them one byte per read give the same result, and the
    /// compiled matcher agrees with the rule list.
    #[test]
    fn mutated_matches_stream_like_slices(
        muts in proptest::collection::vec(mutation(), 0..10),
        vendor in prop_oneof![Just(0x10deu32), any::<u32>()],
        device in prop_oneof![Just(0xa65u32), any::<u32>()],
    ) {
        let mut b = PPT_MATCHES.to_vec();
        apply(&mut b, &muts);
        let whole = PptMatches::parse(&b, "/etc/ppt_matches");
        let streamed = PptMatches::read(
            BufReader::with_capacity(1, b.as_slice()),
            "/etc/ppt_matches",
            ReadLimits::default(),
        )
        .unwrap();
        prop_assert_eq!(&whole, &streamed);
        let node = NodeIds { path: "/pci@0,0/pci8086,151@1/display@0", vendor, device };
        prop_assert_eq!(
            Matcher::compile(&whole).first_match(&node),
            whole.first_match(&node).map(|l| l.number)
        );
    }

    /// Tight limits: long lines and many lines are cut with a diagnostic,
    /// never a panic, and memory stays within the limits.
    #[test]
    fn matches_limits_hold(lines in 0usize..300, width in 0usize..3000, max_lines in 1usize..50) {
        let mut b = Vec::new();
        for i in 0..lines {
            b.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, width % (i + 1 + width / 2 + 1)));
            b.push(b'\n');
        }
        let limits = ReadLimits { max_line_bytes: 1024, max_lines };
        let m = PptMatches::read(b.as_slice(), "/etc/ppt_matches", limits).unwrap();
        prop_assert!(m.lines.len() <= max_lines);
        prop_assert!(m.lines.iter().all(|l| l.text().len() <= 4096));
    }

    /// The real OmniOS snapshot cache with fields overwritten: parse errors
    /// or a tree; a tree converts to a host and its paths can be built.
    #[test]
    fn mutated_real_devinfo_never_panics(muts in proptest::collection::vec(mutation(), 1..8)) {
        let s = seed("devices/snapshot_cache");
        if s.is_empty() {
            return Ok(());
        }
        let mut b = s.to_vec();
        // Mostly in-place edits: a changed length only shifts everything.
        let muts: Vec<_> = muts
            .into_iter()
            .map(|m| match m {
                Mutation::Insert(p, v) => Mutation::Flip(p, v.first().copied().unwrap_or(0)),
                Mutation::Delete(p, _) => Mutation::Word(p, 0),
                m => m,
            })
            .collect();
        apply(&mut b, &muts);
        // Re-seal the cache checksum (in-place edits keep the length), or
        // every edit stops at the CRC check before the tree is walked.
        if b.len() >= 0x18 {
            let c = pci_illumos::devinfo::checksum_of(&b);
            b[0x14..0x18].copy_from_slice(&c.to_le_bytes());
        }
        if let Ok(snap) = Snapshot::parse(&b) {
            let host = to_host(&snap, "/etc/devices/snapshot_cache");
            for i in 0..snap.nodes.len().min(64) {
                let _ = snap.path_ua(i);
            }
            prop_assert!(host.functions.len() <= snap.nodes.len());
        }
    }

    /// The whole prediction over mutated real inputs: devinfo host,
    /// driver_aliases, ppt_aliases and path_to_inst.
    #[test]
    fn binding_prediction_never_panics(
        a in aliases_source(),
        d in aliases_source(),
        muts in proptest::collection::vec(mutation(), 0..6),
    ) {
        static HOST: OnceLock<Option<pci_core::Host>> = OnceLock::new();
        let Some(host) = HOST.get_or_init(|| {
            Snapshot::parse(seed("devices/snapshot_cache")).ok().map(|s| to_host(&s, "cache"))
        }) else {
            return Ok(());
        };
        let mut p = seed("path_to_inst").to_vec();
        apply(&mut p, &muts);
        let files = KernelFiles {
            ppt_aliases: Some(AliasFile::parse(&a, "/etc/ppt_aliases", None)),
            driver_aliases: Some(AliasFile::parse(&d, "/etc/driver_aliases", None)),
            name_to_major: None,
            path_to_inst: Some(PathToInst::parse(&p, "/etc/path_to_inst")),
            disabled: Default::default(),
            smartos: false,
        };
        let r = predict(host, &files);
        prop_assert!(r.predictions.len() <= host.functions.len());
    }

    /// `/dev/pptN` targets and cfgspace names from arbitrary text.
    #[test]
    fn link_targets_and_names_never_panic(
        base in "(/[a-z.@,0-9]{0,12}){0,5}",
        target in "(\\.\\./|\\./|/|[a-z@,:0-9]{1,10}/){0,12}[a-z@,:0-9]{0,10}",
        name in prop_oneof!["[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}\\.pci", any::<String>()],
    ) {
        let r = pci_illumos::pptdev::resolve_lexically(&base, &target);
        prop_assert!(!r.split('/').any(|c| c == ".."), "{r} keeps ..");
        let _ = pci_illumos::pptdev::link_devfs_path(&r);
        let _ = pci_illumos::cfgspace::parse_name(&name);
    }
}

/// Message review: a file that is not a snapshot at all (here a text file)
/// says so instead of reporting an absurd "version 538970747".
#[test]
fn text_given_as_devinfo_says_not_a_snapshot() {
    let text = b"# /etc/driver_aliases\npcieb \"pciex8086,151\"\n".repeat(4);
    let e = Snapshot::parse(&text).unwrap_err().to_string();
    assert!(
        e.starts_with("not a devinfo snapshot: it starts with \"# /etc/driver_al\""),
        "{e}"
    );
}
