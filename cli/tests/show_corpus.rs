//! Corpus test: on every real dump in ../shared/realdata, `pptctl show -n`
//! (and `-n -D`, `-s`, `-d` selections) prints byte for byte what
//! `lspci -F <hex-only copy> -n` (pciutils 3.9.0) prints.
//!
//! pptctl reads the original file, long `-vvv` lines and all; lspci gets a
//! hex-only copy because its reader stops at lines of 254 characters. Skips
//! cleanly when the corpus or lspci is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;
use support::{have_lspci, lspci, realdata_or_skip};

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// A slot line as lspci's dump reader sees one: `BB:DD.F `, with an
/// optional 4- or 5-digit domain.
fn is_header(l: &[u8]) -> bool {
    let slot = |s: &[u8]| {
        s.len() >= 8
            && is_hex(s[0])
            && is_hex(s[1])
            && s[2] == b':'
            && is_hex(s[3])
            && is_hex(s[4])
            && s[5] == b'.'
            && s[6].is_ascii_digit()
            && s[7] == b' '
    };
    let dom = |n: usize| l.len() > n && l[..n].iter().all(|&b| is_hex(b)) && l[n] == b':';
    slot(l) || (dom(4) && slot(&l[5..])) || (dom(5) && slot(&l[6..]))
}

/// `OFFSET: xx xx ...` with a 2..8-digit offset and nothing but byte
/// pairs after it (two real logs have stderr written into a hex line;
/// lspci rejects those lines, so the copy leaves them out).
fn is_hex_line(l: &[u8]) -> bool {
    let n = l.iter().take_while(|&&b| is_hex(b)).count();
    if !(2..=8).contains(&n) || l.get(n) != Some(&b':') {
        return false;
    }
    let rest = &l[n + 1..];
    rest.len().is_multiple_of(3)
        && rest
            .chunks(3)
            .all(|c| c[0] == b' ' && is_hex(c[1]) && is_hex(c[2]))
}

/// Header lines cut to 200 bytes and hex lines, nothing else.
fn hex_only(bytes: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut headers = 0;
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if is_header(line) {
            headers += 1;
            out.extend_from_slice(&line[..line.len().min(200)]);
            out.push(b'\n');
        } else if is_hex_line(line) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    (out, headers)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.file_name().is_some_and(|n| n == "_generated_lspci-3.9.0") {
            continue;
        }
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let o = cmd.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn show_n_matches_lspci_on_every_real_dump() {
    let Some(root) = realdata_or_skip() else {
        return;
    };
    if !have_lspci() {
        eprintln!("skipped: lspci is not installed");
        return;
    }
    let pptctl = assert_cmd::cargo::cargo_bin("pptctl");
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    files(&root, &mut all);

    // Names come from the system pci.ids for both (the same file); the
    // oracle files in realdata used pci.ids 2023.04.10, as Debian 12 ships.
    let names: &[&[&str]] = &[
        &[],
        &["-nn"],
        &["-n", "-x"],
        &["-n", "-xxx"],
        &["-n", "-xxxx"],
    ];
    let selections: &[&[&str]] = &[
        &["-n", "-D"],
        &["-n", "-s", "1f.3"],
        &["-n", "-s", "00:"],
        &["-n", "-s", ".1"],
        &["-n", "-s", "1::"],
        &["-n", "-d", "8086:"],
        &["-n", "-d", "::0604"],
        &["-n", "-d", "::0cxx"],
        &["-n", "-d", "10de::03xx"],
    ];

    let (mut dumps, mut functions, mut checks) = (0, 0, 0);
    let mut failures = Vec::new();
    for (i, file) in all.iter().enumerate() {
        let bytes = std::fs::read(file).unwrap();
        let (copy, headers) = hex_only(&bytes);
        if headers == 0 {
            continue;
        }
        let copy_path = tmp.path().join(format!("dump{i}"));
        std::fs::write(&copy_path, &copy).unwrap();
        let (ok, want, err) = run(lspci().arg("-F").arg(&copy_path).arg("-n"));
        assert!(
            ok,
            "lspci failed on the hex-only copy of {}: {err}",
            file.display()
        );
        dumps += 1;
        functions += want.lines().count();

        let from = format!("dump:{}", file.display());
        let mut variants: Vec<Vec<&str>> = vec![vec!["-n"]];
        variants.extend(selections.iter().map(|s| s.to_vec()));
        // Names read all of pci.ids per run, and hex dumps are long; every
        // third dump keeps the test quick and still covers hundreds of
        // functions.
        if dumps % 3 == 1 {
            variants.extend(names.iter().map(|s| s.to_vec()));
        }
        for args in variants {
            let (_, want, _) = run(lspci().arg("-F").arg(&copy_path).args(&args));
            let (ok, got, err) = run(Command::new(&pptctl)
                .args(["--from", &from, "show"])
                .args(&args));
            checks += 1;
            if !ok || got != want {
                failures.push(format!(
                    "{} {args:?}: pptctl {}\n--- lspci\n{want}--- pptctl\n{got}{err}",
                    file.display(),
                    if ok { "differs" } else { "failed" }
                ));
            }
        }
    }
    eprintln!("{dumps} dumps, {functions} functions, {checks} comparisons");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        dumps >= 60 && functions >= 800,
        "corpus smaller than expected: {dumps} dumps, {functions} functions"
    );
}
