//! `pptctl reserve` and `pptctl unreserve`: edit `ppt_aliases` (and
//! optionally `ppt_matches`) plus the boot-module configuration so the
//! reservation survives the reboot (issue 6, part 3). The work is planned
//! by `ppt_config::reserve`; this front end shows the diff, asks, writes,
//! and says what happens next.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use pci_core::Function;
use ppt_config::reserve::{self, Action, Options, ReserveError};
use ppt_config::selector;
use ppt_config::session;
use ppt_config::vmadm;

use crate::error::CliError;
use crate::global::{session_error, Global};

/// Arguments of `pptctl reserve` / `pptctl unreserve`.
#[derive(Args, Debug)]
pub struct ReserveArgs {
    /// Functions: B:D.F slot, illumos path, /dev/pptN or VENDOR:DEVICE.
    #[arg(value_name = "SELECTOR", required = true)]
    pub selectors: Vec<String>,
    /// Write id aliases (ppt "pciexVVVV,DDDD"): they take EVERY device with that id.
    #[arg(long)]
    pub by_id: bool,
    /// Also edit ppt_matches (what `pptadm list -a` shows as candidates).
    #[arg(long)]
    pub matches: bool,
    /// Only the selected functions, not the other functions of their devices.
    #[arg(long)]
    pub single_function: bool,
    /// Reserve bridges, the console VGA and boot-pool devices anyway.
    #[arg(long)]
    pub force: bool,
    /// Print the unified diff and change nothing.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Do not ask for confirmation on a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Persistent root: run `bootadm update-archive` after writing.
    #[arg(long, conflicts_with = "boot_media")]
    pub update_archive: bool,
}

fn reserve_error(e: ReserveError) -> CliError {
    // Say what to do when the cause is missing rights (EACCES/EPERM
    // anywhere in the chain): the files belong to root.
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut denied = false;
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            denied |= io.kind() == std::io::ErrorKind::PermissionDenied;
        }
        cause = c.source();
    }
    let hint = if denied {
        "\npptctl: these files belong to root: run pptctl as root (pfexec or sudo), or use --dry-run to see the change"
    } else {
        ""
    };
    match e {
        ReserveError::Edit(_) => CliError::input(format!("{e}{hint}")),
        _ => CliError::failed(format!("{e}{hint}")),
    }
}

/// Asks on the terminal; true for yes.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}

/// Runs the subcommand (`reserve` true for reserve, false for unreserve).
pub fn run(global: &Global, args: ReserveArgs, reserve: bool) -> Result<ExitCode, CliError> {
    let action = if reserve {
        Action::Reserve
    } else {
        Action::Unreserve
    };
    let sels = selector::parse_all(&args.selectors).map_err(|e| CliError::input(e.to_string()))?;
    let layout = session::reserve_layout(
        &global.root,
        global.boot_media.as_deref(),
        global.boot_style,
    )
    .map_err(session_error)?;
    let host = global.load_host()?;
    // unreserve may name a path that is no longer on the host, to remove its
    // stale alias; every other selector must match something.
    let (orphans, sels): (Vec<_>, Vec<_>) = sels.into_iter().partition(|s| {
        !reserve
            && matches!(s, selector::Selector::Path(_))
            && !host.functions.iter().any(|f| s.matches(&host, f))
    });
    let orphans: Vec<String> = orphans.iter().map(|s| s.to_string()).collect();
    let selected = if sels.is_empty() {
        Vec::new()
    } else {
        selector::resolve(&host, &sels).map_err(|e| CliError::input(e.to_string()))?
    };
    let opts = Options {
        by_id: args.by_id,
        matches: args.matches,
        single_function: args.single_function,
        force: args.force,
    };
    let plan = reserve::plan_with_orphans(&host, &selected, &orphans, action, opts, &layout)
        .map_err(reserve_error)?;
    for w in &plan.warnings {
        eprintln!("pptctl: warning: {w}");
    }
    let verb = if reserve { "reserved" } else { "unreserved" };
    let mut out = std::io::stdout().lock();
    if plan.is_noop() {
        let _ = writeln!(out, "Nothing to change: every function is already {verb}.");
        for f in &plan.functions {
            let _ = writeln!(out, "  {} {}", f.address, f.alias);
        }
    } else {
        let _ = write!(out, "{}", plan.diff());
        let _ = out.flush();
        if args.dry_run {
            eprintln!("pptctl: dry run: nothing was written");
            return Ok(ExitCode::SUCCESS);
        }
        if !args.yes
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal()
            && !confirm("Write these changes?")
        {
            eprintln!("pptctl: nothing was written");
            return Ok(ExitCode::from(1));
        }
        let done = plan.apply().map_err(reserve_error)?;
        for (file, outcome) in &done {
            let what = match outcome {
                ppt_config::atomic::WriteOutcome::Unchanged => "unchanged",
                ppt_config::atomic::WriteOutcome::Created => "created",
                ppt_config::atomic::WriteOutcome::Replaced => {
                    "updated (previous version kept as .pptctl-bak)"
                }
                ppt_config::atomic::WriteOutcome::Removed => {
                    "removed (previous version kept as .pptctl-bak)"
                }
            };
            let _ = writeln!(out, "{file}: {what}");
        }
        let _ = writeln!(
            out,
            "{} function(s) {verb} for the next boot:",
            plan.functions.len()
        );
        for f in &plan.functions {
            let _ = writeln!(out, "  {} {}", f.address, f.alias);
        }
        if args.update_archive {
            update_archive(global)?;
        }
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let vm = if reserve {
        let funcs: Vec<&Function> = host
            .functions
            .iter()
            .filter(|f| plan.functions.iter().any(|p| p.address == f.address))
            .collect();
        vmadm::pci_devices(&funcs, 0, None).ok().and_then(|d| {
            serde_json::to_string_pretty(&serde_json::json!({ "pci_devices": d })).ok()
        })
    } else {
        None
    };
    let mut steps = plan.next_steps(vm.as_deref());
    if args.update_archive && !plan.is_noop() {
        steps.retain(|s| !s.contains("bootadm update-archive"));
    }
    let _ = writeln!(out);
    for s in steps {
        let _ = writeln!(out, "{s}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `bootadm update-archive [-R ROOT]` (ppt-config runs it), worded for
/// the user: the files are already written.
fn update_archive(global: &Global) -> Result<(), CliError> {
    session::archive::update_archive(&global.root).map_err(|e| match e {
        session::archive::UpdateArchiveError::Spawn(_) => CliError::failed(format!(
            "{e}; the files were written, run it yourself before rebooting"
        )),
        session::archive::UpdateArchiveError::Failed(_) => CliError::failed(format!(
            "{e}; the files were written, fix that before rebooting"
        )),
    })
}
