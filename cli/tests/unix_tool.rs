//! pptctl among the tools its users live in: a reader that goes away, a
//! wrong `--root`, manual pages, completions, help with examples, colour,
//! `check -q`, `--version`.
//!
//! The closed-pipe matrix runs every subcommand (a test fails when a
//! subcommand `pptctl --help` lists has no row) with stdout a pipe whose
//! read end is already closed, so the first write fails with `EPIPE`: the
//! command must end quietly with 0, never panic (101) or complain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

use support::{example_dir, example_from, seed_boot_media};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pptctl"))
}

/// A pipe whose read end is closed: the write end, for a child's stdout.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors into the array on success.
    let rc = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: both descriptors were just created and are owned here only.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

/// The subcommands `pptctl --help` lists (without `help`).
fn subcommands() -> BTreeSet<String> {
    let out = bin().arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

/// A work directory: a copy of the example root and the how-to's USB key.
fn work() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(example_dir().join("root"))
        .arg(t.path().join("root"))
        .status()
        .unwrap();
    assert!(ok.success());
    seed_boot_media(&t.path().join("bm"));
    t
}

/// A platform.log of a clean start on the example host.
const CLEAN_LOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/platform-log/clean.stream.log"
);

/// The example host's snapshot after the reservation, and before it.
const EXAMPLE_SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/levon-2018/host.json"
);
const EXAMPLE_BEFORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/levon-2018/before/host.json"
);

/// The rows: each a command line after the global options.
fn matrix() -> Vec<Vec<&'static str>> {
    let rows: &[&[&str]] = &[
        &["show"],
        &["show", "-nn"],
        &["show", "-vvv"],
        &["show", "-xxx"],
        &["show", "--json"],
        &["list"],
        &["list", "-a"],
        &["list", "-j"],
        &["list", "--help"],
        &["tree"],
        &["tree", "--json"],
        &["match"],
        &["match", "--explain"],
        &["match", "--json"],
        &["check"],
        &["check", "--json"],
        &["reserve", "--boot-media", "bm", "--dry-run", "01:00.0"],
        &[
            "reserve",
            "--boot-media",
            "bm",
            "--dry-run",
            "--json",
            "01:00.0",
        ],
        &["reserve", "--boot-media", "bm", "-y", "01:00.0"],
        &["unreserve", "--boot-media", "bm", "--dry-run", "01:00.0"],
        &["vm-json", "01:00.0"],
        &["snapshot"],
        &["bench", "--iterations", "1"],
        &["bench", "--iterations", "1", "--json"],
        &["man"],
        &["man", "reserve"],
        &["completions", "bash"],
        &["diagnose", CLEAN_LOG],
        &["diagnose", "--json", CLEAN_LOG],
        &["fleet", "--db", "fleet.db", "ingest", EXAMPLE_SNAPSHOT],
        &["fleet", "--db", "fleet.db", "devices"],
        &["fleet", "--db", "fleet.db", "hosts", "--can-pass", "10de:"],
        &["diff", EXAMPLE_BEFORE, EXAMPLE_SNAPSHOT],
        &["report", "--html", "host.html"],
        &["--help"],
        &["show", "--help"],
    ];
    rows.iter().map(|r| r.to_vec()).collect()
}

#[test]
fn closed_stdout_ends_every_subcommand_quietly_with_0() {
    let rows = matrix();
    let covered: BTreeSet<String> = rows.iter().map(|r| r[0].to_string()).collect();
    for name in subcommands() {
        assert!(
            covered.contains(&name),
            "subcommand `{name}` has no row in the closed-pipe matrix"
        );
    }
    let w = work();
    let from = example_from();
    for row in rows {
        let out = bin()
            .current_dir(w.path())
            .args(["--from", &from, "--root", "root"])
            .args(&row)
            .stdin(Stdio::null())
            .stdout(closed_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "pptctl {row:?} with a closed stdout: {:?}\n{err}",
            out.status
        );
        assert!(
            !err.contains("panicked") && !err.to_lowercase().contains("broken pipe"),
            "pptctl {row:?}: {err}"
        );
        // `pptctl ... 2>&1 | head`: stderr is the closed pipe too.
        let both = bin()
            .current_dir(w.path())
            .args(["--from", &from, "--root", "root"])
            .args(&row)
            .arg("--no-such-flag-so-stderr-is-written")
            .stdin(Stdio::null())
            .stdout(closed_pipe())
            .stderr(closed_pipe())
            .status()
            .unwrap();
        // A usage error is written to stderr only; with stderr gone it can
        // only end quietly, never with a panic.
        assert_ne!(both.code(), Some(101), "pptctl {row:?} 2>&1 | head");
        let both = bin()
            .current_dir(w.path())
            .args(["--from", &from, "--root", "root"])
            .args(&row)
            .stdin(Stdio::null())
            .stdout(closed_pipe())
            .stderr(closed_pipe())
            .status()
            .unwrap();
        assert_eq!(both.code(), Some(0), "pptctl {row:?} 2>&1 | head");
    }
    // The reserve that met the closed pipe stopped before writing (its
    // diff is printed first) or wrote everything: the key is consistent.
    let aliases = w.path().join("bm/overlay/etc/ppt_aliases");
    let menu = std::fs::read_to_string(w.path().join("bm/boot/grub/menu.lst")).unwrap();
    if menu.contains("ppt_aliases") {
        assert!(aliases.is_file(), "a module line names a missing file");
    }
}

#[test]
fn a_wrong_root_is_exit_2_naming_it_for_every_subcommand() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let missing = t.path().join("missing");
    let from = example_from();
    for name in subcommands() {
        let mut args = vec![name.clone()];
        if matches!(name.as_str(), "reserve" | "unreserve" | "vm-json") {
            args.push("01:00.0".into());
        }
        if name == "completions" {
            args.push("bash".into());
        }
        match name.as_str() {
            "diagnose" => args.push(CLEAN_LOG.into()),
            "diff" => args.extend([EXAMPLE_BEFORE.into(), EXAMPLE_SNAPSHOT.into()]),
            "report" => args.extend(["--html".into(), "host.html".into()]),
            "fleet" => args.extend(["--db".into(), "fleet.db".into(), "devices".into()]),
            _ => {}
        }
        for (root, why) in [(&missing, "no such directory"), (&file, "not a directory")] {
            let out = bin()
                .arg("--from")
                .arg(&from)
                .arg("--root")
                .arg(root)
                .args(&args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} --root {root:?}: {err}");
            assert!(
                err.contains(&format!("--root {}: {why}", root.display())),
                "{name}: {err}"
            );
            assert!(out.stdout.is_empty(), "{name}: printed a result");
        }
    }
    // list reads its global options itself (pptadm's getopt): after it too.
    let out = bin()
        .arg("--from")
        .arg(&from)
        .arg("list")
        .arg("--root")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such directory"));
}

/// Whether `prog` runs here.
fn have(prog: &str, arg: &str) -> bool {
    Command::new(prog)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn every_manual_page_renders_without_warnings() {
    let t = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("man")
        .arg("--dir")
        .arg(t.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let pages: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // One page per subcommand (and per `fleet` subcommand) plus pptctl(8).
    let fleet = [
        "ingest", "hosts", "devices", "history", "report", "claim", "release", "claims", "verify",
    ]
    .len();
    let want = subcommands().len() + fleet + 1;
    assert_eq!(pages.len(), want, "{pages:?}");
    for p in &pages {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.contains(".SH \"EXIT STATUS\""), "{p}");
        assert!(text.contains(".SH \"EXAMPLES\""), "{p}");
        // `pptctl man NAME` prints the same page.
        let name = Path::new(p).file_stem().unwrap().to_string_lossy();
        let mut cmd = bin();
        cmd.arg("man");
        if let Some(sub) = name.strip_prefix("pptctl-") {
            cmd.arg(sub);
        }
        assert_eq!(cmd.output().unwrap().stdout, text.as_bytes(), "{p}");
    }
    if !have("groff", "--version") {
        eprintln!("skipped rendering: groff is not installed (.ci/run installs groff-base)");
        return;
    }
    for p in &pages {
        let r = Command::new("groff")
            .args(["-man", "-ww", "-z", "-Tutf8"])
            .arg(p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(r.status.success() && err.is_empty(), "{p}: {err}");
    }
    if have("man", "--version") {
        let r = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&pages[0])
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(r.status.success() && err.is_empty(), "man -l: {err}");
        let text = String::from_utf8_lossy(&r.stdout);
        assert!(text.contains("EXIT STATUS"), "{text}");
    }
}

#[test]
fn man_refuses_an_unknown_page() {
    let out = bin().args(["man", "nosuch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no subcommand `nosuch`"));
}

#[test]
fn bash_completion_loads_and_completes_subcommands_and_flags() {
    if !have("bash", "--version") {
        eprintln!("skipped: no bash");
        return;
    }
    let script = bin().args(["completions", "bash"]).output().unwrap();
    assert!(script.status.success());
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("pptctl.bash");
    std::fs::write(&f, &script.stdout).unwrap();
    let probe = format!(
        "set -e; source {}; complete -p pptctl; \
         COMP_WORDS=(pptctl res); COMP_CWORD=1; COMP_LINE='pptctl res'; COMP_POINT=10; \
         _pptctl pptctl res pptctl; echo \"words: ${{COMPREPLY[*]}}\"; \
         COMP_WORDS=(pptctl unreserve --cl); COMP_CWORD=2; \
         _pptctl pptctl --cl unreserve; echo \"flags: ${{COMPREPLY[*]}}\"",
        f.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("-F _pptctl pptctl"), "{text}");
    assert!(text.contains("words: reserve"), "{text}");
    assert!(text.contains("flags: --clean"), "{text}");
}

#[test]
fn zsh_and_fish_scripts_are_generated_and_parse_where_the_shell_exists() {
    for (shell, check) in [("zsh", "-n"), ("fish", "--no-execute")] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("reserve"),
            "{shell}"
        );
        if have(shell, "--version") {
            let t = tempfile::tempdir().unwrap();
            let f = t.path().join("script");
            std::fs::write(&f, &out.stdout).unwrap();
            let r = Command::new(shell).arg(check).arg(&f).output().unwrap();
            assert!(
                r.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&r.stderr)
            );
        }
    }
}

#[test]
fn every_subcommand_help_has_examples_and_the_exit_codes() {
    for name in subcommands() {
        let out = bin().args([name.as_str(), "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name} --help");
        assert!(text.contains("Examples:"), "{name} --help:\n{text}");
        assert!(text.contains("130"), "{name} --help has no exit codes");
    }
    // list: pptadm's usage lines alone for -h, explained for --help.
    let short = bin().args(["list", "-h"]).output().unwrap();
    let long = bin().args(["list", "--help"]).output().unwrap();
    let short = String::from_utf8(short.stdout).unwrap();
    let long = String::from_utf8(long.stdout).unwrap();
    assert!(long.starts_with(&short), "{long}");
    for word in [
        "-U",
        "-N",
        "DEV",
        "VENDOR",
        "DEVICE",
        "SUBVENDOR",
        "SUBDEVICE",
        "REV",
        "PATH",
        "LABEL",
    ] {
        assert!(long.contains(word), "list --help does not explain {word}");
    }
    // No help text copied onto the wrong flag.
    let un = bin().args(["unreserve", "--help"]).output().unwrap();
    let un = String::from_utf8_lossy(&un.stdout);
    assert!(un.contains("--clean"), "{un}");
    assert!(
        !un.contains("--force"),
        "unreserve --force does nothing:\n{un}"
    );
    assert!(!un.contains("Write id aliases"), "{un}");
    let re = bin().args(["reserve", "--help"]).output().unwrap();
    let re = String::from_utf8_lossy(&re.stdout);
    assert!(
        !re.contains("--clean") || re.contains("unreserve --clean"),
        "{re}"
    );
    assert!(re.contains("--force"), "{re}");
}

#[test]
fn version_names_the_commit_and_the_pci_ids() {
    let short = bin().arg("-V").output().unwrap();
    let short = String::from_utf8(short.stdout).unwrap();
    assert!(short.starts_with("pptctl 0."), "{short}");
    assert!(short.contains("(commit "), "{short}");
    assert_eq!(short.lines().count(), 1);
    let long = bin().arg("--version").output().unwrap();
    let long = String::from_utf8(long.stdout).unwrap();
    assert!(long.starts_with(short.trim_end()), "{long}");
    assert!(long.contains("\npci.ids: "), "{long}");
    // The tests build the fleet backends, so this binary has both.
    assert!(
        long.ends_with("\nfleet storage: sqlite, postgres\n"),
        "{long}"
    );
}

#[test]
fn colour_follows_the_choice_and_quiet_check_prints_nothing() {
    let from = example_from();
    let root = example_dir().join("root");
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = bin();
        c.arg("--from").arg(&from).arg("--root").arg(&root);
        c.args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let always = run(&["--color", "always", "check"], &[]);
    assert!(
        always.stdout.contains(&0x1b),
        "--color always did not colour"
    );
    let never = run(&["--color", "never", "check"], &[]);
    assert!(!never.stdout.contains(&0x1b));
    // Not a terminal: auto is plain.
    let auto = run(&["check"], &[("TERM", "xterm")]);
    assert!(!auto.stdout.contains(&0x1b));
    assert_eq!(never.stdout, auto.stdout);
    // -q: same verdict, nothing on stdout.
    let quiet = run(&["check", "-q"], &[]);
    assert!(quiet.stdout.is_empty());
    assert_eq!(quiet.status.code(), auto.status.code());
    let bad = run(&["--color", "sometimes", "check"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn tree_json_holds_every_function_once() {
    let out = bin()
        .arg("--from")
        .arg(example_from())
        .args(["tree", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["format"], "pptctl-tree/1");
    fn walk(v: &serde_json::Value, seen: &mut Vec<String>) {
        if let Some(a) = v["address"].as_str() {
            seen.push(a.to_string());
        }
        for c in v["children"].as_array().unwrap() {
            walk(c, seen);
        }
    }
    let mut seen = Vec::new();
    for r in doc["roots"].as_array().unwrap() {
        walk(r, &mut seen);
    }
    for o in doc["no_illumos_node"].as_array().unwrap() {
        seen.push(o["address"].as_str().unwrap().to_string());
    }
    let snap = bin()
        .arg("--from")
        .arg(example_from())
        .args(["show", "-D", "-n"])
        .output()
        .unwrap();
    let mut want: Vec<String> = String::from_utf8(snap.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    want.sort();
    seen.sort();
    assert_eq!(seen, want);
}

#[test]
fn bench_progress_is_drawn_on_a_terminal_only() {
    let from = example_from();
    let piped = bin()
        .args(["--from", &from, "bench", "--iterations", "3"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(
        !err.contains("bench: 1/3") && !err.contains('\r'),
        "{err:?}"
    );
    // A terminal, through script(1) when it is here.
    if !have("script", "--version") {
        eprintln!("skipped the terminal half: no script(1)");
        return;
    }
    let line = format!(
        "{} --from {from} bench --iterations 3 >/dev/null",
        env!("CARGO_BIN_EXE_pptctl")
    );
    let on_tty = |delay: &str| {
        let tty = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("PPTCTL_PROGRESS_DELAY", delay)
            .env("TERM", "xterm")
            .output()
            .unwrap();
        String::from_utf8_lossy(&tty.stdout).into_owned()
    };
    // Without a delay every step may be drawn; the last one is.
    let text = on_tty("0");
    assert!(text.contains("pptctl: bench: 3/3"), "{text:?}");
    // The line is erased at the end.
    assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
    // Work shorter than the delay draws nothing, even on a terminal.
    let text = on_tty("60");
    assert!(!text.contains("pptctl: bench"), "{text:?}");
}
