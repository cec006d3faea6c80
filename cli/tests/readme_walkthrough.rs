//! The README's walkthrough stays true: the console block between the
//! `<!-- walkthrough -->` markers is run command by command on a copy of
//! examples/levon-2018, and each command's stdout must be the text shown
//! under it. The line that copies the example is the copy this test
//! makes; `cd DIR` changes the directory; every other line is `pptctl
//! ARGS` (split at blanks). The first line must work in any shell run from
//! the repository, again and again: it copies into a fresh directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod support;
use support::{example_dir, pptctl};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if t.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), &dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// (command, expected stdout) pairs of the walkthrough block.
fn steps(readme: &str) -> Vec<(String, String)> {
    let start = readme.find("<!-- walkthrough -->").expect("start marker");
    let end = readme.find("<!-- /walkthrough -->").expect("end marker");
    let block = &readme[start..end];
    let body = block
        .split_once("```console\n")
        .and_then(|(_, b)| b.rsplit_once("```"))
        .map(|(b, _)| b)
        .expect("console block");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push((cmd.to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

#[test]
fn readme_walkthrough_outputs_are_current() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let steps = steps(&readme);
    assert!(steps.len() >= 6, "{steps:?}");
    let t = tempfile::tempdir().unwrap();
    copy_dir(&example_dir(), t.path());
    let mut cwd = t.path().join("before");
    let mut ran = 0;
    for (cmd, want) in steps {
        // The copy of the example this test makes itself (the reader's
        // first line copies it to a fresh directory and changes into it).
        if cmd.contains("cp -r examples/levon-2018") {
            continue;
        }
        if let Some(dir) = cmd.strip_prefix("cd ") {
            cwd = cwd.join(dir);
            continue;
        }
        let args: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(args[0], "pptctl", "{cmd}");
        let o = pptctl()
            .current_dir(&cwd)
            .args(&args[1..])
            .output()
            .unwrap();
        let got = String::from_utf8(o.stdout).unwrap();
        assert_eq!(got, want, "README output of `{cmd}` drifted");
        ran += 1;
    }
    assert!(ran >= 6);
    // Run top to bottom in one shell, the walkthrough ends in the copy's
    // top directory, where the diagnose example runs (cli/tests/diagnose.rs)
    // on the copy's own sample log.
    assert_eq!(
        cwd,
        t.path().join("before/.."),
        "the walkthrough ends elsewhere"
    );
    assert!(cwd.join("logs/platform.log").is_file());
}

/// The first line of the walkthrough, run by a shell twice from the
/// repository: each time it lands in a fresh copy's `before`, never in a
/// copy nested in an earlier one.
#[test]
fn the_walkthrough_copy_line_runs_again() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let (first, _) = steps(&readme).into_iter().next().unwrap();
    assert!(first.contains("cp -r examples/levon-2018"), "{first}");
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{first} && pwd && ls"))
            .env("TMPDIR", tmp.path())
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.lines().next().unwrap().ends_with("/before"), "{text}");
        assert!(text.contains("usbkey"), "{text}");
    }
}
