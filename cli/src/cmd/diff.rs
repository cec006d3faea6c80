//! `pptctl diff OLD NEW`: what changed between two snapshots of one host,
//! function by function; `pptctl diff --expect BEFORE AFTER`: did every
//! binding to ppt that BEFORE predicted for the next boot hold in AFTER
//! (exit 1 naming each that did not). The `fleet` crate derives and
//! compares; this renders.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use fleet::diff::diff_functions;
use fleet::SnapshotRecord;
use pci_core::text::{escape, Escaped, EscapedPath};

use crate::cmd::fleet::{emit, json};
use crate::error::CliError;

/// Arguments of `pptctl diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The older snapshot.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The newer snapshot.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Verify the next-boot predictions of OLD (taken before a reboot,
    /// with its boot media) against NEW (taken after it).
    #[arg(long)]
    pub expect: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One snapshot, read and derived as `fleet ingest` does; a file that
/// cannot be read or is not a snapshot is bad input (exit 2).
fn load(path: &Path) -> Result<SnapshotRecord, CliError> {
    fleet::derive::load(path).map_err(|e| match e {
        fleet::FleetError::BadSnapshot { message, .. } => {
            CliError::input(format!("{}: {}", EscapedPath(path), escape(&message)))
        }
        other => CliError::input(escape(&other.to_string())),
    })
}

/// Prints the changes; exit 0 (also when there are changes).
pub fn run(args: DiffArgs) -> Result<ExitCode, CliError> {
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    if args.expect {
        return expect(&args, &old, &new);
    }
    let changes = diff_functions(&old.functions, &new.functions);
    let text = if args.json {
        json(&changes)?
    } else {
        let mut s = String::new();
        if old.host != new.host {
            s.push_str(&format!(
                "note: host names differ: {} / {}\n",
                Escaped(&old.host),
                Escaped(&new.host)
            ));
        }
        for c in &changes {
            s.push_str(&format!("{c}\n"));
        }
        if changes.is_empty() {
            s.push_str("no change\n");
        }
        s
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `--expect`: exit 0 when every predicted ppt binding held, 1 otherwise.
fn expect(
    args: &DiffArgs,
    old: &SnapshotRecord,
    new: &SnapshotRecord,
) -> Result<ExitCode, CliError> {
    let Some(list) = fleet::diff::expect(&old.functions, &new.functions) else {
        return Err(CliError::input(format!(
            "{}: records no next-boot prediction (a format 1 snapshot, or taken without the boot media): nothing to expect",
            EscapedPath(&args.old)
        )));
    };
    let text = if args.json {
        json(&list)?
    } else {
        let mut s = String::new();
        for e in &list {
            s.push_str(&format!(
                "{} {} {}: expected {}, found {}\n",
                if e.held { "held  " } else { "BROKEN" },
                Escaped(&e.address),
                Escaped(&e.ids),
                Escaped(&e.expected),
                Escaped(&e.found)
            ));
        }
        let broken = list.iter().filter(|e| !e.held).count();
        s.push_str(&format!(
            "{} of {} predicted binding{} held\n",
            list.len() - broken,
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        ));
        s
    };
    emit(&text)?;
    Ok(if list.iter().all(|e| e.held) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
