//! Planning a reservation: which lines change in which files.
//!
//! `pptctl reserve` / `unreserve` work in two steps so
//! `--dry-run` and the confirmation show exactly what will be written:
//! [`plan`] reads the files and computes their new contents with the
//! lossless editors; [`Plan::apply`] takes the directory locks, checks the
//! files did not change meanwhile and writes them with [`crate::atomic`].
//!
//! What is written (docs/illumos.md):
//! * one quoted path alias per function, `ppt "/pci@0,0/..."` — the path is
//!   the devfs path with unit addresses, no `/devices`, no minor (the
//!   `ddi_pathname` illumos-gate `devcfg.c` `init_node` compares); an
//!   id alias only with `--by-id`, because it binds every device with that
//!   id (`devcfg.c` `ddi_compatible_driver_major`);
//! * with `--matches`, the `ppt_matches` line libppt can match
//!   (`pciexVVVV,DDDD`, lower-case, unpadded: `libppt.c` `match_ppt`);
//! * on boot media, the module lines that load the files (krtld `bootrd.c`;
//!   smartos-docs `docs/modifying-boot-files.md`).

mod aliases;
mod apply;
mod choose;
mod filelist;
mod matches;
mod modules;
mod next_steps;
pub mod orphans;

use pci_core::{Address, Function, Host};
use similar::TextDiff;

use crate::aliases_file::AliasesFile;
use crate::atomic::{self, AtomicError, Tree, WriteOutcome};
use crate::boot_media::{Layout, ManagedFile, Which};
use crate::edit::EditError;
use crate::matches_file::{id_line, MatchesFile};
use crate::session::{NextBootPpt, PptAfter};

/// The driver every alias names: the one definition in pci-illumos.
pub use pci_illumos::binding::PPT as DRIVER;

/// Reserve or unreserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Add the aliases.
    Reserve,
    /// Remove them.
    Unreserve,
}

/// The options of `reserve`/`unreserve`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Write id aliases (`ppt "pciex10de,a65"`) instead of path aliases.
    pub by_id: bool,
    /// Also edit `ppt_matches`.
    pub matches: bool,
    /// Do not add the other functions of the same device.
    pub single_function: bool,
    /// Reserve what the never-pass-through table refuses (bridges, host
    /// bridges, ISA/LPC bridges, boot devices) anyway.
    pub force: bool,
}

/// Why a reservation cannot be planned or applied.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// A function must not be reserved without `--force`.
    #[error("refusing to reserve without --force:\n{}", .0.join("\n"))]
    Refused(Vec<String>),
    /// A function has no devfs path to alias.
    #[error("{address} has no illumos devfs path in this source, so no path alias can be written (read the host with --from devinfo:FILE, a snapshot taken on the host, or live on illumos)")]
    NoPath {
        /// The function.
        address: Address,
    },
    /// A file could not be parsed or edited.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// A file the plan must read cannot be read as one (a FIFO, a
    /// directory, a link leaving the tree, too large, unreadable):
    /// unreadable input, nothing was written.
    #[error("{file}: {source}")]
    Unreadable {
        /// Host path of the file.
        file: String,
        /// What failed.
        source: AtomicError,
    },
    /// A file could not be written (or its directory not prepared).
    #[error("{file}: {source}")]
    Io {
        /// Host path of the file.
        file: String,
        /// What failed.
        source: AtomicError,
    },
    /// The boot media delivers a file by a module pptctl cannot edit
    /// (the message names the module line and why).
    #[error("{0}")]
    Module(String),
    /// A file changed between planning and writing.
    #[error("{0} changed while pptctl was planning; nothing was written, run the command again")]
    Changed(String),
    /// The caller's `stop` test asked to stop before every file was
    /// written ([`Plan::apply_until`]). What was written is consistent:
    /// the order of the writes keeps the media bootable at every step.
    #[error("interrupted: {} of {} file(s) written", done.len(), done.len() + not_done.len())]
    Interrupted {
        /// The files written, in order, and what was done to each.
        done: Vec<(String, WriteOutcome)>,
        /// The files not written (host paths), in the order they would
        /// have been.
        not_done: Vec<String>,
    },
}

/// A point in [`Plan::apply_until`] at which the caller may stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// Once, before taking the directory locks.
    Lock,
    /// While taking them: before each lock and whenever a signal
    /// interrupts the wait for one.
    LockWait,
    /// Once before waiting for a lock another process holds: who holds it,
    /// as far as can be told (for a message; the answer to this step is
    /// not asked).
    LockHeld(&'a atomic::LockHolder),
    /// Before writing (or removing) this file, by host path.
    Write(&'a str),
}

/// A function the plan is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFunction {
    /// Host address.
    pub address: Address,
    /// devfs path, when known.
    pub path: Option<String>,
    /// Vendor and device id.
    pub ids: (u16, u16),
    /// The alias written or removed.
    pub alias: String,
    /// Set when the function was added as another function of the device
    /// of this selected function.
    pub sibling_of: Option<Address>,
    /// Whether nothing needs doing for it: for `reserve`, the file needs no
    /// new line for it *and* the session says it is on ppt after the next
    /// boot ([`crate::session::NextBootPpt`], whichever file or module
    /// decides it); for `unreserve`, the aliases hold no line for it.
    pub already: bool,
    /// The session's answer for it before the change: on ppt after the
    /// next boot or not, and why.
    pub after: PptAfter,
    /// Bound to ppt now (with instance), for the next-steps text.
    pub ppt_instance: Option<i32>,
}

/// One file's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Where it is.
    pub file: ManagedFile,
    /// Contents before (`None`: absent).
    pub old: Option<String>,
    /// Contents after (`None`: removed).
    pub new: Option<String>,
}

impl FileChange {
    /// Whether anything changes.
    pub fn changes(&self) -> bool {
        self.old != self.new
    }

    /// Unified diff (empty when unchanged). Headers name the display path;
    /// a created or removed file is diffed against `/dev/null`.
    pub fn diff(&self) -> String {
        if !self.changes() {
            return String::new();
        }
        let old = self.old.as_deref().unwrap_or("");
        let new = self.new.as_deref().unwrap_or("");
        let a = if self.old.is_some() {
            self.file.display.as_str()
        } else {
            "/dev/null"
        };
        let b = if self.new.is_some() {
            self.file.display.as_str()
        } else {
            "/dev/null"
        };
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(a, b)
            .to_string()
    }
}

/// What a reserve/unreserve will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Reserve or unreserve.
    pub action: Action,
    /// Where the files are.
    pub layout: Layout,
    /// Functions, selected ones and added siblings, in host order.
    pub functions: Vec<PlannedFunction>,
    /// Every managed file with old and new contents (unchanged ones too).
    pub changes: Vec<FileChange>,
    /// Things the user should know (forced refusals, id aliases, predicted paths, file lints).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Whether nothing would be written.
    pub fn is_noop(&self) -> bool {
        !self.changes.iter().any(FileChange::changes)
    }

    /// Unified diff of every changed file.
    pub fn diff(&self) -> String {
        self.changes.iter().map(FileChange::diff).collect()
    }

    /// A `reserve` that changes no file although some of its functions
    /// are not on ppt after the next boot (the session's answer: the
    /// `ppt` driver removed or disabled, the next boot not known, ...):
    /// those functions. Writing nothing would not reserve them, so this is
    /// no "already reserved".
    pub fn without_effect(&self) -> Vec<&PlannedFunction> {
        if self.action != Action::Reserve || !self.is_noop() {
            return Vec::new();
        }
        self.functions.iter().filter(|f| !f.already).collect()
    }
}

/// The id alias `--by-id` writes, `pciexVVVV,DDDD` or `pciVVVV,DDDD`.
pub(crate) fn id_alias(f: &Function) -> String {
    id_line(f.ids.vendor, f.ids.device, f.is_pcie())
}

/// Why `f` must not be reserved without `--force`, if it must not: the
/// never-pass-through table (`pci_core::passthrough::never`), the same one
/// whose entries `check` reports as `bridge` and `host-critical` fails.
pub fn refusal(host: &Host, f: &Function) -> Vec<String> {
    f.never_pass_through(&host.facts.boot_devices)
        .iter()
        .map(|n| n.message(f.address))
        .collect()
}

/// What reserving `f` costs the host without making it impossible: the
/// console VGA device (`check` warns `console-vga` for it as well).
pub(crate) fn cautions(f: &Function) -> Vec<String> {
    let mut why = Vec::new();
    if f.boot_vga == Some(true) {
        why.push(format!(
            "{} is the host's console VGA device (boot_vga); the host loses its console when a VM takes it",
            f.address
        ));
    }
    why
}

struct Loaded {
    file: ManagedFile,
    old: Option<String>,
}

fn load(tree: &Tree, file: ManagedFile) -> Result<Loaded, ReserveError> {
    // Where the file would be written: a link leaving the tree is a
    // refused write. What is there cannot be read as a file: unreadable
    // input.
    let real = tree
        .resolve(&file.relative)
        .map_err(|source| ReserveError::Io {
            file: file.display.clone(),
            source,
        })?;
    let bytes = atomic::read_optional(&real).map_err(|source| ReserveError::Unreadable {
        file: file.display.clone(),
        source,
    })?;
    let old = match bytes {
        Some(b) => Some(crate::edit::decode(&file.display, &b)?.to_string()),
        None => None,
    };
    Ok(Loaded { file, old })
}

/// Plans `action` for `selected` functions of `host` in `layout`; `next`
/// is the session's answer to "on ppt after the next boot?" for the same
/// configuration ([`crate::session::Session::next_ppt`]), which decides
/// what counts as already reserved.
pub fn plan(
    host: &Host,
    next: &NextBootPpt,
    selected: &[&Function],
    action: Action,
    opts: Options,
    layout: &Layout,
) -> Result<Plan, ReserveError> {
    plan_with_orphans(host, next, selected, &[], action, opts, layout)
}

/// Like [`plan`], and for `unreserve` also removes the path aliases in
/// `orphans`: devfs paths that are no longer on the host (a card moved to
/// another slot leaves an alias that binds nothing; [`orphans::split`]
/// finds them). Ignored for `reserve`.
///
/// The steps: the functions and what refuses them (`choose`); the file
/// the next boot reads `ppt_aliases` from (`modules::target`: the user's
/// own module's file when one delivers it); the aliases (`aliases`);
/// `ppt_matches` (`matches`); the boot modules on boot media
/// (`modules::config_change`) or the archive's file list on a persistent
/// root (`filelist`).
pub fn plan_with_orphans(
    host: &Host,
    next: &NextBootPpt,
    selected: &[&Function],
    orphans: &[String],
    action: Action,
    opts: Options,
    layout: &Layout,
) -> Result<Plan, ReserveError> {
    let mut warnings = Vec::new();
    let chosen = choose::functions(host, selected, opts);
    choose::refusals(host, &chosen, action, opts, &mut warnings)?;

    let tree = Tree::new(layout.tree_root()).map_err(|source| ReserveError::Io {
        file: layout.tree_root().display().to_string(),
        source,
    })?;
    let aliases_t = modules::target(layout, Which::Aliases, &mut warnings)?;
    let matches_t = modules::target(layout, Which::Matches, &mut warnings)?;
    let aliases_l = load(&tree, aliases_t.file().clone())?;
    let matches_l = load(&tree, matches_t.file().clone())?;
    let config_l = layout.boot_config().map(|f| load(&tree, f)).transpose()?;

    let mut aliases = match &aliases_l.old {
        Some(t) => AliasesFile::parse(&aliases_l.file.display, t)?,
        None => AliasesFile::empty(&aliases_l.file.display),
    };
    warnings.extend(aliases.diagnostics().iter().map(|d| d.to_string()));
    let mut matches = MatchesFile::parse(
        &matches_l.file.display,
        matches_l.old.as_deref().unwrap_or(""),
    );

    let (functions, mut by_id_written) =
        aliases::edit(&chosen, next, action, opts, &mut aliases, &mut warnings)?;
    match action {
        Action::Unreserve => {
            aliases::id_aliases_kept(&chosen, &aliases, &mut warnings);
            aliases::remove_orphans(orphans, &mut aliases, &mut warnings);
        }
        Action::Reserve => {
            if opts.by_id {
                by_id_written = chosen.iter().map(|(f, _)| (*f, id_alias(f))).collect();
            }
            aliases::id_aliases_take_all(host, by_id_written, &mut warnings);
        }
    }
    matches::edit(
        host,
        &chosen,
        action,
        opts,
        &aliases,
        &mut matches,
        &mut warnings,
    );

    // New contents: an emptied file is removed.
    let new_of = |text: String| (!text.is_empty()).then_some(text);
    let aliases_new = new_of(aliases.to_string());
    let matches_new = if opts.matches {
        new_of(matches.to_string())
    } else {
        matches_l.old.clone()
    };
    let mut changes = vec![
        FileChange {
            file: aliases_l.file,
            old: aliases_l.old,
            new: aliases_new.clone(),
        },
        FileChange {
            file: matches_l.file,
            old: matches_l.old,
            new: matches_new.clone(),
        },
    ];
    if let Some(cfg) = config_l {
        // pptctl's module lines, only for files its own module delivers.
        let wants = modules::wants(&aliases_t, &matches_t, &aliases_new, &matches_new, opts);
        changes.push(modules::config_change(layout, cfg, &wants)?);
    }
    if action == Action::Reserve && aliases_new.is_some() {
        changes.extend(filelist::change(layout, &tree, &mut warnings)?);
    }
    Ok(Plan {
        action,
        layout: layout.clone(),
        functions,
        changes,
        warnings,
    })
}
