//! `pptctl fleet history --host H` and `--device HOST:ADDR|HOST:PATH`: the
//! device event log the `fleet` crate keeps ([`fleet::history`]); this
//! renders it.

use std::process::ExitCode;

use fleet::time::parse_rfc3339;
use fleet::{DeviceRef, EventQuery, Fleet};
use pci_core::text::Escaped;

use super::{db_err, emit, json};
use crate::error::CliError;

/// The header of the text table.
const HEADER: &str = "TIME\tADDRESS\tEVENT\tDETAIL\tPATH\n";

/// The log of `host` (or of `device`, which names its host), up to `as_of`.
pub fn run(
    db: &mut Fleet,
    host: Option<&str>,
    device: Option<&str>,
    as_of: Option<&str>,
    as_json: bool,
) -> Result<ExitCode, CliError> {
    let as_of = match as_of {
        Some(t) => Some(parse_rfc3339(t).ok_or_else(|| {
            CliError::input(format!(
                "--as-of {}: not an RFC 3339 time (2026-11-30T00:00:00Z)",
                Escaped(t)
            ))
        })?),
        None => None,
    };
    let (host, device) = match (host, device) {
        (_, Some(d)) => {
            let (h, d) = DeviceRef::parse(d).map_err(|e| CliError::input(e.to_string()))?;
            (h, Some(d))
        }
        (Some(h), None) => (h.to_string(), None),
        (None, None) => return Err(CliError::input("--host or --device names what to show")),
    };
    let events = db
        .device_events(&EventQuery {
            host,
            device,
            as_of,
        })
        .map_err(db_err)?;
    let text = if as_json {
        json(&events)?
    } else {
        let mut s = String::from(HEADER);
        for e in &events {
            s.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                Escaped(&e.time),
                Escaped(&e.address),
                Escaped(&e.event),
                Escaped(e.detail.as_deref().unwrap_or("-")),
                Escaped(e.devfs_path.as_deref().unwrap_or("-"))
            ));
        }
        if events.is_empty() {
            eprintln!(
                "pptctl: no events recorded for that{}",
                if as_of.is_some() { " by then" } else { "" }
            );
        }
        s
    };
    emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
