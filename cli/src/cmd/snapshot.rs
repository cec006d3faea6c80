//! `pptctl snapshot`: write the JSON host snapshot, format version 2
//! (README.md, docs/snapshot.md), to stdout: the host, the
//! configuration files that decide binding and candidacy, the boot media
//! and the bhyve zones, as the library session captured them.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl snapshot`.
#[derive(Args, Debug)]
pub struct SnapshotArgs {}

/// Runs the subcommand.
pub fn run(global: &Global, _args: SnapshotArgs) -> Result<ExitCode, CliError> {
    let mut session = global.open()?;
    for w in session.add_illumos_facts() {
        crate::output::warn(w);
    }
    let text = session
        .snapshot()
        .to_json()
        .map_err(|e| CliError::failed(format!("cannot encode the snapshot: {e}")))?;
    let mut stdout = crate::output::stdout();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(CliError::failed(format!("writing the snapshot: {e}"))),
    }
}
