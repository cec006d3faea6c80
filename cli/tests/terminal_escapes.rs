//! No control byte from data reaches a terminal: a version-2 snapshot whose
//! every string field carries terminal attack bytes (a screen clear, a
//! window-title OSC, a carriage return and a line feed that forge a line
//! `fake: all ok`, a C1 CSI, DEL, and, where the format carries raw bytes,
//! invalid UTF-8) goes through every text command; stdout and stderr must
//! hold no C0 byte other than the layout's own `\n` and `\t`, no DEL, no C1
//! character, only valid UTF-8, and no forged line. JSON outputs must stay
//! JSON (their own escaping covers C0). The form of the escapes is
//! docs/output.md's. `PPTCTL_TEST_DUMP=FILE` appends every command's
//! output to FILE, to read what the commands print.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

mod support;
use support::example_dir;

#[path = "terminal_escapes/attack.rs"]
mod attack;
use attack::{
    attack_first, base, hostile, hostile_linked, hostile_log, hostile_name, hostile_named,
    hostile_unreadable, shaped, ATTACK, STRUCTURAL,
};

/// The `pptctl` binary built for these tests.
pub fn pptctl() -> Command {
    Command::cargo_bin("pptctl").unwrap()
}

/// What is wrong with one command's output, if anything.
fn control_bytes(bytes: &[u8], json: bool) -> Option<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Some(format!("not UTF-8: {e}")),
    };
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| {
        let forbidden = c.is_control() && c != '\n' && c != '\t';
        // JSON strings may hold DEL and C1 as themselves (RFC 8259); their
        // C0 bytes are escaped by the format.
        forbidden && !(json && (c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c)))
    }) {
        let from = text[..i].rfind('\n').map_or(0, |n| n + 1);
        let line: String = text[from..].chars().take(80).collect();
        return Some(format!("control {:?} in line {line:?}", c));
    }
    if let Some(l) = text.lines().find(|l| l.trim_start().starts_with("fake")) {
        return Some(format!("forged line {l:?}"));
    }
    None
}

/// A command run over the snapshot: its arguments and whether its stdout
/// is JSON.
struct Run {
    args: Vec<String>,
    json: bool,
}

fn run(args: &[&str], json: bool) -> Run {
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        json,
    }
}

/// Runs `pptctl ARGS` in `dir` and returns the complaints.
fn check(dir: &Path, r: &Run) -> Vec<String> {
    let out = pptctl()
        .current_dir(dir)
        .env_remove("PPTCTL_DB")
        .args(&r.args)
        .output()
        .unwrap();
    if let Some(f) = std::env::var_os("PPTCTL_TEST_DUMP") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(f)
            .unwrap();
        writeln!(f, "=== {:?} -> {:?}", r.args, out.status.code()).unwrap();
        f.write_all(&out.stdout).unwrap();
        f.write_all(b"--- stderr\n").unwrap();
        f.write_all(&out.stderr).unwrap();
    }
    let mut bad = Vec::new();
    if out.status.code().is_none() || out.status.code() == Some(101) {
        bad.push(format!("{:?}: crashed: {:?}", r.args, out.status));
    }
    if let Some(p) = control_bytes(&out.stdout, r.json) {
        bad.push(format!("{:?}: stdout: {p}", r.args));
    }
    if r.json && !out.stdout.is_empty() {
        if let Err(e) = serde_json::from_slice::<Value>(&out.stdout) {
            bad.push(format!("{:?}: stdout is not JSON: {e}", r.args));
        }
    }
    if let Some(p) = control_bytes(&out.stderr, false) {
        bad.push(format!("{:?}: stderr: {p}", r.args));
    }
    bad
}

fn write(dir: &Path, name: &str, doc: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    format!("snapshot:{}", p.display())
}

/// Every text command over the snapshot at `from`.
fn host_commands(from: &str, clean: &str, log: &str) -> Vec<Run> {
    let f = |rest: &[&str], json: bool| {
        let mut a = vec!["--root", "root", "--from", from];
        a.extend_from_slice(rest);
        run(&a, json)
    };
    let clean_file = clean.trim_start_matches("snapshot:");
    let this_file = from.trim_start_matches("snapshot:");
    vec![
        f(&["show"], false),
        f(&["show", "-v"], false),
        f(&["show", "-vv"], false),
        f(&["show", "-vvv"], false),
        f(&["show", "-nn"], false),
        f(&["show", "-nnvv"], false),
        f(&["show", "--json"], true),
        f(&["tree"], false),
        f(&["check"], false),
        f(&["check", "--all"], false),
        f(&["check", "--json"], true),
        f(&["match"], false),
        f(&["match", "--explain"], false),
        f(&["tree", "--paths"], false),
        f(&["list"], false),
        f(&["list", "-a"], false),
        f(&["list", "-a", "-U", "-N"], false),
        f(&["list", "-a", "-p", "-o", "dev,path,label"], false),
        f(&["list", "-j"], true),
        f(&["vm-json", "01:00.0"], true),
        f(&["vm-json", "--check", "payload.json"], false),
        f(&["reserve", "--dry-run", "01:00.0"], false),
        f(&["reserve", "--dry-run", "10de:"], false),
        f(&["unreserve", "--dry-run", "01:00.0"], false),
        f(&["diagnose", log], false),
        f(
            &["diagnose", "--vm", "b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f"],
            false,
        ),
        run(&["diff", clean_file, this_file], false),
    ]
}

/// The commands that need the host's own device paths and links (see
/// [`hostile_linked`]) and the snapshots for `diff`.
fn linked_commands(from: &str, clean: &str, named: &str) -> Vec<Run> {
    let f = |rest: &[&str], json: bool| {
        let mut a = vec!["--root", "root", "--from", from];
        a.extend_from_slice(rest);
        run(&a, json)
    };
    let clean = clean.trim_start_matches("snapshot:");
    let named = named.trim_start_matches("snapshot:");
    let linked = from.trim_start_matches("snapshot:");
    vec![
        f(&["show", "-v"], false),
        f(&["tree"], false),
        f(&["check"], false),
        f(&["match", "--explain"], false),
        f(&["list"], false),
        f(&["list", "-a"], false),
        f(&["list", "-a", "-U", "-N"], false),
        f(&["list", "-a", "-p", "-o", "dev,path,label"], false),
        f(&["list", "-a", "-j"], true),
        f(&["vm-json", "01:00.0"], true),
        f(&["reserve", "--dry-run", "01:00.0"], false),
        f(&["reserve", "--dry-run", "--by-id", "10de:"], false),
        f(&["unreserve", "--dry-run", "01:00.0"], false),
        run(&["diff", clean, named], false),
        run(&["diff", named, clean], false),
        run(&["diff", linked, named], false),
        run(&["diff", "--expect", clean, named], false),
    ]
}

/// Ingests the snapshot into a temporary SQLite database and runs the
/// fleet's text commands over it.
fn fleet_commands(dir: &Path, file: &str) -> Vec<Run> {
    let db = dir.join("fleet.db");
    let db = db.to_str().unwrap();
    vec![
        run(&["fleet", "--db", db, "ingest", file], false),
        run(&["fleet", "--db", db, "hosts"], false),
        run(
            &[
                "fleet",
                "--db",
                db,
                "hosts",
                "--can-pass",
                "10de:",
                "--explain",
                "levon",
            ],
            false,
        ),
        run(&["fleet", "--db", db, "devices"], false),
        run(&["fleet", "--db", db, "history", "levon"], false),
        run(&["fleet", "--db", db, "history", "--host", "levon"], false),
        run(
            &["fleet", "--db", db, "history", "--device", "levon:01:00.0"],
            false,
        ),
        run(&["fleet", "--db", db, "verify"], false),
    ]
}

/// Copies the example's root into `dir` (reserve and diagnose read it).
fn seed_root(dir: &Path) {
    let st = Command::new("cp")
        .arg("-r")
        .arg(example_dir().join("root"))
        .arg(dir.join("root"))
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn no_control_byte_from_a_hostile_snapshot_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed_root(d);
    let clean = write(d, "clean.json", &base());
    let from = write(d, "hostile.json", &hostile());
    std::fs::write(d.join("platform.log"), hostile_log()).unwrap();
    std::fs::write(
        d.join("payload.json"),
        serde_json::to_vec(
            &json!({"pci_devices": [{"path": format!("/devices/x{ATTACK}"),
            "pci_slot": format!("0:8:0{ATTACK}")}]}),
        )
        .unwrap(),
    )
    .unwrap();
    let unreadable = write(d, "unreadable.json", &hostile_unreadable());
    let named = write(d, "named.json", &hostile_named());
    let linked = write(d, "linked.json", &hostile_linked());
    let logs = d.join("root/zones/b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("platform.log"), hostile_log()).unwrap();
    let mut runs = host_commands(&from, &clean, "platform.log");
    runs.extend(linked_commands(&linked, &clean, &named));
    for cmd in ["check", "match", "list -a", "reserve --dry-run 01:00.0"] {
        let mut a = vec!["--root", "root", "--from", &unreadable];
        a.extend(cmd.split(' '));
        runs.push(run(&a, false));
    }
    runs.push(run(
        &[
            "fleet",
            "--db",
            "refused.db",
            "ingest",
            from.trim_start_matches("snapshot:"),
        ],
        false,
    ));
    runs.extend(fleet_commands(d, named.trim_start_matches("snapshot:")));
    let bad: Vec<String> = runs.iter().flat_map(|r| check(d, r)).collect();
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Structure fields (formats, addresses, enums) are checked by the reader:
/// a snapshot with the attack in any one of them is refused, and the
/// refusal, which quotes the bad value, is as clean as any other output.
#[test]
fn structural_fields_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut bad = Vec::new();
    for key in STRUCTURAL {
        let mut doc = shaped();
        if !attack_first(&mut doc, key) {
            continue;
        }
        let from = write(d, "one.json", &doc);
        bad.extend(check(d, &run(&["--from", &from, "show", "-v"], false)));
        bad.extend(check(d, &run(&["--from", &from, "check"], false)));
    }
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// File names from the command line and from disk are data too: a missing
/// snapshot, a missing platform.log and a bad `--root` named with attack
/// bytes are reported with the name escaped.
#[test]
fn hostile_file_names_are_escaped_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    seed_root(d);
    let snap = d.join(hostile_name("snap"));
    let logf = d.join(hostile_name("platform"));
    std::fs::write(&logf, hostile_log()).unwrap();
    let bad_json = d.join(hostile_name("bad"));
    std::fs::write(&bad_json, b"{\"format\": \"pptctl-snapshot/2\", \"x").unwrap();
    let clean = write(d, "clean.json", &base());
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec!["--from".into(), cat("snapshot:", &snap), "show".into()],
        vec!["--from".into(), cat("snapshot:", &bad_json), "show".into()],
        vec!["--root".into(), snap.clone().into(), "list".into()],
        vec![
            "--root".into(),
            "root".into(),
            "--from".into(),
            clean.clone().into(),
            "diagnose".into(),
            logf.clone().into(),
        ],
        vec![
            "--root".into(),
            "root".into(),
            "--from".into(),
            clean.into(),
            "diagnose".into(),
            snap.clone().into(),
        ],
        vec!["diff".into(), snap.clone().into(), bad_json.clone().into()],
        vec!["vm-json".into(), "--check".into(), snap.into()],
    ];
    let mut bad = Vec::new();
    for args in &cases {
        let out = pptctl().current_dir(d).args(args).output().unwrap();
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if let Some(p) = control_bytes(bytes, false) {
                bad.push(format!("{args:?}: {what}: {p}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

fn cat(prefix: &str, p: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from(prefix);
    s.push(p.as_os_str());
    s
}
