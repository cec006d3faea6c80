//! `pptctl fleet hosts [--can-pass SELECTOR] [--count N] [--explain HOST] [--json]`.

use std::process::ExitCode;

use clap::Args;
use fleet::{DeviceSelector, Fleet};
use pci_core::text::Escaped;

use super::{db_err, emit, json};
use crate::error::CliError;

/// Arguments of `pptctl fleet hosts`.
#[derive(Args, Debug)]
pub struct HostsArgs {
    /// Devices wanted, lspci -d grammar: [VENDOR]:[DEVICE][:CLASS[:PROGIF]]
    /// (10de:, 10de:2204, ::0302). Default: any device.
    #[arg(long, value_name = "SELECTOR")]
    pub can_pass: Option<String>,
    /// How many such devices the guest needs.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u32,
    /// Say why HOST qualifies or the first reason it does not.
    #[arg(long, value_name = "HOST")]
    pub explain: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub place: super::place::PlaceArgs,
}

/// The `--explain` text: the verdict, each matching device, the snapshot.
fn explanation_text(e: &fleet::Explanation, sel: &DeviceSelector) -> String {
    let mut s = format!(
        "{}: {} ({} x {}): {}\n",
        Escaped(&e.host),
        if e.qualifies {
            "qualifies"
        } else {
            "does not qualify"
        },
        e.count,
        Escaped(sel.text()),
        Escaped(&e.why)
    );
    for d in &e.devices {
        let state = match (d.passes, d.in_vm) {
            (_, Some(true)) => "used by a VM".to_string(),
            (true, _) if d.claimed_by.is_some() => format!(
                "passes, claimed by {}",
                Escaped(d.claimed_by.as_deref().unwrap_or_default())
            ),
            (true, _) => "passes".to_string(),
            (false, _) => format!("fails: {}", Escaped(d.reason.as_deref().unwrap_or("-"))),
        };
        s.push_str(&format!(
            "  {} {} {state}\n",
            Escaped(&d.device),
            Escaped(&d.ids)
        ));
    }
    s.push_str(&format!(
        "  snapshot {}; VM use {}\n",
        Escaped(&e.snapshot_time),
        if e.vms_known { "recorded" } else { "unknown" }
    ));
    s
}

/// The header of the host table.
const HEADER: &str = "HOST\tDEVICES\tADDRESSES\n";

/// The host table: a header, then one line per host (tab-separated: name,
/// matching devices that pass, their addresses, whether VM use is known).
fn table(hosts: &[fleet::HostMatch]) -> String {
    let mut s = String::from(HEADER);
    for h in hosts {
        s.push_str(&format!(
            "{}\t{}\t{}{}\n",
            Escaped(&h.host),
            h.passable,
            Escaped(&h.devices.join(",")),
            if h.vms_known {
                ""
            } else {
                "\t(VM use unknown)"
            }
        ));
    }
    s
}

/// Lists qualifying hosts (exit 0, also when none: then it says so on
/// stderr) or explains one host (exit 1 when it does not qualify).
pub fn run(db: &mut Fleet, args: &HostsArgs) -> Result<ExitCode, CliError> {
    if args.place.any() && args.explain.is_none() {
        let sel = args.can_pass.as_deref();
        return super::place::run(db, sel, args.count, args.json, &args.place);
    }
    let sel = match &args.can_pass {
        Some(s) => DeviceSelector::parse(s).map_err(db_err)?,
        None => DeviceSelector::any(),
    };
    let count = i64::from(args.count.max(1));
    if let Some(host) = &args.explain {
        let e = db.explain(host, &sel, count).map_err(db_err)?;
        let text = if args.json {
            json(&e)?
        } else {
            explanation_text(&e, &sel)
        };
        emit(&text)?;
        return Ok(if e.qualifies {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let hosts = db.hosts(&sel, count).map_err(db_err)?;
    if args.json {
        emit(&json(&hosts)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    emit(&table(&hosts))?;
    if hosts.is_empty() {
        eprintln!(
            "pptctl: no host can give {count} device{} matching {} (--explain HOST says why one cannot)",
            if count == 1 { "" } else { "s" },
            sel.text()
        );
    }
    Ok(ExitCode::SUCCESS)
}
