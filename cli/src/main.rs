//! `pptctl`: plan PCI pass-through on illumos/SmartOS bhyve hosts.
//!
//! This crate is thin: it parses arguments, picks the source, renders
//! tables and JSON, and maps errors to exit codes. All knowledge lives in
//! `pci-core`, `pci-illumos` and `ppt-config`.

mod cmd;
mod error;
mod global;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::global::Global;

/// Plan PCI pass-through for bhyve on illumos and SmartOS.
#[derive(Parser, Debug)]
#[command(name = "pptctl", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
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
    /// Many hosts' snapshots in a database: ingest, placement, inventory, history.
    Fleet(cmd::fleet::FleetArgs),
    /// What changed between two snapshots of one host.
    Diff(cmd::diff::DiffArgs),
    /// A self-contained HTML page of this host's PCI topology and verdicts.
    Report(cmd::report::ReportArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
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
        Command::Fleet(a) => cmd::fleet::run(&cli.global, a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Report(a) => cmd::report::run(&cli.global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}
