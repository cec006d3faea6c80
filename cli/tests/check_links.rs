//! `pptctl check` on the real OmniOS devinfo cache with `/dev/ppt*` links
//! under the root: a link that no longer resolves fails the host, as
//! zoneadmd fails every VM with pass-through then (illumos-joyent
//! zoneadmd.c `setup_subproc_env`). Skips when the shared data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::symlink;

mod support;
use support::{omnios_cache, pptctl_at};

#[test]
fn stale_ppt_link_fails_check_at_host_level() {
    let Some(cache) = omnios_cache() else { return };
    let t = tempfile::tempdir().unwrap();
    let dev = t.path().join("dev");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    let from = format!("devinfo:{}", cache.display());
    let run = || {
        let o = pptctl_at(t.path(), &from)
            .args(["check", "--json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        (o.status.code(), v)
    };
    let (_, v) = run();
    let host_codes = |v: &serde_json::Value| -> Vec<String> {
        v["host"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(!host_codes(&v).contains(&"stale-ppt-link".to_string()));
    // a link to a node that is gone
    symlink(
        "../devices/pci@0,0/pci8086,151@1/display@0:ppt",
        dev.join("ppt0"),
    )
    .unwrap();
    let (code, v) = run();
    assert_eq!(code, Some(1));
    assert_eq!(v["host"]["verdict"], "fail");
    assert!(
        host_codes(&v).contains(&"stale-ppt-link".to_string()),
        "{v}"
    );
    let r = v["host"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "stale-ppt-link")
        .unwrap();
    assert_eq!(r["severity"], "fail");
    assert!(r["message"].as_str().unwrap().contains("/dev/ppt0"));
}
