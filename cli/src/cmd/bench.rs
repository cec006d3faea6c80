//! `pptctl bench`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: BenchArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
