//! `pptctl fleet report --html FILE|DIR/`: every host at its latest
//! snapshot. To a file: one page, the summary table then each host's
//! section. To a directory (a path ending in `/`, or one that exists): a
//! summary page `index.html` with search and filters, and one page per
//! host under `hosts/`, so the summary stays small at 10,000 hosts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use fleet::{Fleet, HostVerification, LatestSnapshot};

use super::db_err;
use crate::cmd::report::{
    host_file, now, render_to, version_line, write_page, HostRow, HostView, Links, Names, Page,
    Stamp,
};
use crate::error::CliError;
use crate::progress::Progress;

/// Arguments of `pptctl fleet report`.
#[derive(Args, Debug)]
pub struct FleetReportArgs {
    /// Write the report to FILE (one page, replaced atomically; `-` for
    /// standard output), or to DIR/ (a path ending in `/`, or an existing
    /// directory): DIR/index.html, the summary, and one page per host in
    /// DIR/hosts/.
    #[arg(long, value_name = "FILE|DIR/", required = true)]
    pub html: PathBuf,
    /// Mark snapshots older than DUR (90s, 30m, 2h, 7d, 1w) as stale.
    #[arg(long, value_name = "DUR", default_value = "1d")]
    pub max_age: String,
}

/// `fleet verify`'s result per host name.
type Reboots = HashMap<String, HostVerification>;

/// A host's view read from its latest snapshot, with every finding its
/// rows store and what `fleet verify` says of its last reboot.
fn view(db: &mut Fleet, l: &LatestSnapshot, reboots: &Reboots) -> Result<HostView, CliError> {
    let functions = db.snapshot_functions(l.id).map_err(db_err)?;
    // Rows stored before schema 6 have no list: the page falls back to
    // their fail_reason and says so.
    let reasons = functions
        .iter()
        .filter_map(|f| {
            let stored = f.reasons.as_ref()?;
            Some((
                f.address.clone(),
                stored.iter().map(ToString::to_string).collect(),
            ))
        })
        .collect();
    Ok(HostView {
        name: l.host.clone(),
        time: l.time.clone(),
        taken_at: fleet::time::parse_rfc3339(&l.time).unwrap_or(0),
        host_verdict: l.host_verdict.clone(),
        host_reasons: l.host_reason.iter().map(|r| format!("fail {r}")).collect(),
        functions,
        reasons,
        next_by: Default::default(),
        after_reboot: reboots.get(&l.host).cloned(),
    })
}

/// Whether `path` names a directory to write the report into.
fn is_dir_target(path: &Path) -> bool {
    path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir()
}

/// Runs `fleet report`.
pub fn run(db: &mut Fleet, args: &FleetReportArgs) -> Result<ExitCode, CliError> {
    let max_age = fleet::time::parse_duration(&args.max_age).ok_or_else(|| {
        CliError::input(format!(
            "--max-age {}: not a duration: {}",
            args.max_age,
            fleet::time::DURATION_GRAMMAR
        ))
    })?;
    let stamp = Stamp {
        now: now(),
        version: version_line(),
        max_age: Some(max_age),
        source: None,
    };
    // Two passes over the latest snapshots: the table first (one small
    // row per host), then each host's section, reading its functions
    // again, so memory holds one host's functions, not the fleet's.
    let latest = db.latest_snapshots().map_err(db_err)?;
    let reboots: Reboots = db
        .verify_reboots(None)
        .map_err(db_err)?
        .into_iter()
        .map(|v| (v.host.clone(), v))
        .collect();
    let mut rows = Vec::with_capacity(latest.len());
    let mut names = Names::default();
    let mut progress = Progress::new("reading hosts", latest.len() as u64);
    for l in &latest {
        let v = view(db, l, &reboots)?;
        rows.push(HostRow::of(&v));
        names.add(&v);
        progress.step();
    }
    drop(progress);
    if is_dir_target(&args.html) {
        return to_directory(db, &args.html, (&latest, &reboots), (&rows, &names), &stamp);
    }
    let mut progress = Progress::new("writing host sections", latest.len() as u64);
    let page = Page {
        title: "pptctl fleet report",
        stamp: &stamp,
        summary: Some((&rows, &names, Links::Anchor)),
        back: None,
    };
    write_page(&args.html, |out| {
        let hosts = latest.iter().map(|l| {
            progress.step();
            view(db, l, &reboots)
        });
        render_to(out, &page, hosts)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The report as a directory: each host's page under `hosts/`, then the
/// summary `index.html` (each file written whole, atomically).
fn to_directory(
    db: &mut Fleet,
    dir: &Path,
    (latest, reboots): (&[LatestSnapshot], &Reboots),
    (rows, names): (&[HostRow], &Names),
    stamp: &Stamp,
) -> Result<ExitCode, CliError> {
    let hosts = dir.join("hosts");
    std::fs::create_dir_all(&hosts)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", hosts.display())))?;
    let mut progress = Progress::new("writing host pages", latest.len() as u64);
    for l in latest {
        let v = view(db, l, reboots)?;
        let page = Page {
            title: &format!("pptctl fleet report: {}", l.host),
            stamp,
            summary: None,
            back: Some("../index.html"),
        };
        write_page(&hosts.join(host_file(&l.host)), |out| {
            render_to(out, &page, [Ok(v)])
        })?;
        progress.step();
    }
    drop(progress);
    let page = Page {
        title: "pptctl fleet report",
        stamp,
        summary: Some((rows, names, Links::Files)),
        back: None,
    };
    write_page(&dir.join("index.html"), |out| render_to(out, &page, []))?;
    Ok(ExitCode::SUCCESS)
}
