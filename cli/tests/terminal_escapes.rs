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

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

mod support;
use support::example_dir;

/// The attack appended to every string: clear screen, set the window
/// title, return to column 0 and overwrite, a new line that looks like a
/// verdict, a C1 CSI (U+009B), DEL and a tab inside the value.
const ATTACK: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nfake: all ok\u{9b}6n\u{7f}\tx";

/// Raw bytes for the places that carry bytes, not JSON strings (base64
/// file contents, platform.log lines, file names): the attack plus a lone
/// C1 byte and bytes that are not UTF-8.
fn raw_attack() -> Vec<u8> {
    let mut b = ATTACK.replace('\n', "").into_bytes();
    b.extend_from_slice(b"\x9b2J\xff\xfe\x1b");
    b
}

/// Keys whose string values are structure the reader checks (formats,
/// enums, addresses, hex): attacked one at a time, each must be refused
/// with a clean message (see `structural_fields_are_refused_cleanly`).
const STRUCTURAL: &[&str] = &[
    "format",
    "time",
    "os",
    "address",
    "config",
    "state",
    "origin",
    "encoding",
    "type",
    "path_source",
    "kind",
    "cpu_vendor",
    "physfn",
    "virtfns",
    "node_state",
    "style",
    "content",
];

fn pptctl() -> Command {
    Command::cargo_bin("pptctl").unwrap()
}

/// The example host as a version-2 snapshot, with a fixed time.
fn base() -> Value {
    let ex = example_dir();
    let out = pptctl()
        .current_dir(&ex)
        .env("SOURCE_DATE_EPOCH", "1796000000")
        .args(["--root", "root", "--from", "snapshot:host.json", "snapshot"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Appends the attack to every string that is not structure.
fn poison(v: &mut Value) {
    poison_with(v, ATTACK);
}

fn poison_with(v: &mut Value, attack: &str) {
    match v {
        Value::String(s) => s.push_str(attack),
        Value::Array(a) => a.iter_mut().for_each(|c| poison_with(c, attack)),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("bytes") {
                return;
            }
            for (k, child) in o.iter_mut() {
                if !STRUCTURAL.contains(&k.as_str()) {
                    poison_with(child, attack);
                }
            }
        }
        _ => {}
    }
}

/// A line of a configuration file with the attack inside (no line feed:
/// in a file it would only start a new line of the file).
fn in_line(s: &str) -> String {
    format!("{s}{}", ATTACK.replace('\n', ""))
}

fn text_file(path: &str, content: String) -> Value {
    json!({"origin": "root", "path": path, "state": "present",
        "encoding": "text", "content": content, "error": null, "size": null})
}

/// The configuration files: every kind of line the parsers know, each
/// with the attack, and a `ppt_matches` of raw bytes that are not UTF-8.
fn hostile_config_files() -> Vec<Value> {
    let mut aliases = String::new();
    aliases.push_str(&format!("{}\n", in_line("# comment ")));
    aliases.push_str("ppt \"/pci@0,0/pci8086,151@1/display@0\"\n");
    aliases.push_str(&format!(
        "ppt \"{}\"\n",
        in_line("/pci@0,0/pci8086,151@1/pci1462,2291@0,1")
    ));
    aliases.push_str(&format!("{}\n", in_line("ppt unquoted")));
    aliases.push_str(&format!("{}\n", in_line("garbage")));
    let mut matches = b"pciex10de,a65\n".to_vec();
    for line in [in_line("pciex10de,be3"), in_line("junk")] {
        matches.extend(line.as_bytes());
        matches.push(b'\n');
    }
    matches.extend(b"pciex10de,");
    matches.extend(raw_attack());
    matches.push(b'\n');
    matches.extend(raw_attack());
    matches.push(b'\n');
    vec![
        json!({"origin": "root", "path": "/etc/ppt_matches", "state": "present",
            "encoding": "base64", "content": base64(&matches), "error": null, "size": null}),
        text_file("/etc/ppt_aliases", aliases),
        text_file(
            "/etc/driver_aliases",
            format!("{}\n", in_line("ppt \"pciex10de,a65\"")),
        ),
        text_file(
            "/etc/name_to_major",
            format!("ppt 1\n{}\n", in_line("npe 2")),
        ),
        text_file(
            "/etc/path_to_inst",
            format!(
                "{}\n",
                in_line("\"/pci@0,0/pci8086,151@1/display@0\" 0 \"ppt\"")
            ),
        ),
    ]
}

/// The example host with every optional string field filled in: a driver,
/// a zone, module directories, boot notes.
fn shaped() -> Value {
    let mut doc = base();
    doc["host"]["name"] = json!("levon");
    for f in doc["functions"].as_array_mut().unwrap() {
        f["driver"] = json!("ppt");
        f["illumos"]["driver"] = json!("ppt");
        f["illumos"]["instance"] = json!(0);
        f["illumos"]["binding_name"] = json!("pciex10de,a65");
        f["illumos"]["props"]["evil"] = json!({"type": "strings", "value": ["x"]});
    }
    doc["facts"]["boot_devices"] = json!(["/pci@0,0/disk@0"]);
    doc["module_dirs"][0]["state"] = json!("listed");
    doc["module_dirs"][0]["entries"] = json!(["npe", "ppt"]);
    doc["module_dirs"][1]["state"] = json!("unreadable");
    doc["module_dirs"][1]["error"] = json!("denied");
    doc["boot_media_searched"] = json!(["/mnt/usbkey"]);
    doc["boot_archive_notes"] = json!(["the boot archive is older than /etc/ppt_aliases"]);
    doc["vms"] = json!({"state": "known", "reason": null, "zones": [{
        "name": "b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f",
        "file": "/etc/zones/b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f.xml",
        "pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"}]}]});
    doc
}

/// The example host with the attack in every string field and in every
/// kind of line of its configuration files.
fn hostile() -> Value {
    let mut doc = shaped();
    let dirs = doc["module_dirs"].clone();
    poison(&mut doc);
    doc["config_files"] = json!(hostile_config_files());
    // Which directory an entry is in is structure: keep the paths.
    for (d, clean) in doc["module_dirs"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(dirs.as_array().unwrap())
    {
        d["path"] = clean["path"].clone();
    }
    doc
}

/// [`hostile`] with a host name the fleet accepts (a name with control
/// bytes is refused, see the ingest run), for `diff` and the fleet.
fn hostile_named() -> Value {
    let mut doc = hostile();
    doc["host"]["name"] = json!("levon");
    doc
}

/// [`hostile_named`] with the device paths and `/dev/ppt*` links of the
/// clean host and no line feed in the attack, so that `list` finds its
/// rows, `reserve` can plan (an alias with a line feed is refused) and
/// `vm-json` builds a payload: the attack is then in everything else.
fn hostile_linked() -> Value {
    let clean = shaped();
    let mut doc = shaped();
    poison_with(&mut doc, &ATTACK.replace('\n', ""));
    doc["config_files"] = json!(hostile_config_files());
    doc["host"]["name"] = json!("levon");
    doc["ppt_links"] = clean["ppt_links"].clone();
    doc["module_dirs"] = clean["module_dirs"].clone();
    doc["nexus"] = clean["nexus"].clone();
    for (f, c) in doc["functions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(clean["functions"].as_array().unwrap())
    {
        for k in [
            "path",
            "devfs_path",
            "node_name",
            "unit_address",
            "driver",
            "minors",
            "binding_name",
            "instance",
            "parent_device_type",
            "device_type",
        ] {
            f["illumos"][k] = c["illumos"][k].clone();
        }
        f["driver"] = c["driver"].clone();
    }
    // The ppt devices' own paths, consistently in the tree and the
    // `/dev/ppt*` links (what `list` prints in PATH).
    let attack = ATTACK.replace('\n', "");
    let mut links = doc["ppt_links"].clone();
    for l in links.as_array_mut().unwrap() {
        let path = format!("{}{attack}", l["path"].as_str().unwrap());
        for f in doc["functions"].as_array_mut().unwrap() {
            if f["illumos"]["path"] == l["path"] {
                f["illumos"]["path"] = json!(path);
                f["illumos"]["unit_address"] = json!(format!(
                    "{}{attack}",
                    f["illumos"]["unit_address"].as_str().unwrap()
                ));
            }
        }
        l["target"] = json!(format!("../devices{path}:ppt"));
        l["path"] = json!(path);
    }
    doc["ppt_links"] = links;
    doc
}

/// [`hostile`] with an unreadable `ppt_matches` whose system message holds
/// the attack (the commands that need the file stop there).
fn hostile_unreadable() -> Value {
    let mut doc = hostile();
    doc["config_files"]
        .as_array_mut()
        .unwrap()
        .push(json!({"origin": "root",
        "path": "/system/boot/etc/ppt_matches", "state": "unreadable", "encoding": null,
        "content": null, "error": format!("denied{ATTACK}"), "size": null}));
    doc
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

/// A platform.log with the attack in every kind of line: the plain
/// pasted form, both JSON forms and lines no format recognises.
fn hostile_log() -> Vec<u8> {
    let uuid = "b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f";
    let esc = serde_json::to_string(ATTACK).unwrap();
    let esc = esc.trim_matches('"');
    let mut log = Vec::new();
    log.extend(format!("zone '{uuid}': add_arg: argv[2]='-U'\n").as_bytes());
    log.extend(format!("zone '{uuid}': add_arg: argv[3]='{uuid}'\n").as_bytes());
    log.extend(format!("zone '{uuid}': add_arg: argv[4]='-s'\n").as_bytes());
    log.extend(format!("zone '{uuid}': add_arg: argv[5]='8:0,passthru,{esc}'\n").as_bytes());
    log.extend(format!("zone '{uuid}': {}\n", ATTACK.replace('\n', "")).as_bytes());
    log.extend(format!(
        "{{\"time\":\"2026-11-30T11:00:00Z\",\"v\":0,\"level\":30,\"msg\":\"{esc}\\n\",\"stream\":\"zoneadmd\"}}\n"
    ).as_bytes());
    log.extend(
        format!(
            "{{\"log\":\"{esc}\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-30T11:00:00Z\"}}\n"
        )
        .as_bytes(),
    );
    log.extend(format!("Assertion failed: {}\n", ATTACK.replace('\n', "")).as_bytes());
    log.extend(raw_attack());
    log.push(b'\n');
    log
}

/// A file name holding the attack bytes, raw C1 and invalid UTF-8 included.
fn hostile_name(stem: &str) -> PathBuf {
    let mut b = stem.as_bytes().to_vec();
    b.extend(raw_attack());
    PathBuf::from(OsStr::from_bytes(&b))
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

/// Puts the attack into the first string under `key`; false when there is
/// none.
fn attack_first(v: &mut Value, key: &str) -> bool {
    match v {
        Value::Array(a) => a.iter_mut().any(|c| attack_first(c, key)),
        Value::Object(o) => {
            if let Some(Value::String(s)) = o.get_mut(key) {
                s.push_str(ATTACK);
                return true;
            }
            if let Some(Value::Array(a)) = o.get_mut(key) {
                a.push(json!(ATTACK));
                return true;
            }
            o.values_mut().any(|c| attack_first(c, key))
        }
        _ => false,
    }
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

/// Standard base64 with padding (the snapshot's `base64` encoding).
fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
