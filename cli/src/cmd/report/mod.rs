//! `pptctl report --html FILE` (this host) and `pptctl fleet report --html
//! FILE`: one self-contained page (inline CSS, JS and SVG, nothing fetched)
//! with a sortable table of hosts × passable devices and, per host, its PCI
//! topology drawn as a tree (root complexes, bridges, devices; colour =
//! verdict; ppt and reserved functions marked).

mod page;
mod topology;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use hostfs::atomic::{CreateError, NewFile};

use crate::error::CliError;
use crate::global::Global;

pub use page::{render_to, HostRow, HostView, Names};

/// Arguments of `pptctl report` and `pptctl fleet report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Write the HTML page to FILE (replaced atomically; `-` for standard
    /// output).
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
