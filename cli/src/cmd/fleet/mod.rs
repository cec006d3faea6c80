//! `pptctl fleet …`: many hosts' snapshots in one database (SQLite file by
//! default, PostgreSQL with a `postgres://` URL). All knowledge is in the
//! `fleet` crate; this module parses arguments and renders.

mod hosts;
mod ingest;
mod inventory;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use fleet::{Fleet, FleetError};

use crate::error::CliError;
use crate::global::Global;

/// The database used when neither `--db` nor `PPTCTL_DB` names one.
pub const DEFAULT_DB: &str = "./pptctl-fleet.db";

/// Arguments of `pptctl fleet`.
#[derive(Args, Debug)]
pub struct FleetArgs {
    /// The fleet database: a SQLite file (created if absent) or a
    /// postgres://user@host/db URL. Default: $PPTCTL_DB, else ./pptctl-fleet.db.
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

/// Writes `text` to stdout; a closed pipe is not an error.
pub(crate) fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::failed(format!("cannot write the output: {e}"))),
    }
}

/// Pretty JSON of `v` with a trailing newline.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, CliError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))
}

/// Runs the subcommand.
pub fn run(_global: &Global, args: FleetArgs) -> Result<ExitCode, CliError> {
    let mut db = args.open()?;
    match &args.command {
        FleetCommand::Ingest(a) => ingest::run(&mut db, a),
        FleetCommand::Hosts(a) => hosts::run(&mut db, a),
        FleetCommand::Devices(a) => inventory::devices(&mut db, a),
        FleetCommand::History(a) => inventory::history(&mut db, a),
        FleetCommand::Report(a) => report(&mut db, a),
    }
}

/// `pptctl fleet report --html FILE`: every host at its latest snapshot.
fn report(db: &mut Fleet, args: &crate::cmd::report::ReportArgs) -> Result<ExitCode, CliError> {
    use crate::cmd::report::{render, write_page, HostView};
    let mut views = Vec::new();
    for l in db.latest_snapshots().map_err(db_err)? {
        let functions = db.snapshot_functions(l.id).map_err(db_err)?;
        views.push(HostView {
            name: l.host,
            time: l.time,
            host_verdict: l.host_verdict,
            host_reason: l.host_reason,
            functions,
        });
    }
    write_page(&args.html, &render("pptctl fleet report", &views))?;
    Ok(ExitCode::SUCCESS)
}
