//! `pptctl fleet ingest [--db DB] FILE|DIR…`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use fleet::{ingest_paths, FileOutcome, Fleet};
use pci_core::text::{Escaped, EscapedPath};

use super::db_err;
use crate::error::CliError;

/// Arguments of `pptctl fleet ingest`.
#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Snapshot files, or directories searched for *.json files.
    #[arg(value_name = "FILE|DIR", required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one line per file (stored / unchanged); refusals are always printed.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Stores every snapshot; exit 1 when any file was refused.
pub fn run(db: &mut Fleet, args: &IngestArgs) -> Result<ExitCode, CliError> {
    let verbose = args.verbose;
    // A fleet's worth of files takes a while: count them on a terminal.
    let mut progress = crate::progress::Progress::counter("snapshots ingested");
    let mut report = |path: &std::path::Path, o: &FileOutcome| {
        // Erase the progress line before any other text, so a line on
        // the same terminal does not start after it.
        match o {
            FileOutcome::Refused(e) => {
                progress.clear();
                eprintln!("pptctl: refused {}", pci_core::text::guard(&e.to_string()));
            }
            FileOutcome::Stored { host, id } if verbose => {
                progress.clear();
                println!(
                    "stored {} as snapshot {id} of {}",
                    EscapedPath(path),
                    Escaped(host)
                );
            }
            FileOutcome::Unchanged if verbose => {
                progress.clear();
                println!("unchanged {}", EscapedPath(path));
            }
            _ => {}
        }
        progress.step();
    };
    let sum = ingest_paths(db, &args.paths, &mut report).map_err(db_err)?;
    println!(
        "{} stored, {} unchanged, {} refused",
        sum.stored, sum.unchanged, sum.refused
    );
    Ok(if sum.refused > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
