//! `pptctl diagnose` end to end against the example host
//! (examples/levon-2018): platform.logs written here in both JSON formats
//! and as pasted `vmadm start` output (cli/tests/data/platform-log/; the
//! message texts are those quoted in smartos-live issues 901 and 947,
//! mapped onto the example's GeForce 210), the JSON document, the readable
//! report, `--vm` under `--root`, and hostile input streamed in bounded
//! memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;
use serde_json::Value;
use support::{example_dir, example_from, pptctl_at};

const UUID: &str = "b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f";
const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

fn log(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/platform-log"
    ))
    .join(name)
}

/// Runs `diagnose --json FILE` on the example host: (exit code, document).
fn diagnose_json(file: &Path) -> (i32, Value) {
    let out = pptctl_at(example_dir().join("root"), example_from())
        .arg("diagnose")
        .arg("--json")
        .arg(file)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), doc)
}

fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(doc: &'a Value, code: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {:#}", doc["findings"]))
}

/// The assertion of smartos-live#901 after a complete argument vector, in
/// the older `{"log","stream","time"}` format: both functions of the GPU
/// are reconstructed with their guest slots and host paths, the assertion
/// is explained and pinned on the function with more than one memory BAR.
#[test]
fn bar_assertion_in_the_stream_format_is_explained() {
    let (code, doc) = diagnose_json(&log("bar-assert.stream.log"));
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["outcome"], "problem");
    assert_eq!(doc["log"]["stream"], 43);
    assert_eq!(doc["attempt"]["uuid"], UUID);
    let devs = doc["devices"].as_array().unwrap();
    assert_eq!(devs.len(), 2);
    let want = [
        ("0:8:0", "/dev/ppt0", GPU, "0000:01:00.0"),
        ("0:8:1", "/dev/ppt1", AUDIO, "0000:01:00.1"),
    ];
    for (d, (slot, dev, path, bdf)) in devs.iter().zip(want) {
        assert_eq!(d["guest_slot"], slot);
        assert_eq!(d["dev"], dev);
        assert_eq!(d["now"]["path"], path);
        assert_eq!(d["now"]["slot"], bdf);
        assert_eq!(d["now"]["bound_to_ppt"], true);
        assert_eq!(d["configured_path"], format!("/devices{path}"));
        assert_eq!(d["resolves_to_config"], true);
        assert_eq!(d["now"]["verdict"], "warn");
    }
    let f = finding(&doc, "bar-registration-assert");
    assert_eq!(f["severity"], "fail");
    assert_eq!(f["line"], 44);
    assert!(f["quote"].as_str().unwrap().contains("line 517"));
    assert!(f["source"]
        .as_str()
        .unwrap()
        .contains("modify_bar_registration"));
    assert!(
        f["device"].as_str().unwrap().contains("0000:01:00.0"),
        "{f:#}"
    );
    assert!(f["cause"].as_str().unwrap().contains("BAR"));
    // The bhyve line pptctl does not know is quoted, not hidden.
    assert_eq!(doc["unrecognised"]["total"], 1);
    assert!(doc["unrecognised"]["quoted"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("fbuf frame buffer"));
}

/// A clean start (same argument vector, nothing failed) on a host that
/// agrees exits 0, in text and JSON.
#[test]
fn clean_start_exits_0() {
    let (code, doc) = diagnose_json(&log("clean.stream.log"));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["outcome"], "clean");
    assert!(
        codes(&doc).iter().all(|c| c == "check-warn"),
        "{:?}",
        codes(&doc)
    );
    pptctl_at(example_dir().join("root"), example_from())
        .arg("diagnose")
        .arg(log("clean.stream.log"))
        .assert()
        .code(0)
        .stdout(predicates::str::contains("result: clean start"))
        .stdout(predicates::str::contains(
            "guest 0:8:0 /dev/ppt0 = 0000:01:00.0 /pci@0,0/pci8086,151@1/display@0 (ppt)",
        ));
}

/// Bunyan format, the second function given a /dev/pptN the host does not
/// have, and a last line cut in the middle: the missing device is named
/// with what the configured path is now.
#[test]
fn missing_ppt_in_the_bunyan_format_is_named() {
    let (code, doc) = diagnose_json(&log("missing-ppt.bunyan.log"));
    assert_eq!(code, 1);
    assert_eq!(doc["log"]["bunyan"], 41);
    assert_eq!(doc["log"]["malformed_json"], 1);
    let f = finding(&doc, "ppt-missing");
    let what = f["what"].as_str().unwrap();
    assert!(what.contains("/dev/ppt2"), "{what}");
    assert!(
        what.contains(&format!("/devices{AUDIO} is /dev/ppt1 now")),
        "{what}"
    );
    let d = &doc["devices"][1];
    assert_eq!(d["guest_slot"], "0:8:1");
    assert_eq!(d["now"]["dev_exists"], false);
    assert_eq!(d["configured_slot"], "0000:01:00.1");
    assert_eq!(d["configured_dev_now"], "/dev/ppt1");
    assert!(codes(&doc).contains(&"log-damaged".to_string()));
}

/// `vmadm start` output pasted as CRLF text (smartos-live#947 shape), the
/// zone configuration naming /dev/ppt1 instead of a /devices path.
#[test]
fn pasted_vmadm_output_with_a_direct_ppt_match() {
    let (code, doc) = diagnose_json(&log("pasted.plain.log"));
    assert_eq!(code, 1);
    assert_eq!(doc["log"]["plain"], 42);
    let d = &doc["devices"][1];
    assert_eq!(d["configured_path"], "/dev/ppt1");
    assert_eq!(d["now"]["slot"], "0000:01:00.1");
    let f = finding(&doc, "config-names-ppt");
    assert_eq!(f["severity"], "warn");
    finding(&doc, "zoneadmd-call-failed");
}

/// zoneadmd failing to resolve a device starts a new attempt that never
/// reached the brand; the host resolves the device now.
#[test]
fn unresolved_device_after_an_earlier_start() {
    let (code, doc) = diagnose_json(&log("unresolved.bunyan.log"));
    assert_eq!(code, 1);
    assert_eq!(doc["attempts"], 2);
    assert_eq!(doc["attempt"]["argv"].as_array().unwrap().len(), 0);
    let f = finding(&doc, "passthru-unresolved");
    assert!(f["device"].as_str().unwrap().contains("0000:01:00.1"));
    assert!(f["cause"].as_str().unwrap().contains("may be stale"));
    finding(&doc, "hook-environment-failed");
    finding(&doc, "resolves-now");
}

/// `-` reads standard input; `--vm UUID` reads /zones/UUID/logs/platform.log
/// under --root.
#[test]
fn stdin_and_vm_under_root() {
    let text = std::fs::read(log("bar-assert.stream.log")).unwrap();
    pptctl_at(example_dir().join("root"), example_from())
        .args(["diagnose", "-"])
        .write_stdin(text.clone())
        .assert()
        .code(1)
        .stdout(predicates::str::contains("bar-registration-assert"));
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let st = Command::new("cp")
        .arg("-a")
        .arg(example_dir().join("root"))
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success());
    let logs = root.join(format!("zones/{UUID}/logs"));
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("platform.log"), &text).unwrap();
    // The zone's configuration now: the second function moved to 0:9:1.
    std::fs::create_dir_all(root.join("etc/zones")).unwrap();
    std::fs::write(
        root.join(format!("etc/zones/{UUID}.xml")),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<zone name="{UUID}" zonepath="/zones/{UUID}" autoboot="true" brand="bhyve">
  <device match="/devices{GPU}">
    <net-attr name="model" value="passthru"/>
    <net-attr name="pci-slot" value="0:8:0"/>
  </device>
  <device match="/devices{AUDIO}">
    <net-attr name="model" value="passthru"/>
    <net-attr name="pci-slot" value="0:9:1"/>
  </device>
</zone>
"#
        ),
    )
    .unwrap();
    pptctl_at(&root, example_from())
        .args(["diagnose", "--vm", UUID])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(format!(
            "/zones/{UUID}/logs/platform.log: 44 lines"
        )))
        .stdout(predicates::str::contains(
            "warn config-changed (line 37): the zone configuration now gives pci_slot 0:9:1, the logged start used 0:8:1",
        ));
    pptctl_at(&root, example_from())
        .args(["diagnose", "--vm", "../../etc"])
        .assert()
        .code(2);
    pptctl_at(&root, example_from())
        .args(["diagnose", "--vm", "no-such-vm"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "/zones/no-such-vm/logs/platform.log: cannot read",
        ));
}

/// Unreadable input exits 2 with the file named: a missing file, a
/// directory, binary data that holds no platform.log line; no argument at
/// all is a usage error.
#[test]
fn unreadable_input_exits_2() {
    let run = || pptctl_at(example_dir().join("root"), example_from());
    run()
        .args(["diagnose", "/nonexistent/platform.log"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "/nonexistent/platform.log: cannot read",
        ));
    let t = tempfile::tempdir().unwrap();
    run().arg("diagnose").arg(t.path()).assert().code(2);
    let junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let f = t.path().join("junk.bin");
    std::fs::write(&f, &junk).unwrap();
    run()
        .arg("diagnose")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a platform.log"));
    run().arg("diagnose").assert().code(2);
}

/// Peak resident set size (KiB) of a finished child, from wait4(2).
fn wait_peak_rss(child: &std::process::Child) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which nothing else reaps; the
    // pointers are valid for the call.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert!(libc::WIFEXITED(status), "killed: {status}");
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

/// 100 MB of hostile input streamed through a pipe: lines of 1 MB
/// (binary junk, invalid UTF-8, unbalanced JSON), 10 MB of short noise
/// lines, and one real boot attempt ending in the bhyve assertion. The
/// result is the assertion, explained, with the damage counted; peak
/// memory stays far below the input size.
#[test]
#[allow(clippy::zombie_processes)] // reaped by wait4 in wait_peak_rss
fn hostile_100mb_stream_in_bounded_memory() {
    let bin = assert_cmd::cargo::cargo_bin("pptctl");
    let mut child = Command::new(bin)
        .arg("--root")
        .arg(example_dir().join("root"))
        .arg("--from")
        .arg(example_from())
        .args(["diagnose", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let boot = std::fs::read(log("bar-assert.stream.log")).unwrap();
    let writer = std::thread::spawn(move || {
        const MB: usize = 1 << 20;
        let mut written = 0usize;
        let mut x: u32 = 0x1234_5678;
        let mut junk = vec![0u8; MB];
        for i in 0..90 {
            match i % 3 {
                0 => {
                    // binary junk, no newline inside
                    for b in junk.iter_mut() {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        *b = (x as u8) | 0x80;
                    }
                }
                1 => {
                    // unbalanced JSON, a megabyte long
                    junk.fill(b'[');
                    junk[..9].copy_from_slice(b"{\"log\":\"x");
                }
                _ => {
                    // invalid UTF-8 in text
                    for (j, b) in junk.iter_mut().enumerate() {
                        *b = if j % 7 == 0 {
                            0xff
                        } else {
                            b'a' + (j % 26) as u8
                        };
                    }
                }
            }
            *junk.last_mut().unwrap() = b'\n';
            stdin.write_all(&junk).unwrap();
            written += junk.len();
            if i == 45 {
                stdin.write_all(&boot).unwrap();
                written += boot.len();
            }
        }
        let noise = b"{\"log\":\"guest console: nothing to see here, move along please\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n";
        while written < 100 * MB {
            stdin.write_all(noise).unwrap();
            written += noise.len();
        }
        written
    });
    let mut out = Vec::new();
    std::io::Read::read_to_end(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    let written = writer.join().unwrap();
    assert!(written >= 100 << 20);
    let (code, rss_kib) = wait_peak_rss(&child);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(code, 1, "{doc:#}");
    // The boot attempt hidden in the middle is found and its assertion explained.
    assert_eq!(finding(&doc, "bar-registration-assert")["severity"], "fail");
    assert_eq!(doc["devices"].as_array().unwrap().len(), 2);
    let l = &doc["log"];
    assert_eq!(l["truncated"], 90);
    assert_eq!(l["malformed_json"], 30);
    assert!(l["invalid_utf8"].as_u64().unwrap() >= 30, "{l}");
    assert!(l["unrecognised"].as_u64().unwrap() > 100_000, "{l}");
    assert_eq!(doc["unrecognised"]["quoted"].as_array().unwrap().len(), 20);
    // Bounded: the input is 100 MiB, the process stays under 64 MiB.
    assert!(rss_kib < 64 * 1024, "peak RSS {rss_kib} KiB");
    eprintln!("hostile stream: {written} bytes, peak RSS {rss_kib} KiB");
}

/// Runs `diagnose FILE` with `wait4`: (exit code, stderr, peak RSS KiB).
#[allow(clippy::zombie_processes)] // reaped by wait4 in wait_peak_rss
fn diagnose_file(file: &Path) -> (i32, String, i64) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pptctl"))
        .arg("--root")
        .arg(example_dir().join("root"))
        .arg("--from")
        .arg(example_from())
        .arg("diagnose")
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let (code, rss) = wait_peak_rss(&child);
    (code, err, rss)
}

/// The log file itself made hostile: empty, cut in a line, CRLF, not
/// UTF-8, binary, a sparse 1 GiB file of NULs without a newline, a
/// directory, a symlink loop, missing. Every case ends with 0, 1 or 2 (never
/// a panic or signal), unreadable ones name the file, and the 1 GiB file is
/// not read into memory.
#[test]
fn hostile_log_files() {
    let t = tempfile::tempdir().unwrap();
    let good = std::fs::read(log("bar-assert.stream.log")).unwrap();
    let path = |n: &str| t.path().join(n);
    std::fs::write(path("empty"), b"").unwrap();
    std::fs::write(path("cut"), &good[..good.len() / 2]).unwrap();
    let crlf: Vec<u8> = good
        .iter()
        .flat_map(|&b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect();
    std::fs::write(path("crlf"), crlf).unwrap();
    let mut latin1 = good.clone();
    latin1.extend_from_slice(b"\xe9t\xe9 \xff\xfe\n");
    std::fs::write(path("latin1"), latin1).unwrap();
    std::fs::write(
        path("binary"),
        [0u8, 1, 2, 0xff, 0x7f, 0, 0x1b, 0x80].repeat(4096),
    )
    .unwrap();
    let huge = std::fs::File::create(path("huge")).unwrap();
    huge.set_len(1 << 30).unwrap();
    std::fs::create_dir(path("dir")).unwrap();
    std::os::unix::fs::symlink(path("loop"), path("loop")).unwrap();
    let cases: &[(&str, &[i32])] = &[
        ("empty", &[1]),
        ("cut", &[1]),
        ("crlf", &[1]),
        ("latin1", &[1]),
        ("binary", &[2]),
        ("huge", &[2]),
        ("dir", &[2]),
        ("loop", &[2]),
        ("missing", &[2]),
    ];
    for (name, want) in cases {
        let (code, err, rss) = diagnose_file(&path(name));
        assert!(want.contains(&code), "{name}: exit {code}: {err}");
        if code == 2 {
            assert!(err.contains(name), "{name}: {err}");
        }
        assert!(rss < 64 * 1024, "{name}: peak RSS {rss} KiB");
    }
}

/// The README's diagnose example (between the `<!-- diagnose -->`
/// markers) is what pptctl prints: each `pptctl` line is run in
/// examples/levon-2018 (where the walkthrough leaves a reader, in its copy)
/// and its stdout compared with the text under it; the log it reads is the
/// example's own `logs/platform.log`, the same bytes as the test log.
#[test]
fn readme_example_is_current() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("<!-- diagnose -->").expect("start marker");
    let end = readme.find("<!-- /diagnose -->").expect("end marker");
    let body = readme[start..end]
        .split_once("```console\n")
        .and_then(|(_, b)| b.rsplit_once("```"))
        .map(|(b, _)| b)
        .expect("console block");
    let mut steps: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push((cmd.to_string(), String::new()));
        } else if let Some(last) = steps.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    let mut ran = 0;
    for (cmd, want) in &steps {
        // The block runs where the walkthrough leaves off: the example's
        // top directory (a copy of examples/levon-2018), with no `cd`.
        assert!(!cmd.starts_with("cd "), "{cmd}");
        let args: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(args[0], "pptctl", "{cmd}");
        let out = support::pptctl()
            .args(&args[1..])
            .current_dir(example_dir())
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), *want, "{cmd}");
        ran += 1;
    }
    assert!(ran >= 1);
    assert_eq!(
        std::fs::read(example_dir().join("logs/platform.log")).unwrap(),
        std::fs::read(log("bar-assert.stream.log")).unwrap(),
        "the example's sample log drifted from the test log"
    );
}

/// zoneadmd's do_subproc relays the brand's output in 1023-byte `fgets`
/// pieces: the `-s` argument with a long `rom=` path arrives as two bunyan
/// records and is read whole; the VM named SYSbhyve-unknown (no
/// `_ZONECFG_did`) is a warning, and bhyve's "Failed to unmap MSI-X table
/// BAR region" is no failure.
#[test]
fn long_lines_unknown_vm_name_and_the_unmap_warning() {
    let (code, doc) = diagnose_json(&log("long-lines.bunyan.log"));
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["outcome"], "clean");
    assert_eq!(doc["attempt"]["vm_name"], "SYSbhyve-unknown");
    let devs = doc["devices"].as_array().unwrap();
    assert_eq!(devs.len(), 2, "{doc:#}");
    assert_eq!(devs[0]["guest_slot"], "0:8:0");
    assert_eq!(devs[0]["dev"], "/dev/ppt0");
    assert_eq!(devs[0]["line"], 31);
    assert_eq!(devs[0]["now"]["slot"], "0000:01:00.0");
    assert_eq!(doc["unrecognised"]["total"], 0, "{doc:#}");
    assert_eq!(finding(&doc, "vm-name-unknown")["severity"], "warn");
    assert_eq!(finding(&doc, "msix-unmap-warning")["severity"], "info");
    assert!(doc["host"]
        .as_str()
        .unwrap()
        .starts_with("the host read from snapshot:"));
}

/// A log copied to a machine that is not its host (these tests run on
/// Linux) and no --from/--root: the log is read alone, nothing is said to
/// be missing "on this host", and the report says what it cannot judge.
#[test]
fn a_log_without_a_host_is_read_alone() {
    let out = support::pptctl()
        .args(["diagnose", "--json"])
        .arg(log("missing-ppt.bunyan.log"))
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the log is read alone"), "{err}");
    assert_eq!(doc["host"], Value::Null);
    let codes = codes(&doc);
    assert!(codes.contains(&"host-not-judged".to_string()), "{codes:?}");
    assert!(!codes.iter().any(|c| c == "ppt-missing"), "{codes:?}");
    assert_eq!(doc["devices"][1]["now"]["judged"], false);
    // The log itself shows no failure: only the host could tell that
    // /dev/ppt2 is missing.
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    support::pptctl()
        .arg("diagnose")
        .arg(log("clean.stream.log"))
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "judged against no host: the log is read alone",
        ))
        .stdout(predicates::str::contains("  guest 0:8:0 /dev/ppt0\n"));
}

/// boot.c parse_pcislot on a configured `pci_slot` of 0:8:9: "Error: device
/// 8 has illegal PCI slot: 0:8:9". The 8 is the device number it parsed;
/// the slot text names the audio function's configuration.
#[test]
fn an_illegal_slot_is_pinned_on_its_configured_device() {
    let (code, doc) = diagnose_json(&log("illegal-slot.stream.log"));
    assert_eq!(code, 1, "{doc:#}");
    let f = finding(&doc, "brand-illegal-pci-slot");
    assert_eq!(f["line"], 36);
    let dev = f["device"].as_str().unwrap();
    assert!(dev.starts_with("guest 0:8:9 /dev/ppt1"), "{dev}");
    assert!(dev.contains("0000:01:00.1"), "{dev}");
}
