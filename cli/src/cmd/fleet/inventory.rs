//! `pptctl fleet devices` and `pptctl fleet history HOST` (the device
//! event log of `--host`/`--device` is rendered by `events`).

use std::process::ExitCode;

use clap::{ArgGroup, Args};
use fleet::diff::diff_functions;
use fleet::Fleet;
use pci_core::text::Escaped;
use serde::Serialize;

use super::{db_err, emit, json};
use crate::error::CliError;

/// Arguments of `pptctl fleet devices`.
#[derive(Args, Debug)]
pub struct DevicesArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `pptctl fleet history`: `HOST` (its snapshots), or
/// `--host`/`--device` (the device event log).
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["host", "events_host", "device"])))]
pub struct HistoryArgs {
    /// The host: its snapshots by time and what changed between them.
    #[arg(value_name = "HOST")]
    pub host: Option<String>,
    /// The host's device event log (every device).
    #[arg(long = "host", value_name = "HOST")]
    pub events_host: Option<String>,
    /// One device's event log: HOST:DDDD:BB:DD.F, HOST:BB:DD.F or
    /// HOST:/devfs/path.
    #[arg(long, value_name = "HOST:ADDR|HOST:PATH")]
    pub device: Option<String>,
    /// With --host or --device: the log up to TIME (RFC 3339), as it
    /// stood then.
    #[arg(long, value_name = "TIME", conflicts_with = "host")]
    pub as_of: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Every vendor:device with host, passable, reserved and ppt counts.
pub fn devices(db: &mut Fleet, args: &DevicesArgs) -> Result<ExitCode, CliError> {
    let list = db.devices().map_err(db_err)?;
    let text = if args.json {
        json(&list)?
    } else {
        let mut s = String::from("IDS        HOSTS  FUNCS  PASS  RESERVED  PPT  NAME\n");
        for d in &list {
            let reserved = if d.reserved_known == 0 {
                "unknown".to_string()
            } else {
                d.reserved.to_string()
            };
            s.push_str(&format!(
                "{}  {:>5}  {:>5}  {:>4}  {:>8}  {:>3}  {} {}\n",
                Escaped(&d.ids),
                d.hosts,
                d.functions,
                d.passable,
                reserved,
                d.ppt_now,
                Escaped(d.vendor_name.as_deref().unwrap_or("?")),
                Escaped(d.device_name.as_deref().unwrap_or(""))
            ));
        }
        s
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct HistoryItem {
    #[serde(flatten)]
    entry: fleet::HistoryEntry,
    changes: Vec<fleet::diff::Change>,
}

/// What a history line adds after the file: where the time came from,
/// which snapshot is the latest and equal times.
fn history_notes(e: &fleet::HistoryEntry) -> String {
    let mut s = String::new();
    if e.time_source == "file-mtime" {
        s.push_str("  (time from file mtime)");
    }
    if let Some(other) = e.same_time_as {
        s.push_str(&format!(
            "  (same time as snapshot {other}: ingested later, so counts as newer)"
        ));
    }
    if e.latest {
        s.push_str("  (latest)");
    }
    s
}

/// The history as text: a line per snapshot, then its changes.
fn history_text(items: &[HistoryItem]) -> String {
    let mut s = String::new();
    for (i, it) in items.iter().enumerate() {
        s.push_str(&format!(
            "{} {} functions  {}  {}{}\n",
            Escaped(&it.entry.time),
            it.entry.functions,
            Escaped(it.entry.sha256.get(..12).unwrap_or(&it.entry.sha256)),
            Escaped(&it.entry.file),
            history_notes(&it.entry)
        ));
        if i > 0 && it.changes.is_empty() {
            s.push_str("  no change\n");
        }
        for c in &it.changes {
            s.push_str(&format!("  {c}\n"));
        }
    }
    s
}

/// The host's snapshots and the changes from each to the next. The latest
/// (what placement reads) is the newest by time, of equal times the one
/// ingested last; it is marked `(latest)`.
pub fn history(db: &mut Fleet, args: &HistoryArgs) -> Result<ExitCode, CliError> {
    let Some(host) = &args.host else {
        return super::events::run(
            db,
            args.events_host.as_deref(),
            args.device.as_deref(),
            args.as_of.as_deref(),
            args.json,
        );
    };
    let entries = db.history(host).map_err(db_err)?;
    let mut items = Vec::with_capacity(entries.len());
    let mut prev: Option<Vec<fleet::FunctionRow>> = None;
    for e in entries {
        let rows = db.snapshot_functions(e.id).map_err(db_err)?;
        let changes = match &prev {
            Some(p) => diff_functions(p, &rows),
            None => Vec::new(),
        };
        prev = Some(rows);
        items.push(HistoryItem { entry: e, changes });
    }
    let text = if args.json {
        json(&items)?
    } else {
        history_text(&items)
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
