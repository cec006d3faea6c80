//! The boot modules of a plan on boot media: which file the next boot
//! reads as `/etc/ppt_aliases` (the user's own module, when one delivers
//! it), and the module lines pptctl adds or removes.
//!
//! The next boot's modules come from the one next-boot model
//! ([`crate::session::nextboot`]): dboot names a module by its path unless
//! a non-empty `name=` overrides, and of two modules with one name the one
//! loaded last wins. When that module is not pptctl's own, appending
//! pptctl's module would shadow it and drop the user's other aliases, so
//! the plan edits the user's file instead (or refuses, naming it).

use pci_illumos::files::ConfigFiles;

use super::{FileChange, Loaded, ReserveError};
use crate::boot_media::{BootStyle, Layout, ManagedFile, Which};
use crate::loader_conf::LoaderConf;
use crate::menu_lst::MenuLst;
use crate::session::nextboot::{self, NextBoot};

/// Which file holds what the next boot reads as `/etc/<which>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// pptctl's own file (the layout's), loaded by pptctl's module line.
    Own(ManagedFile),
    /// The user's module delivers it: edit that file, leave the module
    /// lines alone. `by` is where the module is configured.
    User {
        /// The module's file on the media.
        file: ManagedFile,
        /// `config:line` of the module.
        by: String,
    },
}

impl Target {
    /// The file to edit.
    pub(super) fn file(&self) -> &ManagedFile {
        match self {
            Target::Own(f) | Target::User { file: f, .. } => f,
        }
    }
}

/// Where `which` is edited in `layout`: the module the next boot reads it
/// from when that is not pptctl's own, else the layout's file.
pub(super) fn target(
    layout: &Layout,
    which: Which,
    warnings: &mut Vec<String>,
) -> Result<Target, ReserveError> {
    let own = layout.file(which);
    let (Layout::BootMedia { dir, style }, Some(spec)) = (layout, layout.module(which)) else {
        return Ok(Target::Own(own));
    };
    let mut files = ConfigFiles::default();
    nextboot::capture(&mut files, dir, *style);
    let next = NextBoot::of_media(&files, *style);
    let host_path = format!("/etc/{}", which.name());
    let Some(m) = next.module_for(&host_path) else {
        return Ok(Target::Own(own));
    };
    if m.path == spec.volume_path {
        return Ok(Target::Own(own));
    }
    let refuse = |why: String| {
        ReserveError::Module(format!(
            "{}:{}: the next boot reads {host_path} from the module {}: {why}; \
             pptctl will not add a module that shadows it: fix or remove that module line first",
            dir.join(m.config.trim_start_matches('/')).display(),
            m.line,
            m.path
        ))
    };
    let Some(p) = nextboot::volume_path(&m.path) else {
        return Err(refuse("that is not a path on the boot media".into()));
    };
    if let Some(problem) = next
        .problems
        .iter()
        .find(|q| q.line == m.line && q.file == m.config)
    {
        return Err(refuse(problem.message.clone()));
    }
    let file = ManagedFile {
        display: dir.join(p.trim_start_matches('/')).display().to_string(),
        relative: p.trim_start_matches('/').into(),
    };
    warnings.push(format!(
        "the next boot reads {host_path} from {} (the module at {}): editing that file instead of adding a module that would shadow it",
        file.display,
        m.by()
    ));
    Ok(Target::User { file, by: m.by() })
}

/// pptctl's module lines to add or remove: one per file its own module
/// delivers (`ppt_matches` only when edited or present), with whether the
/// file will exist.
pub(super) fn wants(
    aliases: &Target,
    matches: &Target,
    aliases_new: &Option<String>,
    matches_new: &Option<String>,
    opts: super::Options,
) -> Vec<(Which, bool)> {
    let mut wants = Vec::new();
    if matches!(aliases, Target::Own(_)) {
        wants.push((Which::Aliases, aliases_new.is_some()));
    }
    if matches!(matches, Target::Own(_)) && (opts.matches || matches_new.is_some()) {
        wants.push((Which::Matches, matches_new.is_some()));
    }
    wants
}

/// The boot configuration's new text: pptctl's module line for each of
/// `wants` (`which`, whether its file will exist) added or removed, except
/// where the user's module delivers the file.
pub(super) fn config_change(
    layout: &Layout,
    cfg: Loaded,
    wants: &[(Which, bool)],
) -> Result<FileChange, ReserveError> {
    let style = layout.style().unwrap_or(BootStyle::Grub);
    let new = match style {
        BootStyle::Grub => {
            let mut m = MenuLst::parse(&cfg.file.display, cfg.old.as_deref().unwrap_or(""));
            for (which, present) in wants {
                let Some(spec) = layout.module(*which) else {
                    continue;
                };
                if *present {
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
                let Some(spec) = layout.module(*which) else {
                    continue;
                };
                if *present {
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
    Ok(FileChange {
        file: cfg.file,
        old: cfg.old,
        new,
    })
}
