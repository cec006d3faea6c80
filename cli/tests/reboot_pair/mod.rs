//! The example host (examples/levon-2018) before its reboot, with the
//! reservation of its GPU written to the boot media, and after it, with
//! both GPU functions on ppt: format 2 snapshots for the fleet's verify
//! and history tests, and the edits that make variants of them.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

/// `pptctl ARGS` with a fixed snapshot clock: exit code, stdout, stderr.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("pptctl")
        .unwrap()
        .env("SOURCE_DATE_EPOCH", "1796000000")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        let ty = e.file_type().unwrap();
        if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &t).unwrap();
        } else if ty.is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// The example host before the reboot (its reservation written to the
/// boot media) and after it, as format 2 snapshots.
pub fn before_after(dir: &Path) -> (Value, Value) {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018");
    copy_dir(&ex, dir);
    let b = dir.join("before");
    let (r, f) = (
        b.join("root"),
        format!("snapshot:{}", b.join("host.json").display()),
    );
    let reserve = [
        "--root",
        r.to_str().unwrap(),
        "--from",
        &f,
        "reserve",
        "--boot-media",
    ];
    let bm = b.join("usbkey");
    let mut args = reserve.to_vec();
    args.extend([bm.to_str().unwrap(), "--matches", "10de:a65"]);
    assert_eq!(run(&args).0, 0);
    let (code, before, err) = run(&[
        "--root",
        r.to_str().unwrap(),
        "--from",
        &f,
        "--boot-media",
        bm.to_str().unwrap(),
        "snapshot",
    ]);
    assert_eq!(code, 0, "{err}");
    let (r, f) = (
        dir.join("root"),
        format!("snapshot:{}", dir.join("host.json").display()),
    );
    let (code, after, err) = run(&["--root", r.to_str().unwrap(), "--from", &f, "snapshot"]);
    assert_eq!(code, 0, "{err}");
    (
        serde_json::from_str(&before).unwrap(),
        serde_json::from_str(&after).unwrap(),
    )
}

/// `doc` as host `name` at `time`.
pub fn named(doc: &Value, name: &str, time: &str) -> Value {
    let mut d = doc.clone();
    d["host"]["name"] = json!(name);
    d["host"]["time"] = json!(time);
    d
}

pub fn function<'a>(doc: &'a mut Value, address: &str) -> &'a mut Value {
    doc["functions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["address"] == address)
        .unwrap()
}

pub fn set_driver(doc: &mut Value, address: &str, driver: &str) {
    let f = function(doc, address);
    f["driver"] = json!(driver);
    f["illumos"]["driver"] = json!(driver);
}
