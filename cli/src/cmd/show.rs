//! `pptctl show`.

use std::process::ExitCode;

use clap::Args;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl show`.
#[derive(Args, Debug)]
pub struct ShowArgs {}

/// Runs the subcommand.
pub fn run(global: &Global, _args: ShowArgs) -> Result<ExitCode, CliError> {
    let _host = global.load_host()?;
    Err(CliError::failed("not built yet"))
}
