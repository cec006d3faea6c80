//! `pptctl show`: decode PCI functions; with `-n` byte-identical to
//! `lspci -n` (pciutils 3.9.0) on the same input (README.md).

mod hex;
mod json;
mod names;
mod terse;
mod verbose;

use std::process::ExitCode;

use clap::{ArgAction, Args};
use pci_core::names::PciNames;
use pci_core::sources::filter::{IdFilter, SlotFilter};
use pci_core::{Function, Host};
use ppt_config::selector;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl show`.
#[derive(Args, Debug, Default)]
pub struct ShowArgs {
    /// Show only functions in this slot: [[[[DOMAIN]:]BUS]:][DEV][.[FUNC]] (as lspci -s), or the function of an illumos path or /dev/pptN.
    #[arg(short = 's', value_name = "SLOT", allow_hyphen_values = false)]
    pub slot: Option<String>,
    /// Show only functions with these IDs: [VENDOR]:[DEVICE][:CLASS[:PROGIF]] (as lspci -d).
    #[arg(short = 'd', value_name = "IDS")]
    pub ids: Option<String>,
    /// Numeric IDs instead of names; twice (-nn) for both.
    #[arg(short = 'n', action = ArgAction::Count)]
    pub numeric: u8,
    /// Always show PCI domain numbers.
    #[arg(short = 'D')]
    pub domains: bool,
    /// Decode config space: -v, -vv, -vvv for more detail.
    #[arg(short = 'v', action = ArgAction::Count)]
    pub verbose: u8,
    /// Hex dump of config space: -x (64 bytes), -xxx (256), -xxxx (4096).
    #[arg(short = 'x', action = ArgAction::Count)]
    pub hex: u8,
    /// One JSON document with every function's facts.
    #[arg(long)]
    pub json: bool,
}

/// How names are shown (lspci's -n levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// Names from pci.ids (no -n).
    Names,
    /// Numbers only (-n).
    Numeric,
    /// Names and numbers (-nn).
    Both,
}

/// Runs the subcommand.
pub fn run(global: &Global, args: ShowArgs) -> Result<ExitCode, CliError> {
    // Parse the filters before reading anything: a bad -s is a usage error
    // whatever the source holds (lspci dies with "-s: <reason>").
    // `-s` also takes the selectors lspci has no syntax for (an illumos
    // path, /dev/pptN): text starting with `/`, which lspci rejects.
    let by_path = match args.slot.as_deref() {
        Some(t) if t.starts_with('/') => Some(
            t.parse::<selector::Selector>()
                .map_err(|e| CliError::input(format!("-s: {e}")))?,
        ),
        _ => None,
    };
    let mut slot = args
        .slot
        .as_deref()
        .filter(|_| by_path.is_none())
        .map(SlotFilter::parse)
        .transpose()
        .map_err(|e| CliError::input(format!("-s: {e}")))?;
    let ids = args
        .ids
        .as_deref()
        .map(IdFilter::parse)
        .transpose()
        .map_err(|e| CliError::input(format!("-d: {e}")))?;
    // A listing (names or numbers, optional -x) needs only identity and
    // the 64-byte header; -v, -xxx and --json need all config bytes and
    // OS facts (driver, BAR sizes, ...).
    let host = if args.verbose == 0 && !args.json && args.hex <= 1 {
        global.load_host_identity()?
    } else {
        global.load_host()?
    };
    if let Some(sel) = &by_path {
        let found = selector::resolve(&host, std::slice::from_ref(sel))
            .map_err(|e| CliError::input(format!("-s: {e}")))?;
        slot = found.first().map(|f| SlotFilter {
            domain: Some(f.address.domain),
            bus: Some(u32::from(f.address.bus)),
            device: Some(u32::from(f.address.device)),
            function: Some(u32::from(f.address.function)),
        });
    }
    let out = render(&host, &args, slot.as_ref(), ids.as_ref());
    crate::output::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The selected functions, in host (lspci) order.
pub fn select<'h>(
    host: &'h Host,
    slot: Option<&SlotFilter>,
    ids: Option<&IdFilter>,
) -> Vec<&'h Function> {
    host.functions
        .iter()
        .filter(|f| slot.is_none_or(|s| s.matches(&f.address)))
        .filter(|f| ids.is_none_or(|i| i.matches(&f.ids)))
        .collect()
}

/// The whole output as text.
pub fn render(
    host: &Host,
    args: &ShowArgs,
    slot: Option<&SlotFilter>,
    ids: Option<&IdFilter>,
) -> String {
    let selected = select(host, slot, ids);
    if args.json {
        return json::render(&selected);
    }
    // lspci shows domains with -D, and on its own as soon as any function
    // it scanned (before filtering) has a domain other than 0.
    let domains = args.domains || host.functions.iter().any(|f| f.address.domain != 0);
    let naming = match args.numeric {
        0 => Naming::Names,
        1 => Naming::Numeric,
        _ => Naming::Both,
    };
    // pci.ids is read only when a name will be printed.
    let names = (naming != Naming::Numeric && !selected.is_empty()).then(PciNames::load);
    let mut out = String::new();
    for f in selected {
        terse::line(
            &mut out,
            f,
            domains,
            naming,
            names.as_ref(),
            args.verbose > 0,
        );
        if args.verbose > 0 {
            verbose::details(&mut out, f, args.verbose, naming, names.as_ref());
        }
        if args.hex > 0 {
            hex::dump(&mut out, f, args.hex);
        }
        if args.verbose > 0 || args.hex > 0 {
            out.push('\n');
        }
    }
    out
}
