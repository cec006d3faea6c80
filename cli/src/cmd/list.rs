//! `pptctl list`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl list`.
#[derive(Args, Debug)]
pub struct ListArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: ListArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
