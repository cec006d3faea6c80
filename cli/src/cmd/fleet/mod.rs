//! `pptctl fleet …`: many hosts' snapshots in one database (SQLite file by
//! default, PostgreSQL with a `postgres://` URL). All knowledge is in the
//! `fleet` crate; this module parses arguments and renders.

mod claim;
mod events;
mod help;
mod hosts;
mod ingest;
mod inventory;
mod place;
mod report;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use fleet::{Access, Fleet, FleetError};
use pci_core::text::Escaped;
use ppt_config::boot_media::BootStyle;

use crate::error::CliError;
use crate::global::Global;

/// The database used when neither `--db` nor `PPTCTL_DB` names one.
pub const DEFAULT_DB: &str = "./pptctl-fleet.db";

/// Arguments of `pptctl fleet`.
#[derive(Args, Debug)]
pub struct FleetArgs {
    /// The fleet database: a SQLite file or a postgres://user@host/db URL
    /// (before or after `fleet` or the subcommand). `fleet ingest` creates it; every
    /// other subcommand only reads it. Default: $PPTCTL_DB, else
    /// ./pptctl-fleet.db. PostgreSQL needs a pptctl built with the cargo
    /// feature postgres; `pptctl --version` names the storage built in.
    #[arg(long, value_name = "DB", global = true)]
    pub db: Option<String>,
    #[command(flatten)]
    not_here: NotHere,
    #[command(subcommand)]
    command: FleetCommand,
}

/// The host options (`--from`, `--root`, ...) are global for every other
/// subcommand; the fleet reads databases, not a host, so it declares
/// them itself, hidden, which stops clap from giving them to `fleet` and
/// its subcommands (their `--help` lists only what works there). Given
/// to `fleet` anyway, each is refused by name (exit 2).
#[derive(Args, Debug)]
struct NotHere {
    // Each has the type of its global namesake, whose value clap copies
    // into every level's matches.
    #[arg(long, hide = true, value_parser = refused_here::<String>)]
    from: Option<String>,
    #[arg(long, hide = true, value_parser = refused_here::<PathBuf>)]
    root: Option<PathBuf>,
    #[arg(long, hide = true, value_parser = refused_here::<PathBuf>)]
    cfgspace: Option<PathBuf>,
    #[arg(long, hide = true, value_parser = refused_here::<PathBuf>)]
    boot_media: Option<PathBuf>,
    #[arg(long, hide = true, value_parser = refused_here::<BootStyle>)]
    boot_style: Option<BootStyle>,
}

fn refused_here<T>(_: &str) -> Result<T, String> {
    Err(
        "`pptctl fleet` reads snapshots from its database, not a host: \
         the host options do nothing here"
            .to_string(),
    )
}

#[derive(Subcommand, Debug)]
enum FleetCommand {
    /// Store snapshot files (and *.json files under directories); creates the database.
    #[command(after_long_help = help::INGEST)]
    Ingest(ingest::IngestArgs),
    /// Hosts that can give a guest N passable devices matching a selector.
    #[command(after_long_help = help::HOSTS)]
    Hosts(hosts::HostsArgs),
    /// Every vendor:device in the fleet with counts.
    #[command(after_long_help = help::DEVICES)]
    Devices(inventory::DevicesArgs),
    /// A host's snapshots and what changed; or the device event log (--host, --device).
    #[command(after_long_help = help::HISTORY)]
    History(inventory::HistoryArgs),
    /// Self-contained HTML: a summary with search and filters, each host's devices, findings, topology and last reboot.
    #[command(after_long_help = help::REPORT)]
    Report(report::FleetReportArgs),
    /// Claim N whole devices of one host for a holder, atomically.
    #[command(after_long_help = help::CLAIM)]
    Claim(claim::ClaimArgs),
    /// Release a claim (or every claim of a holder).
    #[command(after_long_help = help::RELEASE)]
    Release(claim::ReleaseArgs),
    /// The live claims, with their expiry.
    #[command(after_long_help = help::CLAIMS)]
    Claims(claim::ClaimsArgs),
    /// Each host's latest snapshot against what its previous one predicted for the boot.
    #[command(after_long_help = help::VERIFY)]
    Verify(verify::VerifyArgs),
}

impl FleetArgs {
    /// Takes the `--db` given before `fleet` (`pptctl --db DB fleet …`):
    /// the same as one after it; refused when a `--db` after `fleet` names
    /// another database (the same one twice is accepted).
    pub fn db_before(&mut self, db: String) -> Result<(), String> {
        match &self.db {
            Some(after) if *after != db => Err(format!(
                "--db given twice with different databases: {} before `fleet`, {} after it; give one",
                Escaped(&fleet::spec::redact(&db)),
                Escaped(&fleet::spec::redact(after))
            )),
            _ => {
                self.db = Some(db);
                Ok(())
            }
        }
    }

    /// The database spec: `--db`, else `PPTCTL_DB`, else [`DEFAULT_DB`].
    fn db_spec(&self) -> String {
        self.db
            .clone()
            .or_else(|| std::env::var("PPTCTL_DB").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_DB.to_string())
    }

    /// Opens the database for what the subcommand does: ingest creates or
    /// upgrades it, every other subcommand reads it, read-only.
    fn open(&self) -> Result<Fleet, CliError> {
        let access = match &self.command {
            FleetCommand::Ingest(_) => Access::Create,
            // A claim changes the database, but only one that exists and
            // is current: it never creates or upgrades one.
            FleetCommand::Claim(_) | FleetCommand::Release(_) => Access::Write,
            FleetCommand::Hosts(_)
            | FleetCommand::Devices(_)
            | FleetCommand::History(_)
            | FleetCommand::Report(_)
            | FleetCommand::Claims(_)
            | FleetCommand::Verify(_) => Access::Read,
        };
        Fleet::open_as(&self.db_spec(), access).map_err(db_err)
    }
}

/// A fleet error as an exit: a bad selector or host name, or a database
/// that is missing, not a fleet or of another schema version, is bad
/// input (exit 2); anything else means the result would be wrong (exit 1).
pub(crate) fn db_err(e: FleetError) -> CliError {
    match e {
        FleetError::Selector { .. }
        | FleetError::NoHost(_)
        | FleetError::DeviceRef { .. }
        | FleetError::NoDatabase { .. }
        | FleetError::NotFleet { .. }
        | FleetError::TooOld { .. }
        | FleetError::TooNew { .. } => CliError::input(e.to_string()),
        FleetError::NotBuilt { feature, .. } => CliError::input(format!(
            "{e}; install one that has it: cargo install --path cli --features {feature}"
        )),
        _ => CliError::failed(e.to_string()),
    }
}

/// Writes `text` to stdout (the one closed-pipe-safe writer).
pub(crate) use crate::output::emit;

/// Pretty JSON of `v` with a trailing newline.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))
}

/// Runs the subcommand.
///
/// Host options given before `fleet` (`pptctl --root R fleet …`) are
/// accepted and ignored, so a shell alias that always sets them keeps
/// working; after `fleet` they are refused.
pub fn run(_global: &Global, args: FleetArgs) -> Result<ExitCode, CliError> {
    let mut db = args.open()?;
    match &args.command {
        FleetCommand::Ingest(a) => ingest::run(&mut db, a),
        FleetCommand::Hosts(a) => hosts::run(&mut db, a),
        FleetCommand::Devices(a) => inventory::devices(&mut db, a),
        FleetCommand::History(a) => inventory::history(&mut db, a),
        FleetCommand::Report(a) => report::run(&mut db, a),
        FleetCommand::Claim(a) => claim::claim(&mut db, a),
        FleetCommand::Release(a) => claim::release(&mut db, a),
        FleetCommand::Claims(a) => claim::list(&mut db, a),
        FleetCommand::Verify(a) => verify::run(&mut db, a),
    }
}
