//! `pptctl reserve`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl reserve`.
#[derive(Args, Debug)]
pub struct ReserveArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: ReserveArgs, _reserve: bool) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
