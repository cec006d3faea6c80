//! `pptctl`: plan PCI pass-through on illumos/SmartOS bhyve hosts.
//!
//! This crate is thin: it parses arguments, picks the source, renders
//! tables and JSON, and maps errors to exit codes. All knowledge lives in
//! `pci-core`, `pci-illumos` and `ppt-config`.

// The argument structs' doc comments are the `--help` text, written in
// lspci's bracket grammar (`[[DOMAIN:]BUS:]DEV`), which rustdoc would
// otherwise read as links.
#![allow(rustdoc::broken_intra_doc_links)]

mod cmd;
mod error;
mod global;
mod help;
mod output;
mod progress;
mod signals;
mod version;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::global::Global;

/// Plan PCI pass-through for bhyve on illumos and SmartOS.
#[derive(Parser, Debug)]
#[command(name = "pptctl", version = version::SHORT, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(flatten)]
    output: output::OutputArgs,
    /// The fleet database of `pptctl fleet` (the same as `--db` after `fleet`); refused for any other subcommand.
    // Not global: no other subcommand's --help offers it; its own id keeps
    // its value apart from the `--db` that `fleet` declares.
    #[arg(long = "db", id = "db_before_fleet", value_name = "DB")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode PCI functions (lspci-compatible with -n).
    Show(cmd::show::ShowArgs),
    /// List ppt devices and candidates, like pptadm list.
    List(cmd::list::ListArgs),
    /// Show the PCI hierarchy with illumos paths.
    Tree(cmd::tree::TreeArgs),
    /// Explain what each ppt_matches line and ppt_aliases entry does.
    Match(cmd::matches::MatchArgs),
    /// Check pass-through viability and the pending configuration.
    Check(cmd::check::CheckArgs),
    /// Reserve functions for ppt at the next boot.
    Reserve(cmd::reserve::ReserveArgs),
    /// Undo a reservation.
    Unreserve(cmd::reserve::ReserveArgs),
    /// Print or check vmadm pci_devices for functions.
    #[command(name = "vm-json")]
    VmJson(cmd::vm_json::VmJsonArgs),
    /// Write a JSON host snapshot to stdout.
    Snapshot(cmd::snapshot::SnapshotArgs),
    /// Time the phases of discovery on this host.
    Bench(cmd::bench::BenchArgs),
    /// Explain a VM that does not start, from its platform.log and the host.
    Diagnose(cmd::diagnose::DiagnoseArgs),
    /// Print a manual page (roff), or write them all with --dir.
    Man(cmd::man::ManArgs),
    /// Print a shell completion script.
    Completions(cmd::completions::CompletionsArgs),
    /// Many hosts' snapshots in a database: ingest, placement, inventory, history.
    Fleet(cmd::fleet::FleetArgs),
    /// What changed between two snapshots of one host.
    Diff(cmd::diff::DiffArgs),
    /// A self-contained HTML page of this host's PCI topology and verdicts.
    Report(cmd::report::ReportArgs),
}

fn main() -> ExitCode {
    output::quiet_on_closed_pipes();
    let cli = match command().try_get_matches().and_then(|m| {
        let mut cli = Cli::from_arg_matches(&m)?;
        db_before_fleet(&mut cli, m.subcommand_name().unwrap_or(""))?;
        Ok(cli)
    }) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    output::set_color(cli.output.color);
    progress::set_mode(cli.output.progress);
    if let Err(e) = check_root(&cli.global.root) {
        return e.report();
    }
    let result = match cli.command {
        Command::Show(a) => cmd::show::run(&cli.global, a),
        Command::List(a) => cmd::list::run(&cli.global, a),
        Command::Tree(a) => cmd::tree::run(&cli.global, a),
        Command::Match(a) => cmd::matches::run(&cli.global, a),
        Command::Check(a) => cmd::check::run(&cli.global, a),
        Command::Reserve(a) => cmd::reserve::run(&cli.global, a, true),
        Command::Unreserve(a) => cmd::reserve::run(&cli.global, a, false),
        Command::VmJson(a) => cmd::vm_json::run(&cli.global, a),
        Command::Snapshot(a) => cmd::snapshot::run(&cli.global, a),
        Command::Bench(a) => cmd::bench::run(&cli.global, a),
        Command::Diagnose(a) => cmd::diagnose::run(&cli.global, a),
        Command::Man(a) => cmd::man::run(a),
        Command::Completions(a) => cmd::completions::run(a),
        Command::Fleet(a) => cmd::fleet::run(&cli.global, a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Report(a) => cmd::report::run(&cli.global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

/// The whole command line definition: the derived one plus the examples of
/// each subcommand and the version text.
fn command() -> clap::Command {
    help::decorate(Cli::command()).long_version(version::long_if_asked())
}

/// `--db DB` before the subcommand is the fleet's `--db`
/// (`pptctl --db DB fleet hosts`): refused for any other subcommand, and
/// when `--db` after `fleet` names another database (usage errors, exit 2).
fn db_before_fleet(cli: &mut Cli, name: &str) -> Result<(), clap::Error> {
    let Some(db) = cli.db.take() else {
        return Ok(());
    };
    let refuse =
        |message: String| command().error(clap::error::ErrorKind::ArgumentConflict, message);
    match &mut cli.command {
        Command::Fleet(f) => f.db_before(db).map_err(refuse),
        _ => Err(refuse(format!(
            "--db names the fleet database: only `pptctl fleet` reads one, not `pptctl {name}`"
        ))),
    }
}

/// `--root` must be a directory: every command reads or writes under it,
/// and a wrong one would otherwise pass silently as an empty host (exit 2,
/// naming the root as given).
fn check_root(root: &std::path::Path) -> Result<(), error::CliError> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(error::CliError::input(format!(
            "--root {}: not a directory",
            pci_core::text::EscapedPath(root)
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(error::CliError::input(format!(
            "--root {}: no such directory",
            pci_core::text::EscapedPath(root)
        ))),
        Err(e) => Err(error::CliError::input(format!(
            "--root {}: {e}",
            pci_core::text::EscapedPath(root)
        ))),
    }
}
