//! The reports explain themselves: the host's own name, when and by which
//! pptctl the page was made, every warn and fail finding in words, each
//! function's driver, `/devices` path and `/dev/pptN`, the next boot,
//! infrastructure as "not passable", names drawn whole, stale snapshots
//! with their age, every snapshot string escaped; and at 2,000 hosts the
//! fleet summary stays small and ready quickly in headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

mod chromium;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use assert_cmd::cargo::CommandCargoExt;
use chromium::{browse, chromium, console, ready_ms, screenshot, shot_path};
use fleet::time::format_rfc3339;
use fleet_support::{host, random_gpus, write, Gpu, Rng, NV};
use serde_json::json;
use support::{example_dir, example_from, pptctl, pptctl_at};

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn bin() -> Command {
    Command::cargo_bin("pptctl").unwrap()
}

fn run_ok(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pptctl --version`'s first line.
fn version_line() -> String {
    let out = pptctl().arg("--version").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().next().unwrap().to_string()
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else if ft.is_symlink() {
            // /dev/pptN are links into /devices: kept as links.
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), dest).unwrap();
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Ingests `snaps` into `dir/f.db` and writes `fleet report --html
/// target` with `extra` options.
fn fleet_report(dir: &Path, snaps: &Path, target: &str, extra: &[&str]) -> PathBuf {
    let db = dir.join("f.db");
    run_ok(
        bin()
            .args(["fleet", "--db"])
            .arg(&db)
            .arg("ingest")
            .arg(snaps),
    );
    let page = dir.join(target);
    let mut c = bin();
    c.args(["fleet", "--db"])
        .arg(&db)
        .args(["report", "--html"])
        .arg(&page)
        .args(extra);
    run_ok(&mut c);
    page
}

#[test]
fn the_host_page_explains_itself() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&example_dir().join("root"), root.path());
    std::fs::write(root.path().join("etc/nodename"), "gpu-node\n").unwrap();
    let page = root.path().join("page.html");
    let out = pptctl_at(root.path(), example_from())
        .args(["report", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h1>pptctl report: gpu-node</h1>"));
    assert!(
        html.contains(&format!("by {}", version_line())),
        "no version"
    );
    assert!(html.contains("generated 20"), "no generation time");
    // Every warn finding is text on the page, not only a tooltip.
    for r in [
        "warn no-reset: ppt cannot reset 0000:01:00.0",
        "warn no-reset: ppt cannot reset 0000:01:00.1",
        "warn io-bar: BAR 5 of 0000:01:00.0",
    ] {
        assert!(
            html.contains(&format!("<li class=\"r-warn\">{r}")),
            "{r} not listed"
        );
    }
    // Driver, /devices path and /dev/pptN per function.
    assert!(html.contains("<td class=\"m\">ppt</td><td class=\"p\">/devices/pci@0,0/pci8086,151@1/display@0</td><td class=\"m\">/dev/ppt0</td>"),
        "{}",
        &html[html.find("0000:01:00.0</td>").unwrap()..][..500]
    );
    assert!(html.contains("<td class=\"m\">pcieb</td>"));
    // The next boot: what binds where, and the line of ppt_aliases that says so.
    assert!(html.contains("<h3>Next boot</h3>"));
    assert!(
        html.contains("0000:01:00.0 stays on ppt") || html.contains("0000:01:00.0 binds to ppt"),
        "{html}"
    );
    assert!(
        html.contains("/etc/ppt_aliases:"),
        "the reservation's file and line"
    );
    // Infrastructure is not passable, not failing; names are whole.
    assert_eq!(
        html.matches("<span class=\"v v-infra\">not passable</span>")
            .count(),
        2
    );
    assert!(html
        .contains("8086:0151 Xeon E3-1200 v2/3rd Gen Core processor PCI Express Root Port</text>"));
    if let Some(b) = chromium() {
        screenshot(&b, &page, &shot_path("host-report.png"), (1200, 1250));
    }
}

/// A snapshot whose host name, driver and paths carry markup and control
/// bytes.
fn hostile(name: &str) -> serde_json::Value {
    let mut doc = host(name, "2026-11-01T00:00:00Z", &[NV]);
    let f = &mut doc["functions"][2];
    f["driver"] = json!("<script>alert('drv')</script>\u{1b}[31m");
    f["illumos"]["driver"] = json!("<b>drv</b>\u{7}");
    let p = f["illumos"]["path"].as_str().unwrap().to_string();
    f["illumos"]["path"] = json!(format!("{p}<img src=x onerror=alert(1)>\u{8}"));
    f["names"] = json!({"vendor": "<i>V</i>", "device": "</text><script>alert(2)</script>"});
    doc
}

fn assert_inert(html: &str) {
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(
        !html.contains("<img") && !html.contains("<b>drv"),
        "markup from the snapshot"
    );
    assert!(
        !html.bytes().any(|b| b < 0x20 && b != b'\n'),
        "a raw control byte reached the page"
    );
}

#[test]
fn every_snapshot_string_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write(
        dir.path(),
        "h.json",
        &hostile("<script>alert(0)</script>\u{7}host"),
    );
    let page = dir.path().join("host.html");
    let out = pptctl()
        .arg("--from")
        .arg(format!("snapshot:{}", snap.display()))
        .args(["report", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert_inert(&html);
    assert!(
        html.contains("&lt;script&gt;alert(0)&lt;/script&gt;\\u{7}host"),
        "{}",
        &html[..html.find("<style>").unwrap()]
    );

    // The fleet refuses control bytes in host names; the rest still reach it.
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    write(&snaps, "h.json", &hostile("<script>alert(0)</script>host"));
    let fleet_page = fleet_report(dir.path(), &snaps, "fleet.html", &[]);
    let html = std::fs::read_to_string(&fleet_page).unwrap();
    assert_inert(&html);
    if let Some(b) = chromium() {
        for p in [&page, &fleet_page] {
            let r = browse(&b, p, &["--dump-dom"]);
            assert!(
                r.stdout.contains("data-ready=\"1\""),
                "the script did not run"
            );
            assert_eq!(
                r.stdout.matches("<script").count(),
                1,
                "a script was injected"
            );
            assert!(console(&r.stderr).is_empty(), "{:?}", console(&r.stderr));
        }
    }
}

#[test]
fn stale_snapshots_are_marked_with_their_age() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    let t = now();
    write(
        &snaps,
        "a.json",
        &host("fresh-node", &format_rfc3339(t - 3600), &[NV]),
    );
    write(
        &snaps,
        "b.json",
        &host("old-node", &format_rfc3339(t - 10 * 86_400), &[NV]),
    );
    let page = fleet_report(dir.path(), &snaps, "r.html", &[]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches(" data-stale>").count(), 1, "one stale row");
    assert!(html.contains("10d <i class=\"v v-stale\">stale</i>"));
    assert!(html.contains("1h</td>"));
    assert!(html.contains("stale: snapshot older than 1d"));
    let page = fleet_report(dir.path(), &snaps, "r2.html", &["--max-age", "30d"]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches(" data-stale>").count(), 0);
    let out = bin()
        .args(["fleet", "--db"])
        .arg(dir.path().join("f.db"))
        .args(["report", "--html"])
        .arg(dir.path().join("r3.html"))
        .args(["--max-age", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-age soon: not a duration"));
    assert!(!dir.path().join("r3.html").exists());
}

/// Hosts in the scale test (`PPTCTL_REPORT_HOSTS` to measure another
/// size, as BENCHMARKS.md does at 10,000), and the limits the summary must
/// keep.
fn hosts() -> usize {
    std::env::var("PPTCTL_REPORT_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}
const MAX_BYTES: u64 = 5 * 1024 * 1024;
const MAX_READY_MS: f64 = 2_000.0;

#[test]
fn two_thousand_hosts_give_a_small_quick_summary() {
    let hosts = hosts();
    let dir = tempfile::tempdir().unwrap();
    let snaps = dir.path().join("snaps");
    std::fs::create_dir(&snaps).unwrap();
    let t = now();
    let mut rng = Rng(7);
    for i in 0..hosts {
        let gpus = random_gpus(&mut rng);
        // One snapshot every 5 minutes back from now: the older ones stale.
        let at = format_rfc3339(t - 300 * i64::try_from(i).unwrap());
        write(
            &snaps,
            &format!("h{i:05}.json"),
            &host(&format!("node-{i:05}"), &at, &gpus),
        );
    }
    let start = Instant::now();
    let out = fleet_report(dir.path(), &snaps, "report/", &[]);
    let written = start.elapsed();
    let index = out.join("index.html");
    let bytes = std::fs::metadata(&index).unwrap().len();
    let pages = std::fs::read_dir(out.join("hosts")).unwrap().count();
    assert_eq!(pages, hosts, "one page per host");
    let html = std::fs::read_to_string(&index).unwrap();
    assert_eq!(html.matches("<tr").count(), hosts + 1, "a line per host");
    assert_eq!(
        html.matches("<svg").count(),
        0,
        "the summary holds no host's drawing"
    );
    assert!(html.contains("href=\"hosts/h-node-00042.html\""));
    assert!(bytes <= MAX_BYTES, "summary is {bytes} bytes");
    eprintln!("{hosts} hosts: ingest and report {written:?}, summary {bytes} bytes");
    let Some(b) = chromium() else { return };
    let r = browse(&b, &index, &["--dump-dom"]);
    assert!(
        r.stdout.contains("data-ready=\"1\""),
        "the script did not run"
    );
    assert!(console(&r.stderr).is_empty(), "{:?}", console(&r.stderr));
    let ms = ready_ms(&r.stdout).expect("the script did not run");
    eprintln!(
        "summary ready {ms} ms after navigation; chromium run {:?}",
        r.wall
    );
    assert!(ms <= MAX_READY_MS, "ready after {ms} ms");
    // The search works: node-0004 is node-00040 to node-00049.
    let r = browse(&b, &out.join("index.html#q=node-0004"), &["--dump-dom"]);
    assert!(
        r.stdout.contains("<b id=\"shown\">10</b>"),
        "the search did not filter"
    );
    assert_eq!(r.stdout.matches(" hidden=\"\">").count(), hosts - 10);
    let host_page = out.join("hosts/h-node-00042.html");
    let r = browse(&b, &host_page, &["--dump-dom"]);
    assert!(r.stdout.contains("<h2>node-00042</h2>") && r.stdout.contains("../index.html"));
    assert!(console(&r.stderr).is_empty(), "{:?}", console(&r.stderr));
    screenshot(&b, &index, &shot_path("fleet-summary.png"), (1200, 700));
}

/// `<li>` of one finding as the pages write it.
fn finding_li(r: &serde_json::Value) -> String {
    let sev = r["severity"].as_str().unwrap();
    let text = format!(
        "{sev} {}: {}",
        r["code"].as_str().unwrap(),
        r["message"].as_str().unwrap()
    );
    let text = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    format!("<li class=\"r-{sev}\">{text}</li>")
}

#[test]
fn the_fleet_host_page_lists_every_warn_and_fail_finding() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir(&old).unwrap();
    std::fs::create_dir(&new).unwrap();
    let boot = Gpu {
        vendor: 0x10de,
        boot: true,
    };
    let doc = host("gpu-node", "2026-11-01T00:00:00Z", &[boot, NV]);
    let snap = write(&new, "gpu-node.json", &doc);
    write(
        &old,
        "old-node.json",
        &host("old-node", "2026-11-01T00:00:00Z", &[boot, NV]),
    );
    // old-node is stored by a database at schema 5 (one fail_reason per
    // function); ingesting gpu-node upgrades it to 6.
    let db = dir.path().join("f.db");
    let mut f = fleet::Fleet::open_at_version(db.to_str().unwrap(), 5).unwrap();
    let s = fleet::ingest_paths(
        &mut f,
        &[old],
        &fleet::IngestOptions::default(),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(s.stored, 1);
    drop(f);
    let out = fleet_report(dir.path(), &new, "report/", &[]);
    let page = |name: &str| std::fs::read_to_string(out.join(format!("hosts/h-{name}.html")));
    let html = page("gpu-node").unwrap();
    // What the check says of each function, every warn and fail finding.
    let check = pptctl()
        .arg("--from")
        .arg(format!("snapshot:{}", snap.display()))
        .args(["check", "--json"])
        .output()
        .unwrap();
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let mut shown = 0;
    for r in check["functions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["reasons"].as_array().unwrap())
        .filter(|r| r["severity"] != "info")
    {
        assert!(
            html.contains(&finding_li(r)),
            "{} not listed",
            finding_li(r)
        );
        shown += 1;
    }
    assert!(shown >= 4, "the host has warnings and failures: {shown}");
    assert!(html.contains("<li class=\"r-fail\">fail host-critical: "));
    assert!(!html.contains("stored before the fleet kept every finding"));
    // A row stored before schema 6: its first failing finding, and a word.
    let html = page("old-node").unwrap();
    assert!(html.contains("<li class=\"r-fail\">fail host-critical: "));
    assert!(
        !html.contains("<li class=\"r-warn\">"),
        "no list was stored"
    );
    assert!(html.contains("stored before the fleet kept every finding (schema 6)"));
}
