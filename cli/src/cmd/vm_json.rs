//! `pptctl vm-json`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl vm-json`.
#[derive(Args, Debug)]
pub struct VmJsonArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: VmJsonArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
