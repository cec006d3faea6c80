//! The kernel's `driver_aliases` lexer and alias parser, rule by rule
//! (docs/illumos.md; gate modsysfile.c `kobj_lex` and the alias state
//! machine), plus `name_to_major` and `path_to_inst`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_illumos::aliases::{AliasFile, BindingTable, NameToMajor, PathToInst};
use pci_illumos::matches::LintCode;

fn bound(text: &str) -> Vec<(usize, String, String, bool)> {
    AliasFile::parse(text.as_bytes(), "/etc/ppt_aliases", None)
        .entries
        .into_iter()
        .map(|e| (e.line, e.driver, e.alias, e.quoted))
        .collect()
}

fn problems(text: &str) -> Vec<(usize, Vec<LintCode>)> {
    AliasFile::parse(text.as_bytes(), "/etc/ppt_aliases", None)
        .problems
        .into_iter()
        .map(|p| (p.line, p.lints.iter().map(|l| l.code).collect()))
        .collect()
}

fn e(line: usize, d: &str, a: &str, q: bool) -> (usize, String, String, bool) {
    (line, d.to_string(), a.to_string(), q)
}

#[test]
fn quoted_and_unquoted_names() {
    assert_eq!(
        bound("ppt \"/pci@0,0/pci8086,151@1/display@0\"\n"),
        [e(1, "ppt", "/pci@0,0/pci8086,151@1/display@0", true)]
    );
    // commas are glued back; letters after the comma lex as a NAME
    assert_eq!(
        bound("ppt pci10de,a65\n"),
        [e(1, "ppt", "pci10de,a65", false)]
    );
    // a quoted part after a comma is glued too
    assert_eq!(
        bound("ppt pciex10de,\"a65\"\n"),
        [e(1, "ppt", "pciex10de,a65", true)]
    );
    // whitespace around the comma does not matter: tokens are glued
    assert_eq!(
        bound("ppt pci10de , be3\n"),
        [e(1, "ppt", "pci10de,be3", false)]
    );
}

#[test]
fn several_aliases_per_line_and_comments() {
    assert_eq!(
        bound("# reserved for the GPU\nppt \"pci10de,a65\" \"pci10de,be3\"\t# two\n\nppt \"pci8086,1502\"#x\n"),
        [
            e(2, "ppt", "pci10de,a65", true),
            e(2, "ppt", "pci10de,be3", true),
            e(4, "ppt", "pci8086,1502", true),
        ]
    );
    // no newline at the end of the file: the last alias is still bound
    assert_eq!(bound("ppt \"a\""), [e(1, "ppt", "a", true)]);
    // CR is a newline to the kernel
    assert_eq!(
        bound("ppt \"a\"\r\nppt \"b\"\r\n"),
        [e(1, "ppt", "a", true), e(2, "ppt", "b", true)]
    );
}

#[test]
fn escapes_in_strings() {
    // `\` + non-digit is that character; `\` + octal digits is that byte
    assert_eq!(
        bound("ppt \"a\\\"b\\\\c\\101\\x\"\n"),
        [e(1, "ppt", "a\"b\\cAx", true)]
    );
    // `\8`: a digit that is not octal gives a NUL byte: the C string ends
    assert_eq!(bound("ppt \"ab\\8cd\"\n"), [e(1, "ppt", "ab", true)]);
    // an escaped newline continues the string on the next line
    assert_eq!(bound("ppt \"a\\\nb\"\n"), [e(1, "ppt", "a\nb", true)]);
}

#[test]
fn unquoted_path_is_rejected() {
    let f = AliasFile::parse(
        b"ppt /pci@0,0/pci8086,151@1/display@0\n",
        "/etc/ppt_aliases",
        None,
    );
    // the kernel binds a junk alias glued from the NAME pieces, never the path
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].alias, "pci,pci8086,display");
    let codes: Vec<LintCode> = f.entries[0].lints.iter().map(|l| l.code).collect();
    // one lint that says what happened and what to write, not one per token
    assert_eq!(codes, [LintCode::UnquotedPath]);
    assert_eq!(
        f.entries[0].lints[0].message,
        "path aliases must be quoted: the kernel's lexer rejects an unquoted `/`, so this line binds \"pci,pci8086,display\" instead; write ppt \"/pci@0,0/pci8086,151@1/display@0\""
    );
}

#[test]
fn missing_alias_and_numbers() {
    // a driver alone
    assert_eq!(problems("ppt\n"), [(1, vec![LintCode::AliasSyntax])]);
    let f = AliasFile::parse(b"ppt\n", "f", None);
    assert_eq!(
        f.problems[0].lints[0].message,
        "Missing alias for ppt: this line binds nothing"
    );
    // an unquoted ID whose device starts with a digit: `1502` is a number
    // token, dropped; the alias ends in a comma and is never bound
    assert!(bound("ppt pci8086,1502\n").is_empty());
    // one message for the word, with the line to write, instead of the
    // kernel's per-token `Unexpected token '1502'` and `Missing alias`
    assert_eq!(
        problems("ppt pci8086,1502\n"),
        [(1, vec![LintCode::AliasSyntax])]
    );
    let f = AliasFile::parse(b"ppt pci8086,1502\n", "f", None);
    assert_eq!(f.problems[0].text, "pci8086,1502");
    assert_eq!(f.problems[0].driver.as_deref(), Some("ppt"));
    assert_eq!(
        f.problems[0].lints[0].message,
        "`pci8086,1502` is not one alias to the kernel: `1502` starts with a digit, so it lexes as a number, which the alias parser drops, so this line binds nothing; write ppt \"pci8086,1502\""
    );
}

#[test]
fn missing_quote() {
    let f = AliasFile::parse(b"ppt \"/pci@0,0/display@2\nppt \"b\"\n", "f", None);
    // the kernel warns `Missing "`, binds the string "\n" (which names no
    // node, so it is not listed) and goes on with the next line
    let aliases: Vec<&str> = f.entries.iter().map(|e| e.alias.as_str()).collect();
    assert_eq!(aliases, ["b"]);
    assert_eq!(f.problems.len(), 1);
    let p = &f.problems[0];
    assert_eq!((p.line, p.text.as_str()), (1, "\"/pci@0,0/display@2"));
    // said once, with the newline escaped and the line to write
    assert_eq!(p.lints.len(), 1, "{:?}", p.lints);
    assert_eq!(
        p.lints[0].message,
        "the closing quote of `\"/pci@0,0/display@2` is missing: the kernel warns `Missing \"` and reads the string as a newline, so this line binds nothing; write ppt \"/pci@0,0/display@2\""
    );
    // two such lines are not a duplicate alias of each other
    let f = AliasFile::parse(b"ppt \"/a@0\nppt \"/b@0\n", "f", None);
    assert!(f.entries.is_empty());
    assert_eq!(f.problems.len(), 2);
}

#[test]
fn embedded_quote_is_said_once_with_the_right_fix() {
    // a quote in the middle ends the string early: the kernel binds the
    // pieces, and the rest opens a string that never closes
    let f = AliasFile::parse(b"ppt \"/pci@0,0/pci8086,151@1/disp\"lay@0\"\n", "f", None);
    let aliases: Vec<&str> = f.entries.iter().map(|e| e.alias.as_str()).collect();
    assert_eq!(aliases, ["/pci@0,0/pci8086,151@1/disp", "lay"]);
    let all: Vec<&str> = f
        .entries
        .iter()
        .flat_map(|e| e.lints.iter().map(|l| l.message.as_str()))
        .collect();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("a quote inside `"), "{all:?}");
    assert!(
        all[0].ends_with("write ppt \"/pci@0,0/pci8086,151@1/display@0\""),
        "{all:?}"
    );
    // quotes around one component of an unquoted path: the fix is the
    // path quoted once, not the line with its quotes inside new ones
    let f = AliasFile::parse(b"ppt /pci@0,0/pci8086,151@1/\"display@0\"\n", "f", None);
    let l = &f.entries[0].lints;
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].code, LintCode::UnquotedPath);
    assert!(
        l[0].message
            .ends_with("write ppt \"/pci@0,0/pci8086,151@1/display@0\""),
        "{l:?}"
    );
    // a quote inside an id splits it silently to the kernel: said here
    let f = AliasFile::parse(b"ppt pci\"8086,151\"\n", "f", None);
    let aliases: Vec<&str> = f.entries.iter().map(|e| e.alias.as_str()).collect();
    assert_eq!(aliases, ["pci", "8086,151"]);
    assert_eq!(f.entries[0].lints.len(), 1);
    assert!(f.entries[0].lints[0]
        .message
        .starts_with("a quote inside `pci\"8086,151\"` splits it"));
    assert!(f.entries[1].lints.is_empty());
    // a comma glues a quoted part back: nothing to say
    let f = AliasFile::parse(b"ppt pciex10de,\"a65\" pci10de , be3\n", "f", None);
    assert!(f.entries.iter().all(|e| e.lints.is_empty()), "{f:?}");
}

#[test]
fn unknown_driver_skips_the_line() {
    let n2m = NameToMajor::parse(b"e1000g 100\nppt 231\n", "/etc/name_to_major");
    assert!(n2m.knows("ppt"));
    let f = AliasFile::parse(
        b"pptx \"pci10de,a65\"\nppt \"pci10de,be3\"\n",
        "f",
        Some(&n2m),
    );
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.entries[0].alias, "pci10de,be3");
    assert_eq!(f.problems[0].lints[0].code, LintCode::UnknownDriver);
}

#[test]
fn first_binding_wins_in_kernel_order() {
    let n2m = NameToMajor::parse(b"e1000g 100\nppt 231\n", "/etc/name_to_major");
    let ppt = AliasFile::parse(
        b"ppt \"pci8086,1502\"\nppt \"pci8086,1502\"\nppt \"e1000g\"\n",
        "/etc/ppt_aliases",
        Some(&n2m),
    );
    let da = AliasFile::parse(
        b"e1000g \"pci8086,1502\"\n",
        "/etc/driver_aliases",
        Some(&n2m),
    );
    let t = BindingTable::build(Some(&n2m), &[&ppt, &da]);
    let b = t.get("pci8086,1502").unwrap();
    assert_eq!(
        (b.driver.as_str(), b.file.as_str(), b.line),
        ("ppt", "/etc/ppt_aliases", 1)
    );
    // the duplicate in ppt_aliases, the driver name and driver_aliases' entry lose
    let lost: Vec<(String, usize, String)> = t
        .conflicts
        .iter()
        .map(|(f, l, a, _)| (f.clone(), *l, a.clone()))
        .collect();
    assert_eq!(
        lost,
        [
            (
                "/etc/ppt_aliases".to_string(),
                2,
                "pci8086,1502".to_string()
            ),
            ("/etc/ppt_aliases".to_string(), 3, "e1000g".to_string()),
            (
                "/etc/driver_aliases".to_string(),
                1,
                "pci8086,1502".to_string()
            ),
        ]
    );
    assert_eq!(t.get("e1000g").unwrap().driver, "e1000g");
}

#[test]
fn path_to_inst_records() {
    let p = PathToInst::parse(
        b"#\n#\tCaution!\n#\n\"/pci@0,0/pci8086,151@1/display@0\" 0 \"ppt\"\n\"/pci@0,0\" 0 \"npe\"\n\"/pci@0,0/x@1\" 4 \"ppt\"\nbroken line\n",
        "/etc/path_to_inst",
    );
    assert_eq!(p.records.len(), 3);
    assert_eq!(
        p.instance("/pci@0,0/pci8086,151@1/display@0", "ppt"),
        Some(0)
    );
    assert_eq!(p.instance("/pci@0,0", "ppt"), None);
    assert_eq!(p.next_free("ppt"), 5);
    assert_eq!(p.next_free("vgatext"), 0);
    assert_eq!(p.records[0].line, 4);
}

#[test]
fn real_driver_aliases_lexes_cleanly() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk/driver_aliases"
    );
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("skipping: {path} is absent");
        return;
    };
    let f = AliasFile::parse(&bytes, "/etc/driver_aliases", None);
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    // one quoted alias per line, no syntax problems
    assert_eq!(f.entries.len(), lines);
    assert!(f.problems.is_empty(), "{:?}", f.problems.first());
    assert!(f.entries.iter().all(|e| e.quoted && e.lints.is_empty()));
    assert!(f
        .entries
        .iter()
        .any(|e| e.driver == "e1000g" && e.alias == "pci8086,1502" && e.line == 366));
}

mod random {
    use super::*;
    use proptest::prelude::*;

    fn alias_text() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                Just(b"ppt ".to_vec()),
                Just(b"\"".to_vec()),
                Just(b"\\".to_vec()),
                Just(b"/pci@0,0".to_vec()),
                Just(b"pci10de,a65".to_vec()),
                Just(b",".to_vec()),
                Just(b"#".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\r".to_vec()),
                Just(b"\x0c".to_vec()),
                Just(b"-".to_vec()),
                Just(b"~".to_vec()),
                Just(b"0x1f".to_vec()),
                Just(b"\\101".to_vec()),
                prop::collection::vec(any::<u8>(), 0..8),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Hostile bytes never panic, every entry lies on a real line, and
        /// a well-formed quoted alias on a later line is always bound.
        #[test]
        fn parsers_never_panic(bytes in alias_text()) {
            let n2m = NameToMajor::parse(&bytes, "/etc/name_to_major");
            let _ = PathToInst::parse(&bytes, "/etc/path_to_inst");
            let f = AliasFile::parse(&bytes, "/etc/ppt_aliases", Some(&n2m));
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
            for e in &f.entries {
                prop_assert!(e.line >= 1 && e.line <= lines);
            }
            let mut more = bytes.clone();
            // two newlines: a trailing `\` may escape the first one
            more.extend_from_slice(b"\n\nppt \"/pci@0,0/x@1\"\n");
            let g = AliasFile::parse(&more, "/etc/ppt_aliases", None);
            prop_assert!(g.entries.iter().any(|e| e.alias == "/pci@0,0/x@1"));
        }
    }
}
