//! The HTML report in a real browser: headless Chromium loads the page
//! `pptctl fleet report --html` wrote, the DOM it ends with must show every
//! host and device and prove the script ran, the console must stay quiet,
//! and a screenshot is kept (`docs/img/fleet-report.png` when
//! `PPTCTL_UPDATE_SCREENSHOTS=1`).
//!
//! Needs `/usr/bin/chromium` (Debian `chromium`); skipped with a message
//! when absent, except under `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

mod chromium;

use std::path::{Path, PathBuf};
use std::process::Command;

use chromium::{browse, chromium, console, screenshot, shot_path};

use assert_cmd::cargo::CommandCargoExt;
use fleet_support::{host, write, Gpu, BOOT, NV};

/// Three hosts (one with a failing GPU, one without an IOMMU) ingested
/// into `dir/f.db` and reported to `dir/report.html`; returns the page.
fn fleet_page(dir: &Path) -> PathBuf {
    let nv = NV;
    let bad = BOOT;
    let amd = Gpu {
        vendor: 0x1002,
        boot: false,
    };
    let snaps = dir.join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    write(
        &snaps,
        "a.json",
        &host("gpu-node-a", "2026-11-01T00:00:00Z", &[nv, nv, amd]),
    );
    write(
        &snaps,
        "b.json",
        &host("gpu-node-b", "2026-11-01T00:00:00Z", &[nv, bad]),
    );
    let mut noiommu = host("plain-node-c", "2026-11-01T00:00:00Z", &[nv]);
    noiommu["facts"]["iommu"]["present"] = serde_json::json!(false);
    write(&snaps, "c.json", &noiommu);
    let db = dir.join("f.db");
    let page = dir.join("report.html");
    let st = Command::cargo_bin("pptctl")
        .unwrap()
        .args(["fleet", "--db"])
        .arg(&db)
        .arg("ingest")
        .arg(&snaps)
        .status()
        .unwrap();
    assert!(st.success());
    let st = Command::cargo_bin("pptctl")
        .unwrap()
        .args(["fleet", "--db"])
        .arg(&db)
        .args(["report", "--html"])
        .arg(&page)
        .status()
        .unwrap();
    assert!(st.success());
    page
}

#[test]
fn the_fleet_report_renders_in_chromium_without_console_errors() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = fleet_page(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "the page must fetch nothing"
    );

    let b = browse(&bin, &page, &["--dump-dom"]);
    let (dom, err) = (b.stdout, b.stderr);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run: {err}"
    );
    for h in ["gpu-node-a", "gpu-node-b", "plain-node-c"] {
        assert!(
            dom.contains(&format!("id=\"host-{h}\"")),
            "{h} has no section"
        );
    }
    assert_eq!(
        dom.matches("<svg").count(),
        3,
        "one topology picture per host"
    );
    assert!(dom.contains("10de:0a65") && dom.contains("1002:0a65"));
    assert!(dom.contains("no-iommu"), "the failing host says why");
    assert!(
        console(&err).is_empty(),
        "console messages: {:?}",
        console(&err)
    );

    screenshot(&bin, &page, &shot_path("fleet-report.png"), (1200, 900));
}

#[test]
fn a_console_error_is_caught() {
    // The detector itself: a page with a script error must be reported.
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>notDefined();</script></body></html>",
    )
    .unwrap();
    let b = browse(&bin, &page, &["--dump-dom"]);
    assert!(
        !console(&b.stderr).is_empty(),
        "a script error went unnoticed: {}",
        b.stderr
    );
}

#[test]
fn the_one_host_report_is_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("host.html");
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018/host.json");
    let st = Command::cargo_bin("pptctl")
        .unwrap()
        .arg("--from")
        .arg(format!("snapshot:{}", ex.display()))
        .args(["report", "--html"])
        .arg(&page)
        .status()
        .unwrap();
    assert!(st.success());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    for f in ["01:00.0 10de:0a65", "01:00.1 10de:0be3", "ppt0", "ppt1"] {
        assert!(html.contains(f), "{f} missing");
    }
    assert_eq!(html.matches("<svg").count(), 1);
    // Nothing but the page is left in the directory (no temporary file).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
