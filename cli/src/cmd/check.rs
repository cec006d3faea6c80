//! `pptctl check`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl check`.
#[derive(Args, Debug)]
pub struct CheckArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: CheckArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
