//! `pptctl tree`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl tree`.
#[derive(Args, Debug)]
pub struct TreeArgs {}

/// Runs the subcommand.
pub fn run(_global: &Global, _args: TreeArgs) -> Result<ExitCode, CliError> {
    Err(CliError::input("not built yet"))
}
