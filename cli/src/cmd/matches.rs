//! `pptctl matches`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl matches`.
#[derive(Args, Debug)]
pub struct MatchArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: MatchArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
