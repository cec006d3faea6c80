//! `pptctl vm-json`: print a vmadm payload (`{"pci_devices": [...]}`, or
//! with `--update` `{"add_pci_devices": [...]}`) for functions, or check an
//! existing vmadm payload. Both judge with ppt-config `vmadm::judge`, the
//! function `check --vm` uses.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pci_core::text::{escape, guard, EscapedPath};
use pci_core::Function;
use ppt_config::selector;
use ppt_config::session::Session;
use ppt_config::vmadm::{self, Problem, Severity};

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl vm-json`.
#[derive(Args, Debug)]
pub struct VmJsonArgs {
    /// Functions: a slot as lspci -s (01:00.0, 01:00.*), IDs as lspci -d (10de:a65, 10de:, ::0300), an illumos path or /dev/pptN.
    #[arg(value_name = "SELECTOR", required_unless_present = "check")]
    pub selectors: Vec<String>,
    /// Guest bus (0-255); a bus other than 0 needs bhyve's MPtable off, so the payload then sets bhyve_extra_opts to -Y.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub bus: u8,
    /// First guest device (0-31); bus 0 devices 0, 3-6, 30, 31 belong to the brand. Default 8.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=31))]
    pub device: Option<u8>,
    /// Only the selected functions, not the other functions of their devices.
    #[arg(long)]
    pub single_function: bool,
    /// Print `{"add_pci_devices": [...]}` for `vmadm update` instead of `{"pci_devices": [...]}` for `vmadm create`.
    #[arg(long)]
    pub update: bool,
    /// Validate a vmadm create/update payload instead (exit 0 valid, 1 invalid, 2 unreadable).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["selectors", "bus", "device", "single_function", "update"])]
    pub check: Option<PathBuf>,
    /// With --check: print the problems as JSON.
    #[arg(long, requires = "check")]
    pub json: bool,
}

/// The payload's problems: on its own, and against the session's host
/// when it has a real device tree, with the session's next boot (the boot
/// media when given, else `--root`'s `/etc/ppt_aliases`; unknown on a
/// SmartOS root without its media).
fn judge(payload: &serde_json::Value, session: Option<&Session>) -> Result<Vec<Problem>, CliError> {
    let Some(session) = session else {
        return Ok(vmadm::judge(payload, None));
    };
    // Reading is harmless anywhere, so no SmartOS refusal here.
    let next = session.next_ppt();
    if let Some(e) = next.error() {
        return Err(CliError::input(e.to_string()));
    }
    Ok(vmadm::judge(payload, Some((session.host(), next))))
}

/// Runs the subcommand.
pub fn run(global: &Global, args: VmJsonArgs) -> Result<ExitCode, CliError> {
    match &args.check {
        Some(file) => check(global, &args, file.clone()),
        None => generate(global, &args),
    }
}

fn generate(global: &Global, args: &VmJsonArgs) -> Result<ExitCode, CliError> {
    let sels = selector::parse_all(&args.selectors).map_err(|e| CliError::input(e.to_string()))?;
    let session = global.open()?;
    let host = session.host();
    let selected = selector::resolve(host, &sels).map_err(|e| CliError::input(e.to_string()))?;
    let funcs: Vec<&Function> = host
        .functions
        .iter()
        .filter(|f| {
            selected.iter().any(|s| s.address == f.address)
                || (!args.single_function
                    && selected.iter().any(|s| s.address.same_device(&f.address)))
        })
        .collect();
    for f in &funcs {
        if !selected.iter().any(|s| s.address == f.address) {
            eprintln!(
                "pptctl: note: including {}, another function of the same device (--single-function to leave it out)",
                f.address
            );
        }
    }
    for f in &funcs {
        if f.illumos
            .as_ref()
            .is_some_and(pci_core::IllumosNode::is_predicted)
        {
            eprintln!(
                "pptctl: warning: {}: the path is predicted from the PCI topology, not read from the device tree; \
                 check it with `prtconf -v` on the host",
                f.address
            );
        }
    }
    let devices = vmadm::pci_devices(&funcs, args.bus, args.device)
        .map_err(|e| CliError::input(e.to_string()))?;
    let payload = vmadm::payload(&devices, args.update);
    if payload.get("bhyve_extra_opts").is_some() {
        eprintln!(
            "pptctl: note: bus {} needs bhyve's MPtable off: the payload sets bhyve_extra_opts to \"{}\"; \
             if the VM has bhyve_extra_opts of its own, add {} to them instead (vmadm replaces the whole string)",
            args.bus,
            vmadm::MPTABLE_OFF,
            vmadm::MPTABLE_OFF
        );
    }
    let json =
        serde_json::to_string_pretty(&payload).map_err(|e| CliError::failed(e.to_string()))?;
    let mut out = crate::output::stdout();
    let _ = writeln!(out, "{json}");
    // Say now what would break at VM start; an error is exit 1, as
    // `vm-json --check` on the printed payload would say.
    let problems = judge(&payload, host.has_devinfo_tree().then_some(&session))?;
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    for p in problems {
        eprintln!("pptctl: {p}");
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check(global: &Global, args: &VmJsonArgs, file: PathBuf) -> Result<ExitCode, CliError> {
    let shown = file.display().to_string();
    let bytes = crate::error::read_payload(&file)?;
    let payload: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::input(format!(
            "{}:{}:{}: not valid JSON: {}",
            EscapedPath(&file),
            e.line(),
            e.column(),
            escape(&e.to_string())
        ))
    })?;
    let problems = match global.open() {
        Ok(session) if session.host().has_devinfo_tree() => judge(&payload, Some(&session))?,
        Ok(_) => {
            eprintln!("pptctl: note: host checks skipped: the source has no illumos device tree (use --from devinfo:FILE or a snapshot taken on the host)");
            judge(&payload, None)?
        }
        Err(e) => {
            eprintln!("pptctl: note: host checks skipped: {}", guard(&e.message));
            judge(&payload, None)?
        }
    };
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    let mut out = crate::output::stdout();
    if args.json {
        let doc = serde_json::json!({
            "file": shown,
            "valid": errors == 0,
            "problems": problems,
        });
        let text =
            serde_json::to_string_pretty(&doc).map_err(|e| CliError::failed(e.to_string()))?;
        let _ = writeln!(out, "{text}");
    } else {
        for p in &problems {
            let _ = writeln!(out, "{p}");
        }
        if errors == 0 {
            let _ = writeln!(out, "{}: valid ({warnings} warning(s))", EscapedPath(&file));
        } else {
            let _ = writeln!(
                out,
                "{}: invalid: {errors} error(s), {warnings} warning(s)",
                EscapedPath(&file)
            );
        }
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
