//! `pptctl match` end to end: the 2018 Levon how-to's SmartOS host (examples/levon-2018)
//! with correct and broken files, and the real OmniOS devinfo cache with
//! its real driver_aliases (skipped when the shared real data is absent).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;

mod support;
use support::{example_dir, example_from, omnios_dir, pptctl_at};

const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

fn run(from: &str, root: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = pptctl_at(root, from)
        .arg("match")
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write_root(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = d.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn codes(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn seed_host_is_clean() {
    let ex = example_dir();
    let from = example_from();
    let (code, out, err) = run(&from, &ex.join("root"), &["--json"]);
    assert_eq!(code, 0, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        j.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["ppt_matches", "ppt_aliases", "after_reboot"]
    );
    let m = &j["ppt_matches"];
    assert_eq!(m[0]["text"], "pciex10de,a65");
    assert_eq!(m[0]["kind"], "id");
    assert_eq!(m[0]["matches"], serde_json::json!([GPU]));
    assert_eq!(m[1]["matches"], serde_json::json!([AUDIO]));
    let a = &j["ppt_aliases"];
    assert_eq!(a.as_array().unwrap().len(), 2);
    assert_eq!(a[0]["line"], 5);
    assert_eq!(a[0]["kind"], "path");
    assert_eq!(a[1]["matches"], serde_json::json!([AUDIO]));
    // after_reboot lists what is on ppt after the reboot, changed or not
    assert_eq!(
        j["after_reboot"],
        serde_json::json!([
            {"path": GPU, "driver_now": "ppt", "driver_after": "ppt",
             "by": "/etc/ppt_aliases:5", "dev": "/dev/ppt0"},
            {"path": AUDIO, "driver_now": "ppt", "driver_after": "ppt",
             "by": "/etc/ppt_aliases:6", "dev": "/dev/ppt1"}
        ])
    );
}

#[test]
fn seed_blog_typos_are_flagged() {
    // the blog's alias without @0,1, an upper-case match line, a
    // vendor-only-by-accident line; the sound function goes back to audiohd
    let from = example_from();
    let root = write_root(&[
        ("etc/ppt_matches", "pciex10de,a65\npci10DE,0BE3\npci10de ,be3\n"),
        (
            "etc/ppt_aliases",
            "ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt \"/pci@0,0/pci8086,151@1/pci1462,2291\"\n",
        ),
        // vgatext claims the GPU first, so its path alias can rebind it
        (
            "etc/driver_aliases",
            "audiohd \"pciclass,0403\"\npcieb \"pciexclass,0604\"\nvgatext \"pciclass,030000\"\n",
        ),
        ("etc/path_to_inst", "\"/pci@0,0/pci8086,151@1/display@0\" 0 \"ppt\"\n"),
    ]);
    let (code, out, err) = run(&from, root.path(), &["--json"]);
    assert_eq!(code, 1, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    let m = &j["ppt_matches"];
    assert_eq!(
        codes(&m[1]),
        ["upper-case-hex", "upper-case-hex", "zero-padded-hex"]
    );
    assert_eq!(m[1]["matches"], serde_json::json!([]));
    // `pci10de ,be3` reads as vendor 10de: both NVIDIA functions
    assert_eq!(m[2]["kind"], "vendor");
    assert_eq!(codes(&m[2]), ["device-ignored"]);
    assert_eq!(m[2]["matches"], serde_json::json!([GPU, AUDIO]));
    let a = &j["ppt_aliases"][1];
    assert_eq!(a["matches"], serde_json::json!([]));
    assert_eq!(codes(a), ["missing-unit-address"]);
    assert!(a["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains(AUDIO));
    assert_eq!(
        j["after_reboot"],
        serde_json::json!([
            {"path": GPU, "driver_now": "ppt", "driver_after": "ppt",
             "by": "/etc/ppt_aliases:1", "dev": "/dev/ppt0"},
            {"path": AUDIO, "driver_now": "ppt", "driver_after": "audiohd",
             "by": "/etc/driver_aliases:1", "dev": null}
        ])
    );
    // human output says the same
    let (code, text, _) = run(&from, root.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        text.contains(&format!(
            "  {AUDIO}  ppt -> audiohd  by /etc/driver_aliases:1"
        )),
        "{text}"
    );
    assert!(text.contains("warning[missing-unit-address]"), "{text}");
}

/// Each `after_reboot` entry as (path, "now -> after", by).
fn after_reboot_changes(j: &Value) -> Vec<(String, String, String)> {
    j["after_reboot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                format!(
                    "{} -> {}",
                    c["driver_now"].as_str().unwrap(),
                    c["driver_after"].as_str().unwrap()
                ),
                c["by"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn omnios_real_host_and_driver_aliases() {
    let d = omnios_dir();
    if !d.join("devices/snapshot_cache").is_file() || !d.join("driver_aliases").is_file() {
        eprintln!("skipping: {} is absent", d.display());
        return;
    }
    let da = std::fs::read_to_string(d.join("driver_aliases")).unwrap();
    let p2i = std::fs::read_to_string(d.join("path_to_inst")).unwrap();
    let root = write_root(&[
        ("etc/driver_aliases", &da),
        ("etc/path_to_inst", &p2i),
        (
            "etc/ppt_aliases",
            "ppt \"pci8086,1502\"\nppt \"pciex10ec,8168\"\nppt \"/pci@0,0/display@2\"\nppt \"/pci@0,0/pci8086,1e18@1c,4/pci7470,3468\"\n",
        ),
        ("etc/ppt_matches", "pci8086,1502\npci10ec\n"),
    ]);
    let from = format!("devinfo:{}", d.join("devices/snapshot_cache").display());
    let (code, out, err) = run(&from, root.path(), &["--json"]);
    assert_eq!(code, 1, "{err}");
    let j: Value = serde_json::from_str(&out).unwrap();
    let a = j["ppt_aliases"].as_array().unwrap();
    assert_eq!(codes(&a[0]), ["steals-device"]);
    assert_eq!(
        a[0]["matches"],
        serde_json::json!(["/pci@0,0/pci1028,52c@19"])
    );
    assert!(codes(&a[1]).contains(&"binds-several".to_string()));
    assert_eq!(a[1]["matches"].as_array().unwrap().len(), 2);
    assert_eq!(codes(&a[2]), Vec::<String>::new());
    assert_eq!(codes(&a[3]), ["missing-unit-address"]);
    let mut want = vec![
        (
            "/pci@0,0/display@2".to_string(),
            "vgatext -> ppt".to_string(),
            "/etc/ppt_aliases:3".to_string(),
        ),
        (
            "/pci@0,0/pci1028,52c@19".into(),
            "e1000g -> ppt".into(),
            "/etc/ppt_aliases:1".into(),
        ),
        (
            "/pci@0,0/pci8086,151@1/pci7470,3468@0".into(),
            "rge -> ppt".into(),
            "/etc/ppt_aliases:2".into(),
        ),
        (
            "/pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0".into(),
            "rge -> ppt".into(),
            "/etc/ppt_aliases:2".into(),
        ),
    ];
    let mut got = after_reboot_changes(&j);
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // no ppt entry in path_to_inst: every /dev/pptN is a guess, so null
    assert!(j["after_reboot"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["dev"].is_null()));
    // ppt_matches: 8086:1502 selects the e1000g function; vendor 10ec both rge
    assert_eq!(
        j["ppt_matches"][0]["matches"],
        serde_json::json!(["/pci@0,0/pci1028,52c@19"])
    );
    assert_eq!(j["ppt_matches"][1]["matches"].as_array().unwrap().len(), 2);
}

#[test]
fn unreadable_input_exits_2() {
    let from = example_from();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/ppt_matches")).unwrap();
    let (code, out, err) = run(&from, root.path(), &["--json"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("/etc/ppt_matches"), "{err}");
    let (code, _, err) = run("snapshot:/nonexistent/host.json", root.path(), &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_file_level_problem_is_said_once() {
    // One line more than the reader takes: a problem of the file, not of a
    // line. The text names it in its ppt_matches section; the JSON has no
    // place for it, so it goes to stderr there and only there.
    let lines = "#\n".repeat((1 << 20) + 1);
    let root = write_root(&[("etc/ppt_matches", &lines)]);
    let from = example_from();
    let (code, out, err) = run(&from, root.path(), &[]);
    let said = "more than 1048576 lines";
    assert_eq!(out.matches(said).count(), 1, "{out}");
    assert!(!err.contains(said), "{err}");
    assert_eq!(code, 1, "a warning is exit 1");
    let (code, out, err) = run(&from, root.path(), &["--json"]);
    assert!(!out.contains(said), "{out}");
    assert_eq!(err.matches(said).count(), 1, "{err}");
    assert_eq!(code, 1);
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The how-to host's root with `etc/ppt_aliases` replaced by `aliases`.
fn example_root_with(aliases: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&example_dir().join("root"), d.path());
    std::fs::write(d.path().join("etc/ppt_aliases"), aliases).unwrap();
    d
}

/// `ppt pciex8086,151` unquoted: the kernel's lexer reads `151` as a
/// number, so the line binds nothing. `match` and `reserve` must read it
/// the same way: `reserve` may not call the bridge "already reserved";
/// it replaces the broken line with a quoted one.
#[test]
fn unquoted_id_alias_is_one_reading_for_match_and_reserve() {
    let root = example_root_with("ppt pciex8086,151\n");
    let from = example_from();
    let (_, out, err) = run(&from, root.path(), &["--json"]);
    let j: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let a = &j["ppt_aliases"][0];
    assert_eq!(a["matches"], serde_json::json!([]), "{a}");
    assert!(codes(a).contains(&"alias-syntax".to_string()), "{a}");

    let out = pptctl_at(root.path(), &from)
        .args(["reserve", "--by-id", "--dry-run", "--force"])
        .args(["--single-function", "00:01.0"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("already reserved"), "{text}");
    assert!(text.contains("\n-ppt pciex8086,151\n"), "{text}");
    assert!(text.contains("\n+ppt \"pciex8086,151\"\n"), "{text}");
    assert!(out.status.success(), "{text}");
}

/// A compatible alias and a path alias for the same node, both to ppt:
/// the node is bound by its compatible list first, and the kernel rebinds
/// by path only to a different driver (devcfg.c `init_node`), so it is the
/// compatible line that binds it and the path line that changes nothing.
#[test]
fn compatible_line_binds_when_a_path_alias_names_the_same_node() {
    let root = example_root_with(&format!("ppt \"pciex10de,a65\"\nppt \"{GPU}\"\n"));
    let (_, out, err) = run(&example_from(), root.path(), &["--json"]);
    let j: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let a = j["ppt_aliases"].as_array().unwrap();
    assert_eq!(a[0]["matches"], serde_json::json!([GPU]), "{}", a[0]);
    // The example root's driver_aliases gives the GPU to vgatext (by its
    // class), so the compatible line takes it from there: said, as it
    // should be, and nothing else.
    assert_eq!(codes(&a[0]), ["steals-device"]);
    assert_eq!(a[1]["matches"], serde_json::json!([]), "{}", a[1]);
    assert_eq!(codes(&a[1]), ["shadowed"]);
    let msg = a[1]["warnings"][0]["message"].as_str().unwrap();
    assert!(msg.contains("/etc/ppt_aliases:1"), "{msg}");
    let gpu = j["after_reboot"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == GPU)
        .unwrap();
    assert_eq!(gpu["by"], "/etc/ppt_aliases:1");
    assert_eq!(gpu["driver_after"], "ppt");
}

/// A line the kernel rejects is shown as its author wrote it, quotes
/// included once (never `""/pci…""`), in `match` and in `check`'s
/// alias-binds-nothing; an entry the kernel stores is quoted once.
#[test]
fn a_rejected_line_is_shown_as_written() {
    let root = example_root_with(&format!(
        "ppt \"{GPU}\"\nnosuchdrv \"{AUDIO}\"\nppt {AUDIO}\n"
    ));
    let (_, out, err) = run(&example_from(), root.path(), &[]);
    assert!(!out.contains("\"\""), "{out}{err}");
    assert!(out.contains(&format!("     1  \"{GPU}\"")), "{out}");
    assert!(out.contains(&format!("     2  \"{AUDIO}\"")), "{out}");
    assert!(out.contains(&format!("     3  {AUDIO} ")), "{out}");
    let check = pptctl_at(root.path(), example_from())
        .arg("check")
        .output()
        .unwrap();
    let text = String::from_utf8(check.stdout).unwrap();
    assert!(!text.contains("\"\""), "{text}");
    assert!(
        text.contains(&format!("/etc/ppt_aliases:2: \"{AUDIO}\" binds no device")),
        "{text}"
    );
}

/// Boot media given but broken (a module line naming a file the media
/// lacks): the note says to fix that line, not to give --boot-media.
#[test]
fn broken_boot_media_is_named_not_asked_for() {
    let bm = tempfile::tempdir().unwrap();
    support::seed_boot_media(bm.path());
    let menu = bm.path().join("boot/grub/menu.lst");
    let mut text = std::fs::read_to_string(&menu).unwrap();
    text.push_str("    module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases\n");
    std::fs::write(&menu, text).unwrap();
    let root = example_dir().join("root");
    let bm_arg = bm.path().display().to_string();
    let (_, out, err) = run(&example_from(), &root, &["--boot-media", &bm_arg]);
    assert!(
        out.contains("note: what the next boot binds is unknown: "),
        "{out}{err}"
    );
    assert!(
        out.contains("menu.lst:5: module /overlay/etc/ppt_aliases"),
        "{out}"
    );
    assert!(!out.contains("give --boot-media"), "{out}");
    assert!(!out.contains("no boot media"), "{out}");
    assert!(out.contains("fix the boot configuration lines"), "{out}");
}
