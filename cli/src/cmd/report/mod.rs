//! `pptctl report --html FILE` (this host) and `pptctl fleet report --html
//! FILE`: one self-contained page (inline CSS, JS and SVG, nothing fetched)
//! with a sortable table of hosts × passable devices and, per host, its PCI
//! topology drawn as a tree (root complexes, bridges, devices; colour =
//! verdict; ppt and reserved functions marked).

mod page;
mod topology;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

pub use page::{render_to, HostRow, HostView, Names};

/// Arguments of `pptctl report` and `pptctl fleet report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Write the HTML page to FILE (replaced atomically).
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,
}

/// `pptctl report --html FILE`: this host (as `--from` reads it), through
/// the session like every other command: titled with the host's name
/// (`/etc/nodename` under `--root`, or the snapshot's), its functions
/// marked by the session's answer to "on ppt after the next boot".
pub fn run(global: &Global, args: ReportArgs) -> Result<ExitCode, CliError> {
    let session = global.open()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let name = session
        .snapshot()
        .host
        .name
        .unwrap_or_else(|| global.source_label());
    let rec = fleet::derive::from_session(&session, name, now).map_err(CliError::input)?;
    let view = HostView {
        name: rec.host.clone(),
        time: fleet::time::format_rfc3339(rec.taken_at),
        host_verdict: rec.host_verdict.clone(),
        host_reason: rec.host_reason.clone(),
        functions: rec.functions,
    };
    let rows = [HostRow::of(&view)];
    let mut names = Names::default();
    names.add(&view);
    write_page(&args.html, |out| {
        render_to(out, "pptctl report", &rows, &names, [Ok(view)])
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the page `write` produces to `path` through a temporary file
/// beside it and a rename, so a reader never sees half a page; the
/// temporary file is removed when anything fails.
pub fn write_page(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| CliError::input(format!("{}: not a file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let fail =
        |e: std::io::Error| CliError::failed(format!("cannot write {}: {e}", path.display()));
    let file = std::fs::File::create(&tmp).map_err(fail)?;
    let mut out = BufWriter::new(file);
    let written = write(&mut out).and_then(|()| {
        out.into_inner()
            .map_err(|e| fail(e.into_error()))
            .and_then(|f| f.sync_all().map_err(fail))
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path).map_err(fail));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}
