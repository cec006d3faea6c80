//! `pptctl reserve` and `pptctl unreserve`: edit `ppt_aliases` (and
//! optionally `ppt_matches`) plus the boot-module configuration so the
//! reservation survives the reboot. The work is planned
//! by `ppt_config::reserve`; this front end shows the diff, asks, writes,
//! and says what happens next.

use std::process::ExitCode;

use clap::Args;
use pci_core::text::Escaped;
use ppt_config::reserve::{self, Action, Options, ReserveError};
use ppt_config::selector;
use ppt_config::session;

use crate::error::CliError;
use crate::global::{session_error, Global};

mod write;

/// Arguments of `pptctl reserve` / `pptctl unreserve`.
#[derive(Args, Debug)]
pub struct ReserveArgs {
    /// Functions: a slot as lspci -s (01:00.0, 01:00.*), IDs as lspci -d (10de:a65, 10de:, ::0300), an illumos path or /dev/pptN.
    #[arg(value_name = "SELECTOR", required_unless_present = "clean")]
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
    /// Print the plan (with --dry-run) or the result as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// unreserve only: also remove the backups pptctl kept (.pptctl-backup/
    /// on boot media, var/pptctl/backup/ under --root); alone, only that.
    #[arg(long)]
    pub clean: bool,
}

pub(crate) fn reserve_error(e: ReserveError) -> CliError {
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
        // Unreadable input, like every other refusal of its kind (README
        // exit codes): exit 2.
        ReserveError::Edit(_) | ReserveError::Unreadable { .. } => {
            CliError::input(format!("{e}{hint}"))
        }
        _ => CliError::failed(format!("{e}{hint}")),
    }
}

/// Runs the subcommand (`reserve` true for reserve, false for unreserve).
pub fn run(global: &Global, args: ReserveArgs, reserve: bool) -> Result<ExitCode, CliError> {
    let action = if reserve {
        Action::Reserve
    } else {
        Action::Unreserve
    };
    if reserve && args.clean {
        return Err(CliError::input(
            "--clean belongs to unreserve: reserve keeps the backups",
        ));
    }
    let sels = selector::parse_all(&args.selectors).map_err(|e| CliError::input(e.to_string()))?;
    let layout = session::reserve_layout(
        &global.root,
        global.boot_media.as_deref(),
        global.boot_style,
    )
    .map_err(session_error)?;
    if sels.is_empty() {
        return write::clean_only(&layout, args.json);
    }
    let session = global.open_for_write()?;
    // What counts as already reserved is the session's one answer to "on
    // ppt after the next boot?"; a next boot whose files cannot be read is
    // unreadable input.
    let next = session.next_ppt();
    if let Some(e) = next.error() {
        return Err(CliError::input(e.to_string()));
    }
    let host = session.host();
    // unreserve may name a path that is no longer on the host, to remove its
    // stale alias; every other selector must match something.
    let (orphans, sels) = reserve::orphans::split(host, sels, action);
    let selected = if sels.is_empty() {
        Vec::new()
    } else {
        selector::resolve(host, &sels).map_err(|e| CliError::input(e.to_string()))?
    };
    let opts = Options {
        by_id: args.by_id,
        matches: args.matches,
        single_function: args.single_function,
        force: args.force,
    };
    let plan = reserve::plan_with_orphans(host, next, &selected, &orphans, action, opts, &layout)
        .map_err(reserve_error)?;
    for w in &plan.warnings {
        crate::output::warn(w);
    }
    let stuck = plan.without_effect();
    if !stuck.is_empty() {
        let why: Vec<String> = stuck
            .iter()
            .map(|f| {
                format!(
                    "{} ({}): after the next boot, {}",
                    f.address,
                    Escaped(&f.alias),
                    Escaped(&f.after.reason)
                )
            })
            .collect();
        return Err(CliError::failed(format!(
            "nothing to change in the files, yet the next boot will not put {} on ppt \
             (`pptctl match` says why each line does not bind):\n  {}",
            if stuck.len() == 1 {
                "this function"
            } else {
                "these functions"
            },
            why.join("\n  ")
        )));
    }
    write::finish(global, &args, &plan, host)
}

/// `bootadm update-archive [-R ROOT]` (ppt-config runs it), worded for
/// the user: the files are already written.
pub(crate) fn update_archive(global: &Global) -> Result<(), CliError> {
    session::archive::update_archive(&global.root).map_err(|e| match e {
        session::archive::UpdateArchiveError::Spawn(_) => CliError::failed(format!(
            "{e}; the files were written, run it yourself before rebooting"
        )),
        session::archive::UpdateArchiveError::Failed(_) => CliError::failed(format!(
            "{e}; the files were written, fix that before rebooting"
        )),
    })
}
