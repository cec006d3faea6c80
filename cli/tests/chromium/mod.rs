//! Headless Chromium for the report tests (`mod chromium;`): Debian's
//! `/usr/bin/chromium`, skipped with a message when absent except under
//! `CI=true`; a fresh profile per run; the console messages it logged.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser, or `None` (with a note) when it is not installed.
pub fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from(CHROMIUM);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but {CHROMIUM} is missing: install Debian's chromium");
    }
    eprintln!("skipping: {CHROMIUM} not installed");
    None
}

/// What one run of the browser gave.
pub struct Browsed {
    /// Standard output (the DOM with `--dump-dom`).
    pub stdout: String,
    /// Standard error (the log).
    pub stderr: String,
    /// Wall time of the whole run, browser start included.
    pub wall: Duration,
}

/// Runs headless Chromium on `page` with `extra` arguments.
pub fn browse(bin: &Path, page: &Path, extra: &[&str]) -> Browsed {
    let profile = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Browsed {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall,
    }
}

/// Console messages Chromium logged (`CONSOLE(line)] "message"`).
pub fn console(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains("CONSOLE")).collect()
}

/// Milliseconds from navigation until the page's script had run (the
/// `data-ready-ms` the script writes on `<body>`), from a dumped DOM.
pub fn ready_ms(dom: &str) -> Option<f64> {
    let at = dom.find("data-ready-ms=\"")? + "data-ready-ms=\"".len();
    let end = dom[at..].find('"')? + at;
    dom[at..end].parse().ok()
}

/// A screenshot of `page` at `width`×`height` to `shot`.
pub fn screenshot(bin: &Path, page: &Path, shot: &Path, (width, height): (u32, u32)) {
    let _ = std::fs::remove_file(shot);
    let b = browse(
        bin,
        page,
        &[
            &format!("--window-size={width},{height}"),
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        console(&b.stderr).is_empty(),
        "console messages: {:?}",
        console(&b.stderr)
    );
    assert!(
        std::fs::metadata(shot).unwrap().len() > 10_000,
        "screenshot missing"
    );
}

/// Where a test keeps a screenshot named `name`: `docs/img/` when
/// `PPTCTL_UPDATE_SCREENSHOTS=1` (to refresh the ones the docs show),
/// else the test's temporary directory.
pub fn shot_path(name: &str) -> PathBuf {
    if std::env::var("PPTCTL_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/img")
            .join(name)
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
    }
}
