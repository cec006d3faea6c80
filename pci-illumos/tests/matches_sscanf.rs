//! Table tests: every `sscanf("%4s")` edge of libppt `get_matches`, each with
//! the result libppt produces (worked out from the C rules of illumos-gate
//! libppt.c `get_matches`, see docs/match.md: literals do not skip
//! whitespace, `%4s` does, `%4s` takes up to four non-space bytes and
//! swallows commas, the line is a C
//! string, `pciex` patterns are tried before `pci`, a `/` line is a path kept
//! to MAXPATHLEN-1 bytes).

use pci_illumos::matches::{parse_line, LintCode, NodeIds, PptMatches, Rule};

/// `id V D`, `vendor V`, `path P` or `ignored`, as libppt stores the entry.
fn describe(rule: &Rule) -> String {
    match rule {
        Rule::Id { vendor, device } => format!("id {vendor} {device}"),
        Rule::Vendor { vendor } => format!("vendor {vendor}"),
        Rule::Path(p) => format!("path {}", String::from_utf8_lossy(p)),
        Rule::Ignored => "ignored".to_string(),
    }
}

fn codes(line: &[u8]) -> Vec<&'static str> {
    let m = PptMatches::parse(line, "/etc/ppt_matches");
    m.lines
        .first()
        .map(|l| l.lints.iter().map(|x| x.code.as_str()).collect())
        .unwrap_or_default()
}

/// (line, libppt's entry, accepting pattern, lint codes)
type Case = (
    &'static [u8],
    &'static str,
    Option<u8>,
    &'static [&'static str],
);

/// Id and vendor lines: prefixes, whitespace, commas, case and padding.
const ID_LINES: &[Case] = &[
    // the delivered default line (gate usr/src/lib/libppt/ppt_matches)
    (b"pci10de,15f0", "id 10de 15f0", Some(2), &[]),
    (b"pciex10de,15f0", "id 10de 15f0", Some(1), &[]),
    // text after whitespace is never read: a comment in effect
    (b"pciex10de,15f0 # x", "id 10de 15f0", Some(1), &[]),
    // subsystem parts are dropped: behaves as pci8086,1528
    (
        b"pci8086,1528.8086.1528",
        "id 8086 1528",
        Some(2),
        &["trailing-ignored"],
    ),
    (
        b"pci10de,15f0,1234",
        "id 10de 15f0",
        Some(2),
        &["trailing-ignored"],
    ),
    (
        b"pci10de,15f01",
        "id 10de 15f0",
        Some(2),
        &["trailing-ignored"],
    ),
    // short vendor: pattern 2 reads `e11,` then fails on the literal comma
    (b"pcie11,ae10", "vendor e11,", Some(4), &["not-hex"]),
    (b"pci11,ae10", "vendor 11,a", Some(4), &["not-hex"]),
    (b"pci0,0", "vendor 0,0", Some(4), &["not-hex"]),
    // class forms read vendor `clas`
    (b"pciclass,020000", "vendor clas", Some(4), &["class-rule"]),
    (b"pciexclass,0200", "vendor clas", Some(3), &["class-rule"]),
    // literal prefix does not skip whitespace: ignored
    (b" pci10de,15f0", "ignored", None, &["leading-whitespace"]),
    (
        b"\t/pci@0,0/display@2",
        "ignored",
        None,
        &["leading-whitespace"],
    ),
    // %4s skips whitespace after the prefix and after the comma
    (b"pci 10de, 15f0", "id 10de 15f0", Some(2), &[]),
    (b"pciex10de,\t15f0", "id 10de 15f0", Some(1), &[]),
    (b"pci\x0b10de,\x0c15f0", "id 10de 15f0", Some(2), &[]),
    // ... but the literal comma must follow the vendor directly
    (
        b"pci10de ,15f0",
        "vendor 10de",
        Some(4),
        &["device-ignored"],
    ),
    (
        b"pci10de\t,15f0",
        "vendor 10de",
        Some(4),
        &["device-ignored"],
    ),
    // comma with nothing after it: vendor-only, every device of 10de
    (b"pciex10de,", "vendor 10de", Some(3), &["device-ignored"]),
    (b"pci10de, ", "vendor 10de", Some(4), &["device-ignored"]),
    (b"pciex8086", "vendor 8086", Some(3), &[]),
    (b"pci10de", "vendor 10de", Some(4), &[]),
    (b"pci10de1", "vendor 10de", Some(4), &["trailing-ignored"]),
    // case and padding: strcmp against "%x"
    (
        b"pci10DE,0A65",
        "id 10DE 0A65",
        Some(2),
        &["upper-case-hex", "upper-case-hex", "zero-padded-hex"],
    ),
    (
        b"pci10de,0a65",
        "id 10de 0a65",
        Some(2),
        &["zero-padded-hex"],
    ),
    // `\r` is whitespace for %4s: harmless on an id line
    (b"pci10de,a65\r", "id 10de a65", Some(2), &["crlf"]),
];

/// Path lines: kept byte for byte, with what makes them never match.
const PATH_LINES: &[Case] = &[
    // ... but kept in a path
    (
        b"/pci@0,0/pci8086,151@1/display@0\r",
        "path /pci@0,0/pci8086,151@1/display@0\r",
        None,
        &["crlf"],
    ),
    (
        b"/pci@0,0/display@2 ",
        "path /pci@0,0/display@2 ",
        None,
        &["trailing-whitespace"],
    ),
    (
        b"/devices/pci@0,0/display@2",
        "path /devices/pci@0,0/display@2",
        None,
        &["devices-prefix"],
    ),
    (
        b"/pci@0,0/display@2:ppt",
        "path /pci@0,0/display@2:ppt",
        None,
        &["minor-suffix"],
    ),
    (
        b"/devices/pci@0,0/display@2:ppt",
        "path /devices/pci@0,0/display@2:ppt",
        None,
        &["devices-prefix", "minor-suffix"],
    ),
    // Levon 2018 blog's alias without the function's unit address: as
    // a ppt_matches rule it is the path libppt sees while the node is
    // uninitialised, so it can match
    (
        b"/pci@0,0/pci8086,151@1/pci1462,2291",
        "path /pci@0,0/pci8086,151@1/pci1462,2291",
        None,
        &[],
    ),
    // a parent without its unit address never matches
    (
        b"/pci@0,0/pci8086,151/pci1462,2291@0,1",
        "path /pci@0,0/pci8086,151/pci1462,2291@0,1",
        None,
        &["missing-unit-address"],
    ),
];

/// Odd prefixes, comments, empty lines, NUL and non-ASCII bytes.
const ODD_LINES: &[Case] = &[
    // odd prefixes
    (b"pciex", "vendor ex", Some(4), &["not-hex"]),
    (b"pci", "ignored", None, &["unknown-prefix"]),
    (b"pcix10de", "vendor x10d", Some(4), &["not-hex"]),
    (b"pci,1234", "vendor ,123", Some(4), &["not-hex"]),
    (b"PCI10de,15f0", "ignored", None, &["unknown-prefix"]),
    (b"10de:15f0", "ignored", None, &["unknown-prefix"]),
    (b"# comment", "ignored", None, &[]),
    (b"   # indented comment", "ignored", None, &[]),
    (b"", "ignored", None, &[]),
    (b"   ", "ignored", None, &[]),
    // a C string ends at NUL
    (b"pci1\x00de,15f0", "vendor 1", Some(4), &["nul-byte"]),
    (b"\x00pci10de", "ignored", None, &["nul-byte"]),
    // non-ASCII bytes are not whitespace in the C locale
    (
        b"pci\xff\xfe10",
        "vendor \u{fffd}\u{fffd}10",
        Some(4),
        &["not-hex"],
    ),
];

#[test]
fn sscanf_table() {
    let table = ID_LINES.iter().chain(PATH_LINES).chain(ODD_LINES);
    for (line, want, pattern, want_codes) in table {
        let p = parse_line(line);
        assert_eq!(
            describe(&p.rule),
            *want,
            "rule of {:?}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            p.pattern,
            *pattern,
            "pattern of {:?}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            codes(line),
            *want_codes,
            "lints of {:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn long_path_is_cut_like_strlcpy() {
    let mut line = b"/pci@0,0".to_vec();
    while line.len() < 1500 {
        line.extend_from_slice(b"/pci1,2@3");
    }
    let p = parse_line(&line);
    match &p.rule {
        Rule::Path(kept) => {
            assert_eq!(kept.len(), 1023);
            assert_eq!(kept.as_slice(), &line[..1023]);
        }
        other => panic!("not a path: {other:?}"),
    }
    assert!(codes(&line).contains(&"path-too-long"));
}

#[test]
fn newline_handling_like_getline() {
    // exactly one `\n` is stripped per line; a last line without `\n` counts;
    // `\r\n` keeps the `\r`.
    let m = PptMatches::parse(b"pci10de\n\n/pci@0,0/x@1\r\npci8086", "/etc/ppt_matches");
    let got: Vec<String> = m.lines.iter().map(|l| describe(&l.rule)).collect();
    assert_eq!(
        got,
        [
            "vendor 10de",
            "ignored",
            "path /pci@0,0/x@1\r",
            "vendor 8086"
        ]
    );
    assert_eq!(
        m.lines.iter().map(|l| l.number).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(PptMatches::parse(b"", "/etc/ppt_matches").lines.is_empty());
    assert_eq!(PptMatches::parse(b"\n", "/etc/ppt_matches").lines.len(), 1);
}

#[test]
fn duplicates_are_semantic() {
    // pciex and pci spell the same entry for libppt
    let m = PptMatches::parse(
        b"pciex10de,15f0\npci10de,15f0\n/pci@0,0/a@1\n/pci@0,0/a@1\n",
        "/etc/ppt_matches",
    );
    let c: Vec<Vec<LintCode>> = m
        .lines
        .iter()
        .map(|l| l.lints.iter().map(|x| x.code).collect())
        .collect();
    assert_eq!(
        c,
        [
            vec![],
            vec![LintCode::Duplicate],
            vec![],
            vec![LintCode::Duplicate]
        ]
    );
}

#[test]
fn matching_compares_strings_like_strcmp() {
    let node = |path, vendor, device| NodeIds {
        path,
        vendor,
        device,
    };
    let gpu = node("/pci@0,0/pci8086,151@1/display@0", 0x10de, 0xa65);
    let cases: &[(&[u8], bool)] = &[
        (b"pci10de,a65", true),
        (b"pciex10de,a65", true),
        (b"pci10de", true),
        (b"pci10de,0a65", false),
        (b"pci10DE,a65", false),
        (b"pci10de ,be3", true), // vendor-only by accident
        (b"/pci@0,0/pci8086,151@1/display@0", true),
        (b"/pci@0,0/pci8086,151@1/display@0\r", false),
        (b"/devices/pci@0,0/pci8086,151@1/display@0", false),
        (b"/pci@0,0/pci8086,151@1/display@0:ppt", false),
        (b" pci10de,a65", false),
        (b"pciclass,030000", false),
    ];
    for (line, want) in cases {
        let m = PptMatches::parse(line, "/etc/ppt_matches");
        assert_eq!(
            m.first_match(&gpu).is_some(),
            *want,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    // vendor 0 is "%x" = "0"; `pci0,0` swallows the comma into the vendor
    let zero = node("/x@0", 0, 0);
    assert!(PptMatches::parse(b"pci0", "f").first_match(&zero).is_some());
    assert!(PptMatches::parse(b"pci0,0", "f")
        .first_match(&zero)
        .is_none());
    assert!(PptMatches::parse(b"pci0000,0000", "f")
        .first_match(&zero)
        .is_none());
}

#[test]
fn file_choice_boot_module_first() {
    use pci_illumos::root::HostRoot;
    let dir = tempfile::tempdir().unwrap();
    let root = HostRoot::new(dir.path());
    // neither file: empty list, no file
    let m = PptMatches::load(&root).unwrap();
    assert_eq!(m.file, None);
    assert!(m.lines.is_empty());
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/ppt_matches"), "pci8086\n").unwrap();
    let m = PptMatches::load(&root).unwrap();
    assert_eq!(m.file.as_deref(), Some("/etc/ppt_matches"));
    // the boot-module copy replaces /etc (no merging)
    std::fs::create_dir_all(dir.path().join("system/boot/etc")).unwrap();
    std::fs::write(dir.path().join("system/boot/etc/ppt_matches"), "pci10de\n").unwrap();
    let m = PptMatches::load(&root).unwrap();
    assert_eq!(m.file.as_deref(), Some("/system/boot/etc/ppt_matches"));
    assert_eq!(m.lines.len(), 1);
    assert_eq!(describe(&m.lines[0].rule), "vendor 10de");
}

#[test]
fn unreadable_boot_copy_is_an_error() {
    use pci_illumos::root::HostRoot;
    let dir = tempfile::tempdir().unwrap();
    // a directory where the file should be: opening works on Unix, reading fails
    std::fs::create_dir_all(dir.path().join("system/boot/etc/ppt_matches")).unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/ppt_matches"), "pci8086\n").unwrap();
    let e = PptMatches::load(&HostRoot::new(dir.path())).unwrap_err();
    assert!(
        e.to_string().contains("/system/boot/etc/ppt_matches"),
        "{e}"
    );
    // `system` is a file: ENOTDIR is not ENOENT, so libppt stops too
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("system"), "x").unwrap();
    assert!(PptMatches::load(&HostRoot::new(dir.path())).is_err());
}

/// A reader that yields `n` bytes of one byte value, then a tail, without
/// holding them in memory.
struct Repeat {
    left: u64,
    byte: u8,
    tail: std::io::Cursor<Vec<u8>>,
    chunk: Vec<u8>,
}

impl std::io::Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return self.tail.read(buf);
        }
        let n = (buf.len() as u64)
            .min(self.left)
            .min(self.chunk.len() as u64) as usize;
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn huge_line_is_streamed_and_exact() {
    use pci_illumos::matches::ReadLimits;
    use std::io::Read;
    // "pci" + 16 MiB of spaces + "10de,a65": %4s skips all of it, so libppt
    // reads id 10de a65; pptctl must agree without holding the line.
    let head = std::io::Cursor::new(b"pci".to_vec());
    let spaces = Repeat {
        left: 16 << 20,
        byte: b' ',
        tail: std::io::Cursor::new(b"10de,a65\npci8086\n".to_vec()),
        chunk: vec![b' '; 1 << 16],
    };
    assert_eq!(spaces.byte, b' ');
    let r = std::io::BufReader::new(head.chain(spaces));
    let m = PptMatches::read(r, "/etc/ppt_matches", ReadLimits::default()).unwrap();
    assert_eq!(m.lines.len(), 2);
    assert_eq!(describe(&m.lines[0].rule), "id 10de a65");
    assert_eq!(m.lines[0].len, 3 + (16 << 20) + 8);
    assert!(m.lines[0].raw.len() <= 4096);
    assert!(m.lines[0]
        .lints
        .iter()
        .any(|l| l.code == LintCode::LineTooLong));
    assert_eq!(describe(&m.lines[1].rule), "vendor 8086");
}

#[test]
fn line_count_limit_is_reported() {
    use pci_illumos::matches::ReadLimits;
    let text = "pci8086\n".repeat(100);
    let limits = ReadLimits {
        max_line_bytes: 4096,
        max_lines: 10,
    };
    let m = PptMatches::read(text.as_bytes(), "/etc/ppt_matches", limits).unwrap();
    assert_eq!(m.lines.len(), 10);
    assert_eq!(m.diagnostics.len(), 1);
    assert!(m.diagnostics[0].to_string().contains("/etc/ppt_matches:11"));
}
