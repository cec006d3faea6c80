//! `pptctl completions SHELL`: a completion script for bash, zsh or fish,
//! generated from the same clap definition as `--help` (clap_complete).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use clap_complete::Shell;

use crate::error::CliError;

/// The shells a script is generated for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Target {
    /// bash (bash-completion).
    Bash,
    /// zsh (compsys).
    Zsh,
    /// fish.
    Fish,
}

/// Arguments of `pptctl completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh or fish.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Target,
}

/// Runs the subcommand.
pub fn run(args: CompletionsArgs) -> Result<ExitCode, CliError> {
    let shell = match args.shell {
        Target::Bash => Shell::Bash,
        Target::Zsh => Shell::Zsh,
        Target::Fish => Shell::Fish,
    };
    let mut cmd = crate::command();
    let mut out = crate::output::stdout();
    clap_complete::generate(shell, &mut cmd, "pptctl", &mut out);
    Ok(ExitCode::SUCCESS)
}
