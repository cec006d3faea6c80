//! The example SMF service in examples/smf: its manifest has the shape SMF
//! takes (checked with xmllint against the subset DTD in tests/support),
//! names every property the method reads, and the method script pushes a
//! real `pptctl snapshot` through a stand-in `ssh`, refuses a bad
//! configuration with SMF's configuration exit code, and sends nothing when
//! the snapshot fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SMF_EXIT_ERR_CONFIG: i32 = 96;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn manifest() -> PathBuf {
    repo().join("examples/smf/pptctl-snapshot.xml")
}

fn method() -> PathBuf {
    repo().join("examples/smf/pptctl-snapshot-push")
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn manifest_is_valid_against_the_subset_dtd() {
    if !have("xmllint") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs xmllint (libxml2-utils)"
        );
        eprintln!("skipped: xmllint is absent");
        return;
    }
    let dtd = repo().join("tests/support/smf-manifest-subset.dtd");
    let ok = Command::new("xmllint")
        .args(["--noout", "--nonet", "--dtdvalid"])
        .arg(&dtd)
        .arg(manifest())
        .output()
        .expect("xmllint runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // The DTD does catch a broken manifest: an exec_method without its
    // required timeout.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.xml");
    let text = fs::read_to_string(manifest()).unwrap();
    fs::write(&broken, text.replacen(" timeout_seconds=\"60\"", "", 1)).unwrap();
    let bad = Command::new("xmllint")
        .args(["--noout", "--nonet", "--dtdvalid"])
        .arg(&dtd)
        .arg(&broken)
        .output()
        .expect("xmllint runs");
    assert!(
        !bad.status.success(),
        "the subset DTD accepted a broken manifest"
    );
}

#[test]
fn manifest_declares_every_property_the_method_reads() {
    let manifest = fs::read_to_string(manifest()).unwrap();
    let script = fs::read_to_string(method()).unwrap();
    let read: Vec<&str> = script
        .lines()
        .filter_map(|l| l.split("$(prop ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(
        read,
        [
            "central",
            "interval",
            "pptctl",
            "snapshot_options",
            "remote_command"
        ]
    );
    for name in read {
        assert!(
            manifest.contains(&format!("<propval name=\"{name}\"")),
            "config/{name} is read by the method but not declared in the manifest"
        );
    }
    assert!(manifest.contains("exec=\"/opt/custom/smf/method/pptctl-snapshot-push start\""));
}

/// A directory of stand-ins for `svcprop` and `ssh`, and the files they
/// answer from and write to.
struct Stage {
    dir: tempfile::TempDir,
}

impl Stage {
    fn new() -> Self {
        let stage = Stage {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir(stage.path("bin")).unwrap();
        fs::create_dir(stage.path("props")).unwrap();
        fs::create_dir(stage.path("tmp")).unwrap();
        // svcprop -p config/NAME FMRI: the file props/NAME, escaped as
        // svcprop escapes an astring (a backslash before each blank);
        // exit 1 for a property that does not exist, as svcprop does.
        stage.tool(
            "svcprop",
            "#!/bin/sh\nf=\"$STAGE/props/${2#config/}\"\n[ -f \"$f\" ] || exit 1\n\
             sed 's/ /\\\\ /g' \"$f\"\n",
        );
        // ssh: records its arguments and its standard input.
        stage.tool(
            "ssh",
            "#!/bin/sh\nn=$(ls \"$STAGE\" | grep -c '^push')\n\
             printf '%s\\n' \"$@\" > \"$STAGE/push$n.args\"\n\
             cat > \"$STAGE/push$n.json\"\nexit ${SSH_EXIT:-0}\n",
        );
        stage.prop("pptctl", env!("CARGO_BIN_EXE_pptctl"));
        let example = repo().join("examples/levon-2018");
        stage.prop(
            "snapshot_options",
            &format!(
                "--root {} --from snapshot:{}",
                example.join("root").display(),
                example.join("host.json").display()
            ),
        );
        stage.prop("central", "fleet@central.example");
        stage
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tool(&self, name: &str, body: &str) {
        let p = self.path("bin").join(name);
        fs::write(&p, body).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn prop(&self, name: &str, value: &str) {
        fs::write(self.path("props").join(name), value).unwrap();
    }

    fn command(&self, verb: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.arg(method())
            .arg(verb)
            .env("STAGE", self.dir.path())
            .env("TMPDIR", self.path("tmp"))
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path("bin").display()),
            )
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, verb: &str) -> Output {
        self.command(verb).output().unwrap()
    }

    fn pushes(&self) -> usize {
        fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                let name = name.to_string_lossy();
                name.starts_with("push") && name.ends_with(".args")
            })
            .count()
    }

    fn temp_left(&self) -> usize {
        fs::read_dir(self.path("tmp")).unwrap().count()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn once_pushes_a_whole_snapshot_through_ssh() {
    let stage = Stage::new();
    let out = stage.run("once");
    assert!(out.status.success(), "{}", stderr(&out));
    let args = fs::read_to_string(stage.path("push0.args")).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=30",
            "fleet@central.example",
            "pptctl fleet ingest -"
        ]
    );
    let sent: serde_json::Value =
        serde_json::from_slice(&fs::read(stage.path("push0.json")).unwrap()).unwrap();
    assert_eq!(sent["format"], "pptctl-snapshot/2");
    assert!(sent["functions"].as_array().is_some_and(|f| !f.is_empty()));
    assert_eq!(stage.temp_left(), 0, "the private directory is removed");
}

#[test]
fn a_bad_configuration_is_an_smf_configuration_error() {
    for (prop, value, says) in [
        ("central", "", "config/central is not set"),
        ("central", "-oProxyCommand=evil", "not an option"),
        ("interval", "0", "config/interval"),
        ("interval", "1h", "config/interval"),
        ("pptctl", "/nonexistent/pptctl", "not an executable"),
    ] {
        let stage = Stage::new();
        stage.prop(prop, value);
        for verb in ["once", "start"] {
            let out = stage.run(verb);
            assert_eq!(
                out.status.code(),
                Some(SMF_EXIT_ERR_CONFIG),
                "{prop}={value}"
            );
            assert!(
                stderr(&out).contains(says),
                "{prop}={value}: {}",
                stderr(&out)
            );
        }
        assert_eq!(stage.pushes(), 0);
    }
}

#[test]
fn nothing_is_sent_when_the_snapshot_fails() {
    let stage = Stage::new();
    stage.prop("snapshot_options", "--from snapshot:/nonexistent/host.json");
    let out = stage.run("once");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stage.pushes(), 0);
    assert_eq!(stage.temp_left(), 0);
}

#[test]
fn a_failed_push_is_reported() {
    let stage = Stage::new();
    let out = stage
        .command("once")
        .env("SSH_EXIT", "255")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("fleet@central.example failed"));
    assert_eq!(stage.temp_left(), 0);
}

#[test]
fn start_returns_and_keeps_pushing_every_interval() {
    let stage = Stage::new();
    stage.prop("interval", "1");
    let mut child = stage
        .command("start")
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pgid = child.id() as i32;
    let status = child.wait().unwrap();
    assert!(status.success(), "the start method returns at once");
    let deadline = Instant::now() + Duration::from_secs(60);
    while stage.pushes() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let pushes = stage.pushes();
    // Stop the loop as SMF's `:kill` would: the whole group.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    assert!(pushes >= 2, "the loop pushed {pushes} times in 60 s");
}

#[test]
fn usage_is_a_fatal_method_error() {
    let stage = Stage::new();
    let out = stage.run("restart");
    assert_eq!(out.status.code(), Some(95));
    assert!(stderr(&out).contains("usage"));
}
