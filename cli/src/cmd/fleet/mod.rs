//! `pptctl fleet …`: many hosts' snapshots in one database (SQLite file by
//! default, PostgreSQL with a `postgres://` URL). All knowledge is in the
//! `fleet` crate; this module parses arguments and renders.

mod claim;
mod hosts;
mod ingest;
mod inventory;
mod place;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use fleet::{Fleet, FleetError};

use crate::error::CliError;
use crate::global::Global;
use crate::progress::Progress;

/// The database used when neither `--db` nor `PPTCTL_DB` names one.
pub const DEFAULT_DB: &str = "./pptctl-fleet.db";

/// Arguments of `pptctl fleet`.
#[derive(Args, Debug)]
pub struct FleetArgs {
    /// The fleet database: a SQLite file (created if absent) or a
    /// postgres://user@host/db URL. Default: $PPTCTL_DB, else ./pptctl-fleet.db.
    /// Each kind needs a pptctl built with its cargo feature (sqlite,
    /// postgres); `pptctl --version` names those built in.
    #[arg(long, value_name = "DB", global = true)]
    pub db: Option<String>,
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Subcommand, Debug)]
enum FleetCommand {
    /// Store snapshot files (and *.json files under directories).
    Ingest(ingest::IngestArgs),
    /// Hosts that can give a guest N passable devices matching a selector.
    Hosts(hosts::HostsArgs),
    /// Every vendor:device in the fleet with counts.
    Devices(inventory::DevicesArgs),
    /// A host's snapshots, oldest first, and what changed between them.
    History(inventory::HistoryArgs),
    /// A self-contained HTML page: fleet table and each host's topology.
    Report(crate::cmd::report::ReportArgs),
    /// Claim N whole devices of one host for a holder, atomically.
    Claim(claim::ClaimArgs),
    /// Release a claim (or every claim of a holder).
    Release(claim::ReleaseArgs),
    /// The live claims, with their expiry.
    Claims(claim::ClaimsArgs),
}

impl FleetArgs {
    /// The database spec: `--db`, else `PPTCTL_DB`, else [`DEFAULT_DB`].
    fn db_spec(&self) -> String {
        self.db
            .clone()
            .or_else(|| std::env::var("PPTCTL_DB").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_DB.to_string())
    }

    fn open(&self) -> Result<Fleet, CliError> {
        Fleet::open(&self.db_spec()).map_err(db_err)
    }
}

/// A database error: the result would be wrong, exit 1.
pub(crate) fn db_err(e: FleetError) -> CliError {
    match e {
        FleetError::Selector { .. } | FleetError::NoHost(_) => CliError::input(e.to_string()),
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
pub fn run(_global: &Global, args: FleetArgs) -> Result<ExitCode, CliError> {
    if matches!(
        args.command,
        FleetCommand::Claim(_) | FleetCommand::Release(_) | FleetCommand::Claims(_)
    ) {
        claim::require_db(&args.db_spec())?;
    }
    let mut db = args.open()?;
    match &args.command {
        FleetCommand::Ingest(a) => ingest::run(&mut db, a),
        FleetCommand::Hosts(a) => hosts::run(&mut db, a),
        FleetCommand::Devices(a) => inventory::devices(&mut db, a),
        FleetCommand::History(a) => inventory::history(&mut db, a),
        FleetCommand::Report(a) => report(&mut db, a),
        FleetCommand::Claim(a) => claim::claim(&mut db, a),
        FleetCommand::Release(a) => claim::release(&mut db, a),
        FleetCommand::Claims(a) => claim::list(&mut db, a),
    }
}

/// `pptctl fleet report --html FILE`: every host at its latest snapshot.
fn report(db: &mut Fleet, args: &crate::cmd::report::ReportArgs) -> Result<ExitCode, CliError> {
    use crate::cmd::report::{render_to, write_page, HostRow, HostView, Names};
    // Two passes over the latest snapshots: the table first (one small
    // row per host), then each host's section, reading its functions
    // again, so memory holds one host's functions, not the fleet's.
    let latest = db.latest_snapshots().map_err(db_err)?;
    let view = |db: &mut Fleet, l: &fleet::LatestSnapshot| -> Result<HostView, CliError> {
        Ok(HostView {
            name: l.host.clone(),
            time: l.time.clone(),
            host_verdict: l.host_verdict.clone(),
            host_reason: l.host_reason.clone(),
            functions: db.snapshot_functions(l.id).map_err(db_err)?,
        })
    };
    let mut rows = Vec::with_capacity(latest.len());
    let mut names = Names::default();
    let mut progress = Progress::new("reading hosts", latest.len() as u64);
    for l in &latest {
        let v = view(db, l)?;
        rows.push(HostRow::of(&v));
        names.add(&v);
        progress.step();
    }
    drop(progress);
    let mut progress = Progress::new("writing host sections", latest.len() as u64);
    write_page(&args.html, |out| {
        let hosts = latest.iter().map(|l| {
            progress.step();
            view(db, l)
        });
        render_to(out, "pptctl fleet report", &rows, &names, hosts)
    })?;
    Ok(ExitCode::SUCCESS)
}
