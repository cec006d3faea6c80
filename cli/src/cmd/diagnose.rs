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
use pci_core::text::{escape, Escaped, EscapedPath};
use pci_illumos::platform_log;
use pci_illumos::root::HostRoot;
use ppt_config::diagnose::{self, findings::describe, Diagnosis, Outcome};
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
        let valid = !uuid.is_empty()
            && uuid != "."
            && uuid != ".."
            && uuid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !valid {
            return Err(CliError::input(format!(
                "--vm `{uuid}`: not a zone name (letters, digits, -, _ and . only)"
            )));
        }
        let host_path = format!("/zones/{uuid}/logs/platform.log");
        let f = HostRoot::new(&global.root).open(&host_path).map_err(|e| {
            CliError::input(format!(
                "{}: cannot read: {}",
                Escaped(&host_path),
                e.reason()
            ))
        })?;
        let size = f.metadata().ok().map(|m| m.len());
        return Ok((Box::new(BufReader::new(f)), host_path, size));
    }
    match args.log.as_deref() {
        Some(p) if p.as_os_str() == "-" => Ok((
            Box::new(BufReader::new(std::io::stdin())),
            "(stdin)".to_string(),
            None,
        )),
        Some(p) => {
            let shown = p.display().to_string();
            let f = hostfs::open_regular(p)
                .map_err(|e| CliError::input(format!("{}: cannot read: {e}", EscapedPath(p))))?;
            let meta = f.metadata().ok();
            if meta.as_ref().is_some_and(|m| m.is_dir()) {
                return Err(CliError::input(format!(
                    "{}: is a directory",
                    EscapedPath(p)
                )));
            }
            let size = meta.filter(|m| m.is_file()).map(|m| m.len());
            Ok((Box::new(BufReader::new(f)), shown, size))
        }
        None => Err(CliError::input("give a LOGFILE or --vm UUID")),
    }
}

/// Runs the subcommand.
pub fn run(global: &Global, args: DiagnoseArgs) -> Result<ExitCode, CliError> {
    let (input, name) = open_log(global, &args)?;
    let analysis = platform_log::analyze(input)
        .map_err(|e| CliError::input(format!("{}: {e}", Escaped(&name))))?;
    let mut session = global.open()?;
    for w in session.add_illumos_facts() {
        crate::output::warn(w);
    }
    // --vm: the zone's configuration as it is now, beside the log's.
    let zone = match &args.vm {
        Some(name) => ppt_config::zones::read_zone(&global.root, name)
            .map_err(CliError::input)?
            .map(|z| z.pci_devices)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let diagnosis = diagnose::diagnose(&analysis, &zone, &session)
        .map_err(|e| CliError::input(format!("{}: {e}", Escaped(&name))))?;
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
            out.push_str(&format!("  {}\n", escape(&describe(r))));
            if let Some(c) = &r.configured_path {
                let now = match (&r.configured_slot, &r.configured_dev_now) {
                    (Some(s), Some(dev)) => format!(" = {}, {} now", Escaped(s), Escaped(dev)),
                    (Some(s), None) => format!(" = {}, no /dev/ppt link now", Escaped(s)),
                    (None, _) => " (no such device on this host)".to_string(),
                };
                let agrees = match r.resolves_to_config {
                    Some(true) => ": bhyve's device is the configured one",
                    Some(false) => ": bhyve's device is NOT the configured one",
                    None => "",
                };
                out.push_str(&format!("    configured {}{now}{agrees}\n", Escaped(c)));
            } else if let Some(res) = &r.config_resource {
                out.push_str(&format!(
                    "    configured as {} (matches no device of this host)\n",
                    Escaped(res)
                ));
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
    }
    if !d.findings.is_empty() {
        out.push_str("\nfindings:\n");
    }
    for f in &d.findings {
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
    out
}
