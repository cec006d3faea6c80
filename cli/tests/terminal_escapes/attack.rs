//! The attack and the hostile snapshots, logs and file names that carry
//! it (see terminal_escapes.rs).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::{example_dir, pptctl};

/// The attack appended to every string: clear screen, set the window
/// title, return to column 0 and overwrite, a new line that looks like a
/// verdict, a C1 CSI (U+009B), DEL and a tab inside the value.
pub const ATTACK: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nfake: all ok\u{9b}6n\u{7f}\tx";

/// Raw bytes for the places that carry bytes, not JSON strings (base64
/// file contents, platform.log lines, file names): the attack plus a lone
/// C1 byte and bytes that are not UTF-8.
pub fn raw_attack() -> Vec<u8> {
    let mut b = ATTACK.replace('\n', "").into_bytes();
    b.extend_from_slice(b"\x9b2J\xff\xfe\x1b");
    b
}

/// Keys whose string values are structure the reader checks (formats,
/// enums, addresses, hex): attacked one at a time, each must be refused
/// with a clean message (see `structural_fields_are_refused_cleanly`).
pub const STRUCTURAL: &[&str] = &[
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

/// The example host as a version-2 snapshot, with a fixed time.
pub fn base() -> Value {
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
pub fn poison(v: &mut Value) {
    poison_with(v, ATTACK);
}

pub fn poison_with(v: &mut Value, attack: &str) {
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
pub fn in_line(s: &str) -> String {
    format!("{s}{}", ATTACK.replace('\n', ""))
}

pub fn text_file(path: &str, content: String) -> Value {
    json!({"origin": "root", "path": path, "state": "present",
        "encoding": "text", "content": content, "error": null, "size": null})
}

/// The configuration files: every kind of line the parsers know, each
/// with the attack, and a `ppt_matches` of raw bytes that are not UTF-8.
pub fn hostile_config_files() -> Vec<Value> {
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
pub fn shaped() -> Value {
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
pub fn hostile() -> Value {
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
pub fn hostile_named() -> Value {
    let mut doc = hostile();
    doc["host"]["name"] = json!("levon");
    doc
}

/// [`hostile_named`] with the device paths and `/dev/ppt*` links of the
/// clean host and no line feed in the attack, so that `list` finds its
/// rows, `reserve` can plan (an alias with a line feed is refused) and
/// `vm-json` builds a payload: the attack is then in everything else.
pub fn hostile_linked() -> Value {
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
pub fn hostile_unreadable() -> Value {
    let mut doc = hostile();
    doc["config_files"]
        .as_array_mut()
        .unwrap()
        .push(json!({"origin": "root",
        "path": "/system/boot/etc/ppt_matches", "state": "unreadable", "encoding": null,
        "content": null, "error": format!("denied{ATTACK}"), "size": null}));
    doc
}

/// A platform.log with the attack in every kind of line: the plain
/// pasted form, both JSON forms and lines no format recognises.
pub fn hostile_log() -> Vec<u8> {
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
pub fn hostile_name(stem: &str) -> PathBuf {
    let mut b = stem.as_bytes().to_vec();
    b.extend(raw_attack());
    PathBuf::from(OsStr::from_bytes(&b))
}

/// Puts the attack into the first string under `key`; false when there is
/// none.
pub fn attack_first(v: &mut Value, key: &str) -> bool {
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

/// Standard base64 with padding (the snapshot's `base64` encoding).
pub fn base64(data: &[u8]) -> String {
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
