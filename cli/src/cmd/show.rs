//! `pptctl show`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl show`.
#[derive(Args, Debug)]
pub struct ShowArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: ShowArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
