//! Hostile neighbours on the file system: what another local user can
//! plant where pptctl reads and writes.
//!
//! Writes: symbolic links and FIFOs planted at every temporary name a
//! writer could use (for the next few thousand process ids, in a sticky
//! world-writable directory as `/tmp` is) and at the target itself. No
//! write may go through a planted link, none may block on a FIFO, and the
//! target ends as the regular file pptctl wrote.
//!
//! Reads: a FIFO (or a device) in place of every kind of input (a file
//! under `--root`, a payload, a log, a snapshot) is named and refused with
//! exit 2 instead of blocking. Every command runs with a generous timeout
//! so a regression fails here instead of hanging the test run; the timeout
//! is a guard, not a measurement.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{example_dir, example_from, pptctl, snapshot_from};

/// Far longer than any of these commands takes; only a blocked read or
/// write reaches it.
const GUARD: Duration = Duration::from_secs(30);

/// What a command did: exit code, stdout, stderr. Panics when it had to be
/// killed at [`GUARD`] (it blocked).
fn run(mut cmd: assert_cmd::Command, what: &str) -> (i32, String, String) {
    cmd.timeout(GUARD);
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!("{what}: did not return within {GUARD:?} (blocked?): {e}"),
    };
    let code = out.status.code();
    assert!(code.is_some(), "{what}: killed ({:?}): blocked", out.status);
    (
        code.unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo {}", p.display());
}

/// A directory as `/tmp` is: world-writable with the sticky bit.
fn sticky_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

/// The process ids the next few thousand processes will get (Linux hands
/// them out in order from the last one given).
fn next_pids() -> std::ops::Range<u32> {
    let last = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or_else(std::process::id);
    last..last + 3000
}

/// Every temporary name a writer of `target` has used or could guess:
/// `.NAME.tmpPID` (the old report writer) and `.NAME.pptctl-tmp-PID-N`
/// (the old tree writer), for the next process ids.
fn temp_names(target: &Path) -> Vec<PathBuf> {
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    let dir = target.parent().unwrap();
    let mut names = Vec::new();
    for pid in next_pids() {
        names.push(dir.join(format!(".{name}.tmp{pid}")));
        for n in 0..2 {
            names.push(dir.join(format!(".{name}.pptctl-tmp-{pid}-{n}")));
        }
    }
    names
}

/// Plants a link to `victim` at every temporary name of `target`.
fn plant_links(target: &Path, victim: &Path) {
    for t in temp_names(target) {
        std::os::unix::fs::symlink(victim, t).unwrap();
    }
}

fn plant_fifos(target: &Path) {
    for t in temp_names(target) {
        let c = std::ffi::CString::new(t.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; the result is checked.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o666) };
        assert_eq!(rc, 0, "mkfifo {}", t.display());
    }
}

/// A victim file outside the directory, holding a known text.
fn victim() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let v = d.path().join("victim");
    std::fs::write(&v, "VICTIM\n").unwrap();
    (d, v)
}

fn report(html: &Path) -> assert_cmd::Command {
    let mut c = pptctl();
    c.arg("--from")
        .arg(example_from())
        .args(["report", "--html"])
        .arg(html);
    c
}

/// A fleet database holding the example host, for `fleet report`.
fn fleet_db(dir: &Path) -> PathBuf {
    let db = dir.join("f.db");
    let mut c = pptctl();
    c.args(["fleet", "--db"])
        .arg(&db)
        .arg("ingest")
        .arg(example_dir().join("host.json"));
    let (code, _, err) = run(c, "fleet ingest");
    assert_eq!(code, 0, "{err}");
    db
}

fn fleet_report(db: &Path, html: &Path) -> assert_cmd::Command {
    let mut c = pptctl();
    c.args(["fleet", "--db"])
        .arg(db)
        .args(["report", "--html"])
        .arg(html);
    c
}

/// The target is the regular file pptctl wrote and the victim is intact.
fn assert_written(target: &Path, victim: &Path) {
    let m = std::fs::symlink_metadata(target).unwrap();
    assert!(
        m.file_type().is_file(),
        "{} is not a file",
        target.display()
    );
    let page = std::fs::read_to_string(target).unwrap();
    assert!(page.contains("<html"), "{page:.200}");
    assert_eq!(std::fs::read_to_string(victim).unwrap(), "VICTIM\n");
}

#[test]
fn report_writes_through_no_link_planted_at_a_temporary_name() {
    let dir = sticky_dir();
    let (_v, victim) = victim();
    let page = dir.path().join("report.html");
    plant_links(&page, &victim);
    let (code, _, err) = run(report(&page), "report with planted links");
    assert_eq!(code, 0, "{err}");
    assert_written(&page, &victim);
}

#[test]
fn fleet_report_writes_through_no_link_planted_at_a_temporary_name() {
    let dir = sticky_dir();
    let (_v, victim) = victim();
    let db = fleet_db(dir.path());
    let page = dir.path().join("fleet.html");
    plant_links(&page, &victim);
    let (code, _, err) = run(fleet_report(&db, &page), "fleet report, planted links");
    assert_eq!(code, 0, "{err}");
    assert_written(&page, &victim);
}

#[test]
fn report_does_not_block_on_fifos_planted_at_temporary_names() {
    let dir = sticky_dir();
    let (_v, victim) = victim();
    let page = dir.path().join("report.html");
    plant_fifos(&page);
    let (code, _, err) = run(report(&page), "report with planted FIFOs");
    assert_eq!(code, 0, "{err}");
    assert_written(&page, &victim);
}

/// A link planted at the target itself is replaced, never written through.
#[test]
fn a_link_at_the_target_is_replaced_not_followed() {
    let dir = sticky_dir();
    let (_v, victim) = victim();
    let page = dir.path().join("report.html");
    std::os::unix::fs::symlink(&victim, &page).unwrap();
    let (code, _, err) = run(report(&page), "report over a planted link");
    assert_eq!(code, 0, "{err}");
    assert_written(&page, &victim);
}

#[test]
fn a_fifo_at_the_target_is_named_and_refused() {
    let dir = sticky_dir();
    let page = dir.path().join("report.html");
    mkfifo(&page);
    let (code, _, err) = run(report(&page), "report over a FIFO");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("report.html") && err.contains("FIFO"), "{err}");
    let m = std::fs::symlink_metadata(&page).unwrap();
    assert!(m.file_type().is_fifo(), "the FIFO was replaced");
}

#[test]
fn report_to_a_directory_says_it_wants_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for target in [
        format!("{}/", dir.path().display()),
        dir.path().display().to_string(),
    ] {
        let (code, _, err) = run(report(Path::new(&target)), "report into a directory");
        assert_eq!(code, 2, "{target}: {err}");
        assert!(err.contains("a file"), "{target}: {err}");
        assert!(!err.contains("Not a directory"), "{target}: {err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn report_to_dash_writes_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = report(Path::new("-"));
    c.current_dir(dir.path());
    let (code, out, err) = run(c, "report --html -");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("<html"), "{out:.200}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `man --dir` writes each page through the same writer: a link planted at
/// a page's name or at its temporary names is never written through.
#[test]
fn man_pages_write_through_no_planted_link() {
    let dir = sticky_dir();
    let (_v, victim) = victim();
    let page = dir.path().join("pptctl-show.8");
    std::os::unix::fs::symlink(&victim, &page).unwrap();
    plant_links(&dir.path().join("pptctl.8"), &victim);
    let mut c = pptctl();
    c.args(["man", "--dir"]).arg(dir.path());
    let (code, _, err) = run(c, "man --dir");
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::symlink_metadata(&page).unwrap().is_file());
    let text = std::fs::read_to_string(dir.path().join("pptctl.8")).unwrap();
    assert!(text.contains(".TH"), "{text:.200}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "VICTIM\n");
}

/// `pptctl --root ROOT` over a copy of the example host's root.
fn example_root() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("cp")
        .arg("-r")
        .arg(example_dir().join("root/."))
        .arg(d.path())
        .status()
        .unwrap();
    assert!(st.success());
    d
}

fn at_root(root: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = pptctl();
    c.arg("--root")
        .arg(root)
        .arg("--from")
        .arg(example_from())
        .args(args);
    c
}

/// Exit 2 and a message naming `name` as a FIFO.
fn assert_refused(r: (i32, String, String), name: &str) {
    let (code, out, err) = r;
    assert_eq!(code, 2, "{name}: {out}{err}");
    assert!(err.contains(name), "{name} not named: {err}");
    assert!(err.contains("FIFO"), "{name}: not said to be a FIFO: {err}");
}

#[test]
fn a_fifo_as_ppt_matches_is_refused() {
    let root = example_root();
    let p = root.path().join("etc/ppt_matches");
    let _ = std::fs::remove_file(&p);
    mkfifo(&p);
    let r = run(at_root(root.path(), &["match"]), "match, FIFO ppt_matches");
    assert_refused(r, "/etc/ppt_matches");
}

#[test]
fn a_fifo_as_ppt_aliases_is_refused_by_reserve() {
    let root = example_root();
    let p = root.path().join("etc/ppt_aliases");
    std::fs::remove_file(&p).unwrap();
    mkfifo(&p);
    let r = run(
        at_root(root.path(), &["reserve", "01:00.0", "--yes"]),
        "reserve, FIFO ppt_aliases",
    );
    let (code, out, err) = r;
    // Unreadable input, as every other refusal of its kind (README).
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("ppt_aliases") && err.contains("FIFO"), "{err}");
    assert!(std::fs::symlink_metadata(&p).unwrap().file_type().is_fifo());
}

/// `/etc/nodename` only names the host in a snapshot: a FIFO there is
/// skipped, never waited for, and named in a warning (the snapshot then
/// records no host name from it).
#[test]
fn a_fifo_as_nodename_does_not_block_the_snapshot() {
    let root = example_root();
    mkfifo(&root.path().join("etc/nodename"));
    let (code, out, err) = run(at_root(root.path(), &["snapshot"]), "snapshot");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with('{'), "{out:.200}");
    assert!(
        err.contains("pptctl: warning: /etc/nodename: ") && err.contains("FIFO"),
        "{err}"
    );
}

#[test]
fn a_fifo_as_a_zone_file_is_refused() {
    let root = example_root();
    let uuid = "7c1b7a3e-0d1c-4b5e-9f3e-2a7a8f0e6d11";
    let logs = root.path().join(format!("zones/{uuid}/logs"));
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("platform.log"), "").unwrap();
    std::fs::create_dir_all(root.path().join("etc/zones")).unwrap();
    mkfifo(&root.path().join(format!("etc/zones/{uuid}.xml")));
    let r = run(
        at_root(root.path(), &["diagnose", "--vm", uuid]),
        "diagnose, FIFO zone file",
    );
    assert_refused(r, &format!("/etc/zones/{uuid}.xml"));
    // Listing the zones for a snapshot skips it without waiting either.
    let (code, _, err) = run(at_root(root.path(), &["snapshot"]), "snapshot, zones");
    assert_eq!(code, 0, "{err}");
}

/// Every input named on the command line, as a FIFO.
#[test]
fn a_fifo_as_any_named_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("input.json");
    mkfifo(&fifo);
    let f = fifo.display().to_string();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "vm-json --check",
            vec!["vm-json".into(), "--check".into(), f.clone()],
        ),
        (
            "--from snapshot:",
            vec!["--from".into(), snapshot_from(&fifo), "list".into()],
        ),
        (
            "--from dump:",
            vec!["--from".into(), format!("dump:{f}"), "list".into()],
        ),
        (
            "--from devinfo:",
            vec!["--from".into(), format!("devinfo:{f}"), "list".into()],
        ),
        (
            "diagnose LOG",
            vec![
                "--from".into(),
                example_from(),
                "diagnose".into(),
                f.clone(),
            ],
        ),
        (
            "check --vm",
            vec![
                "--from".into(),
                example_from(),
                "check".into(),
                "--vm".into(),
                f.clone(),
            ],
        ),
    ];
    for (what, args) in cases {
        let mut c = pptctl();
        c.args(&args);
        let r = run(c, what);
        assert_refused(r, &f);
    }
}

/// A character device is not a payload: it is named as a device, not as
/// a file of 16 MiB.
#[test]
fn a_device_as_a_payload_is_named_a_device() {
    let mut c = pptctl();
    c.args(["vm-json", "--check", "/dev/zero"]);
    let (code, _, err) = run(c, "vm-json --check /dev/zero");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("character device"),
        "{err}"
    );
    assert!(!err.contains("bytes"), "{err}");
}
