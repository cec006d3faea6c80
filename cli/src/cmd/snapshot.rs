//! `pptctl snapshot`: write the JSON host snapshot (interface §6,
//! docs/snapshot.md) to stdout.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use pci_core::sources::snapshot::Snapshot;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl snapshot`.
#[derive(Args, Debug)]
pub struct SnapshotArgs {}

/// Runs the subcommand.
pub fn run(global: &Global, _args: SnapshotArgs) -> Result<ExitCode, CliError> {
    let host = global.load_host()?;
    let text = Snapshot::new(host, Some(global.source_label()))
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
