//! `pptctl snapshot`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl snapshot`.
#[derive(Args, Debug)]
pub struct SnapshotArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: SnapshotArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
