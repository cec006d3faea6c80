//! The README's walkthrough stays true: the console block between the
//! `<!-- walkthrough -->` markers is run command by command on a copy of
//! examples/levon-2018, and each command's stdout must be the text shown
//! under it. `cp` lines are the copy this test makes; `cd DIR` changes
//! the directory; every other line is `pptctl ARGS` (split at blanks).

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
        if cmd.starts_with("cp ") {
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
}
