//! Bad and unusual input end to end: clear messages naming file and line,
//! the right exit code, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
mod support;
use support::lspci;

const DUMP: &str = "\
00:00.0 Host bridge: Intel Corporation Device 0d57
00: 86 80 57 0d 06 00 10 20 00 00 00 06 00 00 00 00
10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11
30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00

00:03.0 Ethernet controller: Red Hat, Inc. Virtio network device (rev 01)
\tSubsystem: Red Hat, Inc. Device 1100 with a decode line long enough to break lspci 3.9.0's 254-character reader: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
00: f4 1a 41 10 07 05 10 00 01 00 00 02 00 00 00 00
10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11
30: 00 00 00 00 40 00 00 00 00 00 00 00 0b 01 00 00
";

fn pptctl(dir: &Path, file: &str, args: &[&str]) -> std::process::Output {
    support::pptctl()
        .current_dir(dir)
        .args(["--from", &format!("dump:{file}"), "show"])
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn binary_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(tmp.path().join("g.bin"), &garbage).unwrap();
    let o = pptctl(tmp.path(), "g.bin", &["-n"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(
        err.starts_with("pptctl: g.bin: binary data, not an lspci -x dump"),
        "{err}"
    );
}

#[test]
fn missing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let o = pptctl(tmp.path(), "nope.txt", &["-n"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).starts_with("pptctl: cannot read nope.txt: "),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn truncated_mid_line_names_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cut = &DUMP[..DUMP.find("30: 00 00 00 00 40").unwrap() + 8];
    std::fs::write(tmp.path().join("t.txt"), cut).unwrap();
    let o = pptctl(tmp.path(), "t.txt", &["-n"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("pptctl: t.txt:12: malformed hex line"),
        "{err}"
    );
}

#[test]
fn truncated_at_a_line_boundary_warns_and_shows() {
    let tmp = tempfile::tempdir().unwrap();
    let cut = &DUMP[..DUMP
        .find("20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11\n30: 00 00 00 00 40")
        .unwrap()];
    std::fs::write(tmp.path().join("t.txt"), cut).unwrap();
    let o = pptctl(tmp.path(), "t.txt", &["-n"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        "00:00.0 0600: 8086:0d57\n00:03.0 0200: 1af4:1041 (rev 01)\n"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("t.txt:7: 0000:00:03.0 has only 32 bytes of config space"),
        "{err}"
    );
}

#[test]
fn crlf_uppercase_and_long_lines_match_lspci() {
    let tmp = tempfile::tempdir().unwrap();
    let mut crlf = String::new();
    for line in DUMP.lines() {
        let line = if line.len() > 2 && line.as_bytes()[2] == b':' && line.as_bytes()[3] == b' ' {
            line.to_uppercase()
        } else {
            line.to_string()
        };
        crlf.push_str(&line);
        crlf.push_str("\r\n");
    }
    std::fs::write(tmp.path().join("c.txt"), &crlf).unwrap();
    let o = pptctl(tmp.path(), "c.txt", &["-n"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let got = text(&o.stdout);
    assert_eq!(
        got,
        "00:00.0 0600: 8086:0d57\n00:03.0 0200: 1af4:1041 (rev 01)\n"
    );
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    // lspci takes the same file once the long line is gone.
    let short: String = crlf
        .split_inclusive('\n')
        .filter(|l| l.len() < 250)
        .collect();
    std::fs::write(tmp.path().join("s.txt"), short).unwrap();
    if let Ok(want) = lspci()
        .current_dir(tmp.path())
        .args(["-F", "s.txt", "-n"])
        .output()
    {
        assert_eq!(got, text(&want.stdout));
    }
}

#[test]
fn stdin_dump() {
    let o = support::pptctl()
        .args(["--from", "dump:-", "show", "-n", "-s", "3"])
        .write_stdin(DUMP)
        .output()
        .unwrap();
    assert_eq!(text(&o.stdout), "00:03.0 0200: 1af4:1041 (rev 01)\n");
}

#[test]
fn bad_filters_use_lspcis_messages() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("d.txt"), DUMP).unwrap();
    for (args, msg) in [
        (&["-s", "20"][..], "pptctl: -s: Invalid slot number\n"),
        (&["-s", "0.9"], "pptctl: -s: Invalid function number\n"),
        (
            &["-d", "8086"],
            "pptctl: -d: At least two fields must be given\n",
        ),
        (&["-d", "::zz"], "pptctl: -d: Invalid class code\n"),
    ] {
        let o = pptctl(tmp.path(), "d.txt", args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&o.stderr), msg);
    }
}

#[test]
fn bad_sources() {
    for (from, msg) in [("floppy:x", "unknown source"), ("dump:", "needs a path")] {
        let o = support::pptctl()
            .args(["--from", from, "show"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(text(&o.stderr).contains(msg), "{}", text(&o.stderr));
    }
}

#[test]
fn snapshot_round_trip_and_wrong_format() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("d.txt"), DUMP).unwrap();
    let snap = support::pptctl()
        .current_dir(tmp.path())
        .args(["--from", "dump:d.txt", "snapshot"])
        .output()
        .unwrap();
    assert!(snap.status.success());
    let json: serde_json::Value = serde_json::from_slice(&snap.stdout).unwrap();
    assert_eq!(json["format"], "pptctl-snapshot/2");
    assert_eq!(json["source"], "dump:d.txt");
    std::fs::write(tmp.path().join("s.json"), &snap.stdout).unwrap();
    let a = pptctl(tmp.path(), "d.txt", &["-n", "-x"]);
    let b = support::pptctl()
        .current_dir(tmp.path())
        .args(["--from", "snapshot:s.json", "show", "-n", "-x"])
        .output()
        .unwrap();
    assert_eq!(text(&a.stdout), text(&b.stdout));

    let wrong = text(&snap.stdout).replace("pptctl-snapshot/2", "pptctl-snapshot/9");
    std::fs::write(tmp.path().join("w.json"), wrong).unwrap();
    let o = support::pptctl()
        .current_dir(tmp.path())
        .args(["--from", "snapshot:w.json", "show"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("w.json: unsupported snapshot format \"pptctl-snapshot/9\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn capability_loop_is_reported_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    // Status has the capability bit, the pointer is 0x40, and the PM
    // capability at 0x40 points back to itself.
    let mut dump = String::from("00:00.0 x\n");
    let mut cfg = [0u8; 256];
    cfg[..4].copy_from_slice(&[0x86, 0x80, 0x57, 0x0d]);
    cfg[6] = 0x10;
    cfg[0x0b] = 0x02;
    cfg[0x34] = 0x40;
    cfg[0x40..0x43].copy_from_slice(&[0x01, 0x40, 0x03]);
    for (row, chunk) in cfg.chunks(16).enumerate() {
        dump.push_str(&format!("{:02x}:", row * 16));
        for b in chunk {
            dump.push_str(&format!(" {b:02x}"));
        }
        dump.push('\n');
    }
    std::fs::write(tmp.path().join("loop.txt"), dump).unwrap();
    let o = pptctl(tmp.path(), "loop.txt", &["-vv"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(out.contains("Capabilities: [40] Power Management"), "{out}");
    assert!(
        out.contains("Capabilities: [40] <capability chain loops back to 0x40>"),
        "{out}"
    );
    let o = pptctl(tmp.path(), "loop.txt", &["--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &doc["functions"][0];
    assert_eq!(f["capabilities"].as_array().unwrap().len(), 1);
    assert_eq!(f["capability_errors"][0]["offset"], 64);
}
