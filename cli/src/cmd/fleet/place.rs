//! `pptctl fleet hosts` with `--why-not`, `--max-age`, `--as-of`, `--same`
//! or `--spread`: placement that names the reason for every host left out
//! (`fleet::placement`); this module parses and renders.

use std::process::ExitCode;

use clap::Args;
use fleet::{DeviceSelector, Fleet, PlaceQuery};

use super::claim::{claim_err, TopologyArgs};
use super::{db_err, emit, json};
use crate::error::CliError;

/// The options of `fleet hosts` that take this path.
#[derive(Args, Debug, Clone, Default)]
pub struct PlaceArgs {
    /// List every host left out too, with a reason code: no-match,
    /// not-passable, in-use, claimed, stale, constraint.
    #[arg(long)]
    pub why_not: bool,
    /// Snapshots older than this (90s, 30m, 2h, 7d, 1w) are left out as stale.
    #[arg(long, value_name = "DUR")]
    pub max_age: Option<String>,
    /// Judge the fleet as it stood at TIME (RFC 3339): each host's newest
    /// snapshot at or before it, and the claims live then.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub topology: TopologyArgs,
}

impl PlaceArgs {
    /// Whether any of these options was given.
    pub fn any(&self) -> bool {
        self.why_not
            || self.max_age.is_some()
            || self.as_of.is_some()
            || self.topology.same.is_some()
            || self.topology.spread.is_some()
    }
}

/// Hosts that qualify (exit 0, also when none), with `--why-not` the ones
/// left out and why.
pub fn run(
    db: &mut Fleet,
    can_pass: Option<&str>,
    count: u32,
    want_json: bool,
    args: &PlaceArgs,
) -> Result<ExitCode, CliError> {
    let sel = match can_pass {
        Some(s) => DeviceSelector::parse(s).map_err(db_err)?,
        None => DeviceSelector::any(),
    };
    let max_age = args
        .max_age
        .as_deref()
        .map(|t| {
            fleet::time::parse_duration(t).ok_or_else(|| {
                CliError::input(format!(
                    "--max-age {t}: not a duration: {}",
                    fleet::time::DURATION_GRAMMAR
                ))
            })
        })
        .transpose()?;
    let as_of = args
        .as_of
        .as_deref()
        .map(|t| {
            fleet::time::parse_rfc3339(t)
                .ok_or_else(|| CliError::input(format!("--as-of {t}: not an RFC 3339 time")))
        })
        .transpose()?;
    let q = PlaceQuery {
        selector: &sel,
        count: i64::from(count.max(1)),
        constraint: args.topology.constraint(),
        max_age,
        as_of,
    };
    let mut a = db.place(&q).map_err(claim_err)?;
    if !args.why_not {
        a.left_out.clear();
    }
    emit(&if want_json { json(&a)? } else { text(&a) })?;
    Ok(ExitCode::SUCCESS)
}

fn text(a: &fleet::PlaceAnswer) -> String {
    let mut s = String::new();
    for h in &a.hosts {
        let ids: Vec<&str> = h.pick.iter().map(|d| d.pci_bus_id.as_str()).collect();
        s.push_str(&format!(
            "{}\t{}\t{}{}\n",
            h.host,
            h.free,
            ids.join(","),
            if h.vms_known {
                ""
            } else {
                "\t(VM use unknown)"
            }
        ));
    }
    for l in &a.left_out {
        s.push_str(&format!("{}\t-\t{}: {}\n", l.host, l.reason, l.detail));
    }
    s
}
