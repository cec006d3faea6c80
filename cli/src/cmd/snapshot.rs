//! `pptctl snapshot`: write the JSON host snapshot, format version 2
//! (README.md, docs/snapshot.md), to stdout: the host, the
//! configuration files that decide binding and candidacy, the boot media
//! and the bhyve zones, as the library session captured them.

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
    for w in session.snapshot_warnings() {
        crate::output::warn(w);
    }
    let text = session
        .snapshot()
        .to_json()
        .map_err(|e| CliError::failed(format!("cannot encode the snapshot: {e}")))?;
    crate::output::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
