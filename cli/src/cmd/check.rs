//! `pptctl check [SELECTOR…] [--vm FILE…] [--json]`: pass-through viability
//! per function, for the host, and for the pending configuration.
//!
//! Exit codes (README.md): 0 when nothing fails, 1 when something
//! fails, 2 on usage or input errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pci_core::names::PciNames;
use pci_core::text::{escape, Escaped, EscapedPath};
use ppt_config::selector;
use ppt_config::session;
use ppt_config::viability::pending::VmPlan;
use ppt_config::viability::{Reason, Report, Severity, Verdict};

use crate::error::CliError;
use crate::global::{session_error, Global};

/// Arguments of `pptctl check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Functions to check: a slot as lspci -s (01:00.0, 01:00.*), IDs as
    /// lspci -d (10de:a65, 10de:, ::0300), an illumos path or /dev/pptN.
    /// Default: every function a user could pass through.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// Without SELECTORs: also judge host bridges, root ports and other
    /// infrastructure, which may never be passed through.
    #[arg(long, conflicts_with = "selectors")]
    pub all: bool,
    /// vmadm payloads (JSON) whose pci_devices must be on ppt after the next boot.
    #[arg(long = "vm", value_name = "FILE", num_args = 1..)]
    pub vm: Vec<PathBuf>,
    /// Print the report as one JSON document.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Print nothing on stdout; the exit code alone says whether anything fails.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Runs the subcommand.
pub fn run(global: &Global, args: CheckArgs) -> Result<ExitCode, CliError> {
    let sels = selector::parse_all(&args.selectors).map_err(|e| CliError::input(e.to_string()))?;
    let mut session = global.open()?;
    for w in session.add_illumos_facts() {
        crate::output::warn(w);
    }
    // Selectors are resolved before anything else is read, so a typo is
    // reported first.
    selector::resolve(session.host(), &sels).map_err(|e| CliError::input(e.to_string()))?;
    let mut vms = Vec::new();
    for file in &args.vm {
        vms.push(read_vm(file)?);
    }
    let answer = session
        .check_scope(&sels, vms, args.all)
        .map_err(session_error)?;
    for d in &answer.diagnostics {
        crate::output::warn(d);
    }
    let report = answer.report;
    let mut out = crate::output::stdout();
    let written = if args.quiet {
        Ok(())
    } else if args.json {
        serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))
            .and_then(|s| writeln!(out, "{s}").map_err(io_err))
    } else {
        let colour = crate::output::color().for_stdout();
        out.write_all(render(&report, colour).as_bytes())
            .map_err(io_err)
    };
    written?;
    Ok(if report.has_failure() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads one vmadm payload given with `--vm` (a JSON syntax error is
/// unreadable input, exit 2); the library weighs it.
fn read_vm(file: &std::path::Path) -> Result<VmPlan, CliError> {
    let shown = file.display().to_string();
    let bytes = crate::error::read_payload(file)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::input(format!(
            "{}:{}: not a vmadm JSON payload: {}",
            EscapedPath(file),
            e.line(),
            escape(&e.to_string())
        ))
    })?;
    Ok(session::vm_plan(&shown, &v))
}

fn io_err(e: std::io::Error) -> CliError {
    CliError::failed(format!("cannot write the report: {e}"))
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Ok => "32",
            Verdict::Warn => "33",
            Verdict::Fail => "1;31",
        };
        self.wrap(code, v.as_str())
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Info => "36",
            Severity::Warn => "33",
            Severity::Fail => "1;31",
        };
        self.wrap(code, &format!("{:<4}", s.as_str()))
    }
}

fn reasons(out: &mut String, p: &Paint, list: &[Reason]) {
    for r in list {
        out.push_str(&format!(
            "    {} {}: {}\n",
            p.severity(r.severity),
            r.code,
            Escaped(&r.message)
        ));
        if !r.hint.is_empty() {
            out.push_str(&format!("         hint: {}\n", Escaped(&r.hint)));
        }
    }
}

/// `  Vendor Device` from pci.ids for `vvvv:dddd`, or nothing.
fn device_name(ids: &str) -> String {
    let Some((v, d)) = ids.split_once(':') else {
        return String::new();
    };
    let (Ok(v), Ok(d)) = (u16::from_str_radix(v, 16), u16::from_str_radix(d, 16)) else {
        return String::new();
    };
    let names = PciNames::global();
    match (names.vendor(v), names.device(v, d)) {
        (Some(vn), Some(dn)) => format!("  {vn} {dn}"),
        (Some(vn), None) => format!("  {vn}"),
        _ => String::new(),
    }
}

/// The readable report: host, then functions grouped per device, then the
/// configuration, then a one-line summary.
pub fn render(report: &Report, colour: bool) -> String {
    let p = Paint { on: colour };
    let mut out = String::new();
    out.push_str(&format!("host: {}\n", p.verdict(report.host.verdict)));
    reasons(&mut out, &p, &report.host.reasons);
    let mut last_device = String::new();
    for f in &report.functions {
        let device = f.slot.rsplit_once('.').map_or(f.slot.as_str(), |(d, _)| d);
        if device != last_device {
            out.push_str(&format!("\ndevice {device}{}\n", device_name(&f.ids)));
            last_device = device.to_string();
        }
        out.push_str(&format!(
            "  {} {} {}{}\n",
            f.slot,
            f.ids,
            p.verdict(f.verdict),
            f.path
                .as_deref()
                .map(|x| format!("  {}", Escaped(x)))
                .unwrap_or_default()
        ));
        reasons(&mut out, &p, &f.reasons);
    }
    out.push_str(&format!("\nconfig: {}\n", p.verdict(report.config.verdict)));
    reasons(&mut out, &p, &report.config.reasons);
    out.push_str(&format!("\n{}\n", report.summary()));
    out
}
