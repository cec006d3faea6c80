//! `pptctl fleet verify`: every host's latest snapshot against the
//! next-boot prediction of its previous one (`pptctl diff --expect` for
//! the whole fleet). The `fleet` crate compares; this renders.

use std::process::ExitCode;

use clap::Args;
use fleet::{Fleet, HostCheck, HostVerification};
use pci_core::text::Escaped;

use super::{db_err, emit, json};
use crate::error::CliError;

/// Arguments of `pptctl fleet verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Only this host.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One host as text: a status line, then a line per binding that did not hold.
fn host_text(v: &HostVerification, s: &mut String) {
    let span = format!(
        "{} -> {}",
        Escaped(v.before.as_deref().unwrap_or("-")),
        Escaped(&v.after)
    );
    match &v.check {
        HostCheck::NotJudged { why } => {
            s.push_str(&format!(
                "{}\tnot judged: {why}\t{span}\n",
                Escaped(&v.host)
            ));
        }
        HostCheck::Held { predictions } => s.push_str(&format!(
            "{}\theld: {} predicted binding{}\t{span}\n",
            Escaped(&v.host),
            predictions.len(),
            if predictions.len() == 1 { "" } else { "s" }
        )),
        HostCheck::Broken { predictions } => {
            let broken = predictions.iter().filter(|e| !e.held).count();
            s.push_str(&format!(
                "{}\tBROKEN: {broken} of {} predicted binding{}\t{span}\n",
                Escaped(&v.host),
                predictions.len(),
                if predictions.len() == 1 { "" } else { "s" }
            ));
            for e in predictions.iter().filter(|e| !e.held) {
                s.push_str(&format!(
                    "  {} {} {}: {}: expected {}, found {}\n",
                    Escaped(&e.address),
                    Escaped(&e.ids),
                    Escaped(e.devfs_path.as_deref().unwrap_or("-")),
                    e.outcome.as_str(),
                    Escaped(&e.expected),
                    Escaped(&e.found)
                ));
            }
        }
    }
}

/// Exit 0 when no host broke its prediction, 1 when one did.
pub fn run(db: &mut Fleet, args: &VerifyArgs) -> Result<ExitCode, CliError> {
    let list = db.verify_reboots(args.host.as_deref()).map_err(db_err)?;
    let text = if args.json {
        json(&list)?
    } else {
        let mut s = String::new();
        for v in &list {
            host_text(v, &mut s);
        }
        let count = |f: fn(&HostCheck) -> bool| list.iter().filter(|v| f(&v.check)).count();
        s.push_str(&format!(
            "{} held, {} broken, {} not judged\n",
            count(|c| matches!(c, HostCheck::Held { .. })),
            count(|c| matches!(c, HostCheck::Broken { .. })),
            count(|c| matches!(c, HostCheck::NotJudged { .. }))
        ));
        s
    };
    emit(&text)?;
    Ok(if list.iter().any(HostVerification::broken) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
