//! `pptctl report --html FILE` (this host) and `pptctl fleet report --html
//! FILE|DIR/`: self-contained pages (inline CSS, JS and SVG, nothing
//! fetched) that explain themselves: who made them and when, each host by
//! its own name, every warn and fail finding in words, each function's
//! driver, `/devices` path and `/dev/pptN`, what the next boot changes and
//! where the reservations are, and each host's PCI topology drawn as a
//! tree (infrastructure grey, not red). The fleet's summary table has
//! search and filters; with a directory each host gets its own page.

mod assets;
mod host;
mod page;
mod summary;
mod topology;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use hostfs::atomic::{CreateError, NewFile};
use ppt_config::host_load::SourceSpec;
use ppt_config::session::Session;
use ppt_config::viability::{Reason, Report, Severity};

use crate::error::CliError;
use crate::global::Global;

pub use page::{host_file, render_to, HostView, Links, Page, Stamp};
pub use summary::{HostRow, Names};

/// Arguments of `pptctl report` and `pptctl fleet report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Write the HTML page to FILE (replaced atomically; `-` for standard
    /// output).
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,
}

/// Seconds since the epoch, now (`SOURCE_DATE_EPOCH` when set, as for
/// every time pptctl writes into a document, so pages are reproducible).
pub fn now() -> i64 {
    ppt_config::snapshot::now_secs()
}

/// The first line of `pptctl --version`.
pub fn version_line() -> String {
    format!("pptctl {}", crate::version::SHORT)
}

/// `pptctl report --html FILE`: this host (as `--from` reads it), through
/// the session like every other command: titled with the host's own name
/// (`/etc/nodename` under `--root`, or the snapshot's; never the `--from`
/// string, which the stamp names as the source), every finding of the
/// check, and the session's answer to "on ppt after the next boot" with
/// the file and line that decides it.
pub fn run(global: &Global, args: ReportArgs) -> Result<ExitCode, CliError> {
    let session = global.open()?;
    let now = now();
    let (name, taken_at) = identity(&session, now);
    let rec = fleet::derive::from_session(&session, name, taken_at).map_err(CliError::input)?;
    let report = check_all(&session)?;
    let view = HostView {
        name: rec.host.clone(),
        time: fleet::time::format_rfc3339(rec.taken_at),
        taken_at: rec.taken_at,
        host_verdict: rec.host_verdict.clone(),
        host_reasons: report
            .host
            .reasons
            .iter()
            // The configuration's info findings are the next boot's
            // changes, listed under "Next boot" already.
            .chain(
                report
                    .config
                    .reasons
                    .iter()
                    .filter(|r| r.severity != Severity::Info),
            )
            .map(reason_text)
            .collect(),
        reasons: report
            .functions
            .iter()
            .map(|f| (f.slot.clone(), f.reasons.iter().map(reason_text).collect()))
            .collect(),
        next_by: next_boot_by(&session),
        after_reboot: None,
        functions: rec.functions,
    };
    let stamp = Stamp {
        now,
        version: version_line(),
        max_age: None,
        source: Some(global.source_label()),
    };
    let page = Page {
        title: &format!("pptctl report: {}", view.name),
        stamp: &stamp,
        summary: None,
        back: None,
    };
    write_page(&args.html, |out| render_to(out, &page, [Ok(view)]))?;
    Ok(ExitCode::SUCCESS)
}

/// The host's own name and when its data was taken: a format 1 snapshot
/// file's `host` object (as `fleet ingest` reads it), else the session's
/// (a format 2 snapshot's, or `/etc/nodename` under the root, and now).
fn identity(session: &Session, now: i64) -> (String, i64) {
    let (doc_name, doc_time) = match &session.options().source {
        SourceSpec::Snapshot(file) if session.replayed().is_none() => std::fs::read(file)
            .map(|b| fleet::derive::document_identity(&b))
            .unwrap_or_default(),
        _ => (None, None),
    };
    let info = session.snapshot().host;
    let name = doc_name
        .or(info.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "unnamed host".to_string());
    let time = doc_time.unwrap_or(info.time);
    (name, fleet::time::parse_rfc3339(&time).unwrap_or(now))
}

/// The check of every function, as the fleet record was derived.
fn check_all(session: &Session) -> Result<Report, CliError> {
    let selectors: Vec<_> = session
        .host()
        .functions
        .iter()
        .map(|f| ppt_config::selector::Selector::Slot(f.address))
        .collect();
    session
        .check(&selectors, Vec::new())
        .map(|a| a.report)
        .map_err(|e| CliError::input(format!("the check cannot be answered: {e}")))
}

/// `severity code: message`.
fn reason_text(r: &Reason) -> String {
    format!("{} {}: {}", r.severity.as_str(), r.code, r.message)
}

/// Per function address, what decides its binding after the next boot:
/// `file:line: why`, or why it is not known.
fn next_boot_by(session: &Session) -> HashMap<String, String> {
    let next = session.next_ppt();
    session
        .host()
        .functions
        .iter()
        .map(|f| {
            let a = next.why(f);
            let text = match a.by {
                Some(by) => format!("{by}: {}", a.reason),
                None => a.reason,
            };
            (f.address.to_string(), text)
        })
        .collect()
}

/// Writes the page `write` produces to `path` (`-`: standard output)
/// through pptctl's one writer for the files it creates
/// ([`hostfs::atomic::NewFile`]): a temporary file under a random name
/// created `O_EXCL | O_NOFOLLOW` beside `path`, renamed over it once
/// whole, so a reader never sees half a page and nothing planted beside or
/// at `path` is written through. A directory, FIFO or device at `path` is
/// refused (exit 2); the temporary file is removed when anything fails.
pub fn write_page(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), CliError>,
) -> Result<(), CliError> {
    if path.as_os_str() == "-" {
        let mut out = crate::output::stdout();
        write(&mut out)?;
        return out
            .flush()
            .map_err(|e| CliError::failed(format!("writing the page: {e}")));
    }
    let mut file = NewFile::create(path).map_err(create_error)?;
    write(&mut file)?;
    file.commit().map_err(create_error)
}

/// A refused target is the user's input (exit 2); a failed write is not.
fn create_error(e: CreateError) -> CliError {
    match e {
        CreateError::IsDirectory { .. } | CreateError::NotRegular { .. } => {
            CliError::input(e.to_string())
        }
        CreateError::Io { .. } => CliError::failed(e.to_string()),
    }
}
