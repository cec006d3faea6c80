//! `pptctl fleet ingest [--follow] [--max-future-skew DUR] FILE|DIR|-…`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use fleet::ingest::DEFAULT_MAX_FUTURE_SKEW;
use fleet::{ingest_paths, FileOutcome, Fleet, IngestOptions, IngestSummary};
use pci_core::text::{Escaped, EscapedPath};

use super::db_err;
use crate::error::CliError;

/// Arguments of `pptctl fleet ingest`.
#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Snapshot files, directories searched for *.json files, or - for one
    /// snapshot on standard input.
    #[arg(value_name = "FILE|DIR|-", required = true)]
    pub paths: Vec<PathBuf>,
    /// Print one line per file (stored / unchanged); refusals are always printed.
    #[arg(short, long)]
    pub verbose: bool,
    /// Follow symbolic links met inside a directory, to places inside it
    /// (each directory once). Without it they are reported and skipped.
    #[arg(long)]
    pub follow: bool,
    /// Refuse a snapshot dated more than this ahead of this host's clock
    /// (N seconds, or Ns, Nm, Nh, Nd, Nw). Default: 5m.
    #[arg(long, value_name = "DUR", value_parser = parse_skew)]
    pub max_future_skew: Option<i64>,
}

fn parse_skew(s: &str) -> Result<i64, String> {
    fleet::time::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration: {}", fleet::time::DURATION_GRAMMAR))
}

/// Prints what happened to one file: refusals, skips and equal times on
/// stderr always, stored and unchanged files on stdout with `--verbose`.
fn report_one(path: &Path, o: &FileOutcome, verbose: bool) {
    match o {
        FileOutcome::Refused(e) => {
            eprintln!("pptctl: refused {}", pci_core::text::guard(&e.to_string()));
        }
        FileOutcome::Skipped(why) => {
            eprintln!("pptctl: skipped {}: {}", EscapedPath(path), Escaped(why))
        }
        FileOutcome::Stored {
            host,
            id,
            same_time_as,
        } => {
            if let Some(other) = same_time_as {
                eprintln!(
                    "pptctl: warning: {}: snapshot {id} of {} has the same time as snapshot \
                     {other}, with other content; the later ingest ({id}) counts as the latest",
                    EscapedPath(path),
                    Escaped(host)
                );
            }
            if verbose {
                println!(
                    "stored {} as snapshot {id} of {}",
                    EscapedPath(path),
                    Escaped(host)
                );
            }
        }
        FileOutcome::Unchanged if verbose => println!("unchanged {}", EscapedPath(path)),
        FileOutcome::Unchanged => {}
    }
}

/// The closing line: counts, with skipped entries when there were any.
fn summary(sum: &IngestSummary) -> String {
    let mut s = format!(
        "{} stored, {} unchanged, {} refused",
        sum.stored, sum.unchanged, sum.refused
    );
    if sum.skipped > 0 {
        s.push_str(&format!(", {} skipped", sum.skipped));
    }
    s
}

/// Stores every snapshot; exit 1 when any file was refused.
pub fn run(db: &mut Fleet, args: &IngestArgs) -> Result<ExitCode, CliError> {
    let verbose = args.verbose;
    // A fleet's worth of files takes a while: count them on a terminal.
    let mut progress = crate::progress::Progress::counter("snapshots ingested");
    let mut report = |path: &Path, o: &FileOutcome| {
        // Erase the progress line before any other text, so a line on
        // the same terminal does not start after it.
        let prints = verbose
            || matches!(
                o,
                FileOutcome::Refused(_)
                    | FileOutcome::Skipped(_)
                    | FileOutcome::Stored {
                        same_time_as: Some(_),
                        ..
                    }
            );
        if prints {
            progress.clear();
        }
        report_one(path, o, verbose);
        progress.step();
    };
    let opts = IngestOptions {
        follow: args.follow,
        max_future_skew: args.max_future_skew.unwrap_or(DEFAULT_MAX_FUTURE_SKEW),
        ..IngestOptions::default()
    };
    let sum = ingest_paths(db, &args.paths, &opts, &mut report).map_err(db_err)?;
    println!("{}", summary(&sum));
    Ok(if sum.refused > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
