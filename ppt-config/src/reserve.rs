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

use std::path::PathBuf;

use pci_core::{Address, Function, Host, PathSource};
use similar::TextDiff;

use crate::aliases_file::AliasesFile;
use crate::atomic::{self, AtomicError, Tree, WriteOutcome};
use crate::boot_media::{BootStyle, Layout, ManagedFile, Which};
use crate::edit::EditError;
use crate::loader_conf::LoaderConf;
use crate::matches_file::{id_line, MatchesFile};
use crate::menu_lst::MenuLst;
use pci_illumos::binding;

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
    /// A file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// Host path of the file.
        file: String,
        /// What failed.
        source: AtomicError,
    },
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
    /// Whether the aliases already said what the action wants (reserved
    /// for `reserve`, not reserved for `unreserve`).
    pub already: bool,
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

/// The id alias `--by-id` writes, `pciexVVVV,DDDD` or `pciVVVV,DDDD`.
pub fn id_alias(f: &Function) -> String {
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
pub fn cautions(f: &Function) -> Vec<String> {
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
    let io = |source| ReserveError::Io {
        file: file.display.clone(),
        source,
    };
    let real = tree.resolve(&file.relative).map_err(io)?;
    let bytes = atomic::read_optional(&real).map_err(io)?;
    let old = match bytes {
        Some(b) => Some(crate::edit::decode(&file.display, &b)?.to_string()),
        None => None,
    };
    Ok(Loaded { file, old })
}

/// Plans `action` for `selected` functions of `host` in `layout`.
pub fn plan(
    host: &Host,
    selected: &[&Function],
    action: Action,
    opts: Options,
    layout: &Layout,
) -> Result<Plan, ReserveError> {
    plan_with_orphans(host, selected, &[], action, opts, layout)
}

/// Like [`plan`], and for `unreserve` also removes the path aliases in
/// `orphans`: devfs paths that are no longer on the host (a card moved to
/// another slot leaves an alias that binds nothing). Ignored for `reserve`.
pub fn plan_with_orphans(
    host: &Host,
    selected: &[&Function],
    orphans: &[String],
    action: Action,
    opts: Options,
    layout: &Layout,
) -> Result<Plan, ReserveError> {
    let mut warnings = Vec::new();
    // 1. The functions: the selected ones plus the other functions of their
    // devices (a GPU's audio function) unless --single-function.
    let mut chosen: Vec<(&Function, Option<Address>)> = Vec::new();
    for f in &host.functions {
        if selected.iter().any(|s| s.address == f.address) {
            chosen.push((f, None));
        } else if !opts.single_function {
            if let Some(s) = selected.iter().find(|s| s.address.same_device(&f.address)) {
                chosen.push((f, Some(s.address)));
            }
        }
    }
    // Functions not in host.functions (a caller's own list) are kept too.
    for s in selected {
        if !chosen.iter().any(|(f, _)| f.address == s.address) {
            chosen.push((s, None));
        }
    }

    // 2. Refusals, only when reserving.
    if action == Action::Reserve {
        warnings.extend(chosen.iter().flat_map(|(f, _)| cautions(f)));
        let reasons: Vec<String> = chosen.iter().flat_map(|(f, _)| refusal(host, f)).collect();
        if !reasons.is_empty() {
            if !opts.force {
                return Err(ReserveError::Refused(reasons));
            }
            warnings.extend(reasons.into_iter().map(|r| format!("--force: {r}")));
        }
    }

    let tree = Tree::new(layout.tree_root()).map_err(|source| ReserveError::Io {
        file: layout.tree_root().display().to_string(),
        source,
    })?;
    let aliases_l = load(&tree, layout.file(Which::Aliases))?;
    let matches_l = load(&tree, layout.file(Which::Matches))?;
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

    // 3. Aliases.
    let mut functions = Vec::new();
    // Compatible aliases written for unclaimed functions (warned about
    // like --by-id ones below).
    let mut by_id_written: Vec<(&Function, String)> = Vec::new();
    for (f, sibling_of) in &chosen {
        let path = f
            .illumos
            .as_ref()
            .map(|n| n.path.clone())
            .filter(|p| p.starts_with('/'));
        // A path alias never takes a function no driver claims (the kernel
        // looks path aliases up only for nodes another driver has bound,
        // pci-illumos `binding`): such functions get the compatible alias.
        let unclaimed = !opts.by_id && action == Action::Reserve && binding::unclaimed(f);
        let alias = if opts.by_id {
            id_alias(f)
        } else if unclaimed {
            let a = binding::compatible_alias(f)
                .map(str::to_string)
                .unwrap_or_else(|| id_alias(f));
            warnings.push(format!(
                "{}: no driver claims {} (the device tree shows it unbound), so a path alias \
                 would never take effect: the kernel looks path aliases up only for nodes \
                 another driver has bound first. Writing the compatible alias ppt \"{a}\" instead.",
                f.address,
                path.as_deref().unwrap_or("it"),
            ));
            by_id_written.push((*f, a.clone()));
            a
        } else {
            match &path {
                Some(p) => p.clone(),
                None => return Err(ReserveError::NoPath { address: f.address }),
            }
        };
        if !opts.by_id
            && f.illumos.as_ref().and_then(|n| n.path_source) == Some(PathSource::Predicted)
        {
            warnings.push(format!(
                "{}: the path {alias} is predicted, not read from the device tree; \
                 check it against `prtconf -v` before rebooting",
                f.address
            ));
        }
        let already = match action {
            Action::Reserve => !aliases.add_alias(DRIVER, &alias)?,
            Action::Unreserve => aliases.remove_alias(DRIVER, &alias) == 0,
        };
        if let Some(s) = sibling_of {
            if action == Action::Reserve && !already {
                warnings.push(format!(
                    "also reserving {}, another function of the device of {s} \
                     (--single-function to leave it with the host)",
                    f.address
                ));
            } else if action == Action::Unreserve && !already {
                warnings.push(format!(
                    "also unreserving {}, another function of the device of {s}",
                    f.address
                ));
            }
        }
        functions.push(PlannedFunction {
            address: f.address,
            path,
            ids: (f.ids.vendor, f.ids.device),
            alias,
            sibling_of: *sibling_of,
            already,
            ppt_instance: f
                .illumos
                .as_ref()
                .filter(|n| n.driver.as_deref() == Some(DRIVER))
                .and_then(|n| n.instance),
        });
    }
    // An id alias keeps binding a function whose path alias is gone.
    if action == Action::Unreserve {
        for (f, _) in &chosen {
            let Some(node) = &f.illumos else { continue };
            for (line, e) in aliases.entries() {
                if e.driver.value != DRIVER {
                    continue;
                }
                for a in &e.aliases {
                    if !a.value.starts_with('/') && node.compatible.contains(&a.value) {
                        warnings.push(format!(
                            "{} stays bound to ppt by the id alias \"{}\" ({}:{line}), \
                             which takes every device with that id; remove it with --by-id",
                            f.address,
                            a.value,
                            aliases.file()
                        ));
                    }
                }
            }
        }
    }
    if action == Action::Reserve {
        if opts.by_id {
            by_id_written = chosen.iter().map(|(f, _)| (*f, id_alias(f))).collect();
        }
        let mut seen = Vec::new();
        for (f, a) in by_id_written {
            if seen.contains(&a) {
                continue;
            }
            let others: Vec<String> = host
                .functions
                .iter()
                .filter(|o| o.ids.vendor == f.ids.vendor && o.ids.device == f.ids.device)
                .map(|o| o.address.to_string())
                .collect();
            warnings.push(format!(
                "ppt \"{a}\" binds EVERY device with id {:04x}:{:04x}, now and when such \
                 devices are added later (on this host: {})",
                f.ids.vendor,
                f.ids.device,
                others.join(", ")
            ));
            seen.push(a);
        }
    }

    if action == Action::Unreserve {
        for p in orphans {
            if aliases.remove_alias(DRIVER, p) > 0 {
                warnings.push(format!(
                    "removing the alias for {p}, which is not a device on this host"
                ));
            } else {
                warnings.push(format!(
                    "{p} is neither on this host nor in {}",
                    aliases.file()
                ));
            }
        }
    }

    // 4. ppt_matches.
    if opts.matches {
        for (f, _) in &chosen {
            let (v, d) = (f.ids.vendor, f.ids.device);
            match action {
                Action::Reserve => {
                    if !crate::matches_file::id_expressible(v) {
                        warnings.push(format!(
                            "{}: no line can name vendor {v:x} (libppt reads `{}` as vendor `{:.4}`); \
                             not written, the ppt_aliases entry still reserves {}",
                            matches.file(),
                            id_line(v, d, f.is_pcie()),
                            id_line(v, d, f.is_pcie())
                                .trim_start_matches("pciex")
                                .trim_start_matches("pci"),
                            f.address
                        ));
                    }
                    matches.add_id(v, d, f.is_pcie());
                }
                Action::Unreserve => {
                    // Keep the line while another reserved function has the id.
                    let still = host.functions.iter().any(|o| {
                        o.ids.vendor == v
                            && o.ids.device == d
                            && !chosen.iter().any(|(c, _)| c.address == o.address)
                            && o.illumos
                                .as_ref()
                                .is_some_and(|n| aliases.has_alias(DRIVER, &n.path))
                    }) || aliases.has_alias(DRIVER, &id_line(v, d, f.is_pcie()));
                    if !still {
                        matches.remove_id(v, d);
                    }
                }
            }
        }
    }

    // 5. New contents: an emptied file is removed.
    let new_of = |text: String| (!text.is_empty()).then_some(text);
    let aliases_new = new_of(aliases.to_string());
    let matches_new = if opts.matches {
        new_of(matches.to_string())
    } else {
        matches_l.old.clone()
    };

    // 6. Boot modules on boot media.
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
        let style = layout.style().unwrap_or(BootStyle::Grub);
        let mut wants: Vec<(Which, bool)> = vec![(Which::Aliases, aliases_new.is_some())];
        if opts.matches || matches_new.is_some() {
            wants.push((Which::Matches, matches_new.is_some()));
        }
        let new = match style {
            BootStyle::Grub => {
                let mut m = MenuLst::parse(&cfg.file.display, cfg.old.as_deref().unwrap_or(""));
                for (which, present) in wants {
                    let Some(spec) = layout.module(which) else {
                        continue;
                    };
                    if present {
                        m.ensure_module(&spec.volume_path, &spec.kernel_name)?;
                    } else {
                        m.remove_module(&spec.volume_path);
                    }
                }
                m.to_string()
            }
            BootStyle::Loader => {
                let mut l = LoaderConf::parse(&cfg.file.display, cfg.old.as_deref().unwrap_or(""));
                for (which, present) in wants {
                    let Some(spec) = layout.module(which) else {
                        continue;
                    };
                    if present {
                        l.ensure_module(&spec.prefix, &spec.volume_path, &spec.kernel_name);
                    } else {
                        l.remove_module(&spec.kernel_name);
                    }
                }
                l.to_string()
            }
        };
        // An emptied loader.conf.local is removed (loader treats a missing
        // .local file as empty), so unreserve restores a key that had none.
        let new = if new.is_empty() && (cfg.old.is_none() || style == BootStyle::Loader) {
            None
        } else {
            Some(new)
        };
        changes.push(FileChange {
            file: cfg.file,
            old: cfg.old,
            new,
        });
    }

    Ok(Plan {
        action,
        layout: layout.clone(),
        functions,
        changes,
        warnings,
    })
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

    /// Writes the changes: locks every directory involved, checks each file
    /// still holds what was planned from, then writes the data files before
    /// the boot configuration when reserving (a module line never names a
    /// missing file) and after it when unreserving. Returns each changed
    /// file's display path and outcome.
    pub fn apply(&self) -> Result<Vec<(String, WriteOutcome)>, ReserveError> {
        self.apply_until(&|_| false)
    }

    /// [`Plan::apply`], asking `stop` at each [`Step`] whether to stop
    /// there (a signal arrived). Stopping leaves every file either as it
    /// was or fully written, in the order that keeps the media bootable:
    /// on reserve the reservation files before the boot configuration that
    /// loads them, on unreserve the boot configuration first (a module line
    /// never names a missing file). The error then lists what was and was
    /// not written; running the same plan again completes it.
    pub fn apply_until(
        &self,
        stop: &dyn Fn(Step<'_>) -> bool,
    ) -> Result<Vec<(String, WriteOutcome)>, ReserveError> {
        let root_err = |source| ReserveError::Io {
            file: self.layout.tree_root().display().to_string(),
            source,
        };
        let tree = Tree::new(self.layout.tree_root())
            .map_err(root_err)?
            .with_backup_dir(self.layout.backup_dir());
        let mut todo: Vec<(&FileChange, PathBuf)> = Vec::new();
        for c in self.changes.iter().filter(|c| c.changes()) {
            let io = |source| ReserveError::Io {
                file: c.file.display.clone(),
                source,
            };
            let real = tree.resolve(&c.file.relative).map_err(io)?;
            if let Some(dir) = real.parent() {
                if c.new.is_some() {
                    tree.create_dirs(dir).map_err(io)?;
                }
            }
            todo.push((c, real));
        }
        let dirs: Vec<&std::path::Path> = todo
            .iter()
            .filter_map(|(_, r)| r.parent())
            .filter(|d| d.is_dir())
            .collect();
        let not_done = |from: usize| -> Vec<String> {
            let mut files: Vec<&FileChange> = self.changes.iter().filter(|c| c.changes()).collect();
            files.sort_by_key(|c| self.write_rank(c));
            files[from..]
                .iter()
                .map(|c| c.file.display.clone())
                .collect()
        };
        if stop(Step::Lock) {
            return Err(ReserveError::Interrupted {
                done: Vec::new(),
                not_done: not_done(0),
            });
        }
        let _locks = match atomic::lock_dirs_until(dirs, &|| stop(Step::LockWait)) {
            Err(AtomicError::Interrupted) => {
                return Err(ReserveError::Interrupted {
                    done: Vec::new(),
                    not_done: not_done(0),
                })
            }
            r => r.map_err(root_err)?,
        };
        for (c, real) in &todo {
            let now = atomic::read_optional(real).map_err(|source| ReserveError::Io {
                file: c.file.display.clone(),
                source,
            })?;
            if now.as_deref() != c.old.as_deref().map(str::as_bytes) {
                return Err(ReserveError::Changed(c.file.display.clone()));
            }
        }
        todo.sort_by_key(|(c, _)| self.write_rank(c));
        let mut done = Vec::new();
        for (i, (c, real)) in todo.iter().enumerate() {
            if stop(Step::Write(&c.file.display)) {
                return Err(ReserveError::Interrupted {
                    done,
                    not_done: not_done(i),
                });
            }
            let outcome = match &c.new {
                Some(t) => tree.write_locked(real, t.as_bytes()),
                None => tree.remove_locked(real),
            }
            .map_err(|source| ReserveError::Io {
                file: c.file.display.clone(),
                source,
            })?;
            done.push((c.file.display.clone(), outcome));
        }
        Ok(done)
    }

    /// The place of a file in the write order (lower first): the boot
    /// configuration last on reserve and first on unreserve, so that at
    /// every instant each module line names a file that exists. The sort
    /// is stable, so the other files keep the plan's order.
    fn write_rank(&self, c: &FileChange) -> bool {
        let is_config = self
            .layout
            .boot_config()
            .is_some_and(|b| b.relative == c.file.relative);
        match self.action {
            Action::Reserve => is_config,
            Action::Unreserve => !is_config,
        }
    }

    /// Removes the backups of the previous versions of the files in this
    /// plan's tree ([`Layout::backup_dir`]); false when there were none.
    pub fn remove_backups(layout: &Layout) -> Result<bool, ReserveError> {
        let root_err = |source| ReserveError::Io {
            file: layout
                .tree_root()
                .join(layout.backup_dir())
                .display()
                .to_string(),
            source,
        };
        Tree::new(layout.tree_root())
            .map_err(root_err)?
            .with_backup_dir(layout.backup_dir())
            .remove_backups()
            .map_err(root_err)
    }

    /// What the user does next, as lines of text; `vm_json` is the vmadm
    /// payload to suggest, printed as given.
    pub fn next_steps(&self, vm_json: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let persistent = matches!(self.layout, Layout::PersistentRoot { .. });
        match self.action {
            Action::Reserve => {
                // Nothing changed and everything is bound now: no reboot needed.
                let in_effect =
                    self.is_noop() && self.functions.iter().all(|f| f.ppt_instance.is_some());
                out.push("Next:".into());
                let mut n = 1;
                if in_effect {
                    out.push(format!(
                        "  {n}. Nothing to reboot for: the functions are bound to ppt now. `pptadm list -a` shows:"
                    ));
                } else if persistent {
                    out.push(format!(
                        "  {n}. Run `bootadm update-archive` (or pass --update-archive): the kernel reads /etc/ppt_aliases from the boot archive."
                    ));
                    n += 1;
                }
                if !in_effect {
                    out.push(format!(
                        "  {n}. Reboot. The kernel reads ppt_aliases once, at boot; until then nothing new is bound to ppt."
                    ));
                    n += 1;
                    out.push(format!(
                        "  {n}. After the reboot `pptadm list -a` should show:"
                    ));
                }
                out.push(format!(
                    "       {:<11}{:<7}{:<7}PATH",
                    "DEV", "VENDOR", "DEVICE"
                ));
                for f in &self.functions {
                    let dev = match f.ppt_instance {
                        Some(i) => format!("/dev/ppt{i}"),
                        None => "/dev/pptN".into(),
                    };
                    out.push(format!(
                        "       {:<11}{:<7}{:<7}{}",
                        dev,
                        format!("{:x}", f.ids.0),
                        format!("{:x}", f.ids.1),
                        f.path.as_deref().unwrap_or("--")
                    ));
                }
                n += 1;
                if let Some(j) = vm_json {
                    out.push(format!(
                        "  {n}. Give them to the VM (`vmadm update UUID < payload.json`, VM stopped) with:"
                    ));
                    for l in j.lines() {
                        out.push(format!("       {l}"));
                    }
                }
            }
            Action::Unreserve => {
                out.push("Next:".into());
                out.push(
                    "  1. Remove the functions from every VM first (vmadm update UUID with \"remove_pci_devices\": [\"/devices/...\"])."
                        .into(),
                );
                if persistent {
                    out.push(
                        "  2. Run `bootadm update-archive` (or pass --update-archive).".into(),
                    );
                    out.push("  3. Reboot: the functions go back to their own drivers.".into());
                } else {
                    out.push("  2. Reboot: the functions go back to their own drivers.".into());
                }
            }
        }
        out
    }
}
