//! `pptctl diagnose [LOGFILE | --vm UUID] [--json]`: explain a bhyve VM
//! that does not start with its passed-through devices, from its
//! platform.log and the host.
//!
//! Exit codes: 0 when the last boot attempt is clean and the host agrees,
//! 1 when a problem was found, 2 for unreadable input or bad usage.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pci_core::sources::SysfsDetail;
use pci_core::text::{escape, Escaped, EscapedPath};
use pci_illumos::platform_log;
use pci_illumos::root::HostRoot;
use ppt_config::diagnose::zone_log::{self, ZoneName};
use ppt_config::diagnose::{
    self, device_findings::describe, DeviceReport, Diagnosis, Finding, Outcome,
};
use ppt_config::viability::Severity;

use crate::error::CliError;
use crate::global::Global;
use crate::progress::Reading;

/// Arguments of `pptctl diagnose`.
#[derive(Args, Debug)]
pub struct DiagnoseArgs {
    /// The platform.log to read; `-` reads standard input.
    #[arg(
        value_name = "LOGFILE",
        required_unless_present = "vm",
        conflicts_with = "vm"
    )]
    pub log: Option<PathBuf>,
    /// The VM's UUID: reads /zones/UUID/logs/platform.log under --root.
    #[arg(long, value_name = "UUID")]
    pub vm: Option<String>,
    /// Print the diagnosis as one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// The log to read (with progress on a terminal: a log may be gigabytes),
/// and how to name it in messages.
fn open_log(global: &Global, args: &DiagnoseArgs) -> Result<(Box<dyn BufRead>, String), CliError> {
    let (input, name, size) = open_input(global, args)?;
    let input = Reading::new(input, "reading platform.log", size);
    Ok((Box::new(input), name))
}

/// The log, its name in messages and its size when it is a file.
type Input = (Box<dyn BufRead>, String, Option<u64>);

fn open_input(global: &Global, args: &DiagnoseArgs) -> Result<Input, CliError> {
    if let Some(uuid) = &args.vm {
        let name = ZoneName::parse(uuid).map_err(|e| CliError::input(format!("--vm {e}")))?;
        let (f, size) = zone_log::open_platform_log(&HostRoot::new(&global.root), &name)
            .map_err(|e| CliError::input(e.to_string()))?;
        return Ok((Box::new(BufReader::new(f)), name.platform_log(), size));
    }
    match args.log.as_deref() {
        Some(p) if p.as_os_str() == "-" => Ok((
            Box::new(BufReader::new(std::io::stdin())),
            "(stdin)".to_string(),
            None,
        )),
        Some(p) => {
            // A file the user names on this machine, not a host file.
            let shown = p.display().to_string();
            let f = hostfs::open_regular(p)
                .map_err(|e| CliError::input(format!("{}: cannot read: {e}", EscapedPath(p))))?;
            // open_regular refused anything but a regular file (a
            // directory too): its size is the log's.
            let size = f.metadata().ok().map(|m| m.len());
            Ok((Box::new(BufReader::new(f)), shown, size))
        }
        None => Err(CliError::input("give a LOGFILE or --vm UUID")),
    }
}

/// The diagnosis: against the session's host when the source can be the
/// VM's host, else of the log alone (a note on stderr says so).
fn diagnose_with(
    global: &Global,
    args: &DiagnoseArgs,
    analysis: &platform_log::Analysis,
    name: &str,
) -> Result<Diagnosis, CliError> {
    let options = global.options(SysfsDetail::Full)?;
    // --vm: the zone's configuration as it is now, beside the log's.
    let zone = match &args.vm {
        Some(vm) => {
            let name = ZoneName::parse(vm).map_err(|e| CliError::input(format!("--vm {e}")))?;
            zone_log::configured_devices(&global.root, &name).map_err(CliError::input)?
        }
        None => Vec::new(),
    };
    let result = if zone_log::source_can_be_the_host(&options) {
        let mut session = global.open()?;
        for w in session.add_illumos_facts() {
            crate::output::warn(w);
        }
        let label = zone_log::host_label(session.options());
        diagnose::diagnose(analysis, &zone, &session, &label)
    } else {
        eprintln!(
            "pptctl: note: no host given (this machine is not an illumos host): the log is read alone; \
             give --from snapshot:FILE or --from devinfo:FILE to judge it against the VM's host"
        );
        diagnose::diagnose_log(analysis, &zone)
    };
    result.map_err(|e| CliError::input(format!("{}: {e}", Escaped(name))))
}

/// Runs the subcommand.
pub fn run(global: &Global, args: DiagnoseArgs) -> Result<ExitCode, CliError> {
    let (input, name) = open_log(global, &args)?;
    let analysis = platform_log::analyze(input)
        .map_err(|e| CliError::input(format!("{}: {e}", Escaped(&name))))?;
    let diagnosis = diagnose_with(global, &args, &analysis, &name)?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&diagnosis)
            .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))?;
        s.push('\n');
        s
    } else {
        render(&diagnosis, &name)
    };
    crate::output::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| CliError::failed(format!("cannot write the report: {e}")))?;
    Ok(match diagnosis.outcome {
        Outcome::Clean => ExitCode::SUCCESS,
        Outcome::Problem => ExitCode::from(1),
    })
}

/// The readable report.
pub fn render(d: &Diagnosis, name: &str) -> String {
    let mut out = String::new();
    let l = &d.log;
    out.push_str(&format!(
        "{}: {} lines ({} log/stream JSON, {} bunyan JSON, {} plain); {} boot attempt{}\n",
        Escaped(name),
        l.total,
        l.stream,
        l.bunyan,
        l.plain,
        d.attempts,
        if d.attempts == 1 { "" } else { "s" }
    ));
    out.push_str(&match &d.host {
        Some(h) => format!("judged against {}\n", Escaped(h)),
        None => "judged against no host: the log is read alone\n".to_string(),
    });
    if let Some(a) = &d.attempt {
        out.push_str(&format!(
            "last attempt: lines {}-{}{}{}\n",
            a.lines.0,
            a.lines.1,
            a.time
                .as_deref()
                .map(|t| format!(", {}", Escaped(t)))
                .unwrap_or_default(),
            a.uuid
                .as_deref()
                .map(|u| format!(", VM {}", Escaped(u)))
                .unwrap_or_default(),
        ));
    }
    if !d.devices.is_empty() {
        out.push_str("\npass-through devices:\n");
        for r in &d.devices {
            render_device(r, &mut out);
        }
    }
    if !d.findings.is_empty() {
        out.push_str("\nfindings:\n");
    }
    for f in &d.findings {
        render_finding(f, &mut out);
    }
    render_tail(d, &mut out);
    out
}

/// One device of the report.
fn render_device(r: &DeviceReport, out: &mut String) {
    out.push_str(&format!("  {}\n", escape(&describe(r))));
    if let Some(c) = &r.configured_path {
        let now = match (&r.configured_slot, &r.configured_dev_now) {
            (Some(s), Some(dev)) => format!(" = {}, {} now", Escaped(s), Escaped(dev)),
            (Some(s), None) => format!(" = {}, no /dev/ppt link now", Escaped(s)),
            (None, _) if r.now.judged => " (no such device on the host)".to_string(),
            (None, _) => String::new(),
        };
        let agrees = match r.resolves_to_config {
            Some(true) => ": bhyve's device is the configured one",
            Some(false) => ": bhyve's device is NOT the configured one",
            None => "",
        };
        out.push_str(&format!("    configured {}{now}{agrees}\n", Escaped(c)));
    } else if let Some(res) = &r.config_resource {
        let why = if r.now.judged {
            "matches no device of the host"
        } else {
            "a sanitized /devices path: only the host tells which"
        };
        out.push_str(&format!("    configured as {} ({why})\n", Escaped(res)));
    }
    if r.in_zone_config {
        out.push_str(&format!(
            "    in the zone configuration now, pci_slot {}\n",
            Escaped(r.zone_pci_slot.as_deref().unwrap_or("none"))
        ));
    }
    if let Some(v) = r.now.verdict {
        out.push_str(&format!("    check: {v}\n"));
    }
    for s in &r.siblings {
        out.push_str(&format!(
            "    sibling {} {} ({}){}\n",
            Escaped(&s.slot),
            Escaped(s.path.as_deref().unwrap_or("")),
            Escaped(s.driver.as_deref().unwrap_or("no driver")),
            if s.in_vm {
                ", in this VM"
            } else {
                ", not in this VM"
            },
        ));
    }
}

/// One finding of the report.
fn render_finding(f: &Finding, out: &mut String) {
    let line = f.line.map(|n| format!(" (line {n})")).unwrap_or_default();
    out.push_str(&format!(
        "  {:<4} {}{line}: {}\n",
        f.severity.as_str(),
        f.code,
        Escaped(&f.what)
    ));
    if let Some(q) = &f.quote {
        out.push_str(&format!("       log: {}\n", Escaped(q)));
    }
    if let Some(dev) = &f.device {
        out.push_str(&format!("       device: {}\n", Escaped(dev)));
    }
    if !f.cause.is_empty() {
        out.push_str(&format!("       cause: {}\n", Escaped(&f.cause)));
    }
    if !f.action.is_empty() {
        out.push_str(&format!("       do: {}\n", Escaped(&f.action)));
    }
    if let Some(s) = f.source {
        out.push_str(&format!("       source: {s}\n"));
    }
}

/// The unrecognised lines and the result line.
fn render_tail(d: &Diagnosis, out: &mut String) {
    if !d.unrecognised.quoted.is_empty() {
        out.push_str(&format!(
            "\nnot recognised ({} line{}{}):\n",
            d.unrecognised.total,
            if d.unrecognised.total == 1 { "" } else { "s" },
            if d.unrecognised.total > d.unrecognised.quoted.len() {
                ", first and last quoted"
            } else {
                ""
            }
        ));
        for q in &d.unrecognised.quoted {
            out.push_str(&format!("  {}: {}\n", q.line, Escaped(&q.text)));
        }
    }
    let count = |s: Severity| d.findings.iter().filter(|f| f.severity == s).count();
    out.push_str(&format!(
        "\nresult: {} ({} fail, {} warn, {} info)\n",
        match d.outcome {
            Outcome::Clean => "clean start",
            Outcome::Problem => "problem",
        },
        count(Severity::Fail),
        count(Severity::Warn),
        count(Severity::Info)
    ));
}
