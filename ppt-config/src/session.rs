//! The library session: one host, loaded once, with the configuration that
//! decides binding and candidacy read once, answering the questions every
//! `pptctl` command (and any other program) asks.
//!
//! ```text
//! Session::open(&SessionOptions)   load the host (pci_illumos::load),
//!                                  capture the configuration files
//!   .host() / .warnings()          the host and what loading it met
//!   .files()                       the captured files (pci_illumos::files)
//!   .matches()                     ppt_matches as libppt reads it now
//!   .binding()                     the kernel's binding at the next boot
//!   .check(selectors, vms)         the viability report
//!   .reserve_layout(..)            where a reservation is written
//!   .pending_bindings()            what ppt_aliases binds at the next boot
//! ```
//!
//! Nothing here prints or exits; errors are [`SessionError`].

mod pending;

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use pci_core::sources::SysfsDetail;
use pci_core::{Diagnostic, Host};
use pci_illumos::aliases::BindingFileError;
use pci_illumos::binding::{self, BindingReport, KernelFiles};
use pci_illumos::files::{ConfigFiles, Origin};
use pci_illumos::load::{self, LoadError, LoadOptions, SourceSpec};
use pci_illumos::matches::{MatchesError, PptMatches};
use pci_illumos::root::HostRoot;

use crate::boot_media::{BootMediaError, BootStyle, Layout};
use crate::reserve::ReserveError;
use crate::selector::{self, Selector, SelectorError};
use crate::viability::pending::VmPlan;
use crate::viability::{self, Plan, Report};
use crate::vmadm::PendingBindings;

pub use pending::vm_plan;

/// What a session loads.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `--from`, parsed.
    pub source: SourceSpec,
    /// `--from` as given (kept for labels: `auto` on illumos).
    pub source_text: String,
    /// `--root`: the filesystem root of the host's files.
    pub root: PathBuf,
    /// `--cfgspace`: raw config space saved by `pcieadm save-cfgspace -a`.
    pub cfgspace: Option<PathBuf>,
    /// `--boot-media`: the SmartOS boot media (USB key or boot pool's
    /// boot dataset) whose configuration the next boot reads.
    pub boot_media: Option<PathBuf>,
    /// `--boot-style`: force GRUB or loader for `boot_media`.
    pub boot_style: Option<BootStyle>,
    /// How much to read per function ([`SysfsDetail::Identity`] skips the
    /// illumos passes).
    pub detail: SysfsDetail,
}

impl SessionOptions {
    /// Options for `--from FROM --root ROOT`, full detail, nothing else.
    pub fn new(from: &str, root: impl Into<PathBuf>) -> Result<SessionOptions, SessionError> {
        Ok(SessionOptions {
            source: SourceSpec::parse(from)?,
            source_text: from.to_string(),
            root: root.into(),
            cfgspace: None,
            boot_media: None,
            boot_style: None,
            detail: SysfsDetail::Full,
        })
    }

    /// The source as a user would write it back (`auto` resolved).
    pub fn source_label(&self) -> String {
        self.source.label(&self.source_text)
    }
}

/// Why a session could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The host could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A kernel binding file could not be read.
    #[error(transparent)]
    Binding(#[from] BindingFileError),
    /// `ppt_matches` could not be read.
    #[error(transparent)]
    Matches(#[from] MatchesError),
    /// The boot media cannot be used.
    #[error(transparent)]
    BootMedia(#[from] BootMediaError),
    /// A selector is malformed or matches nothing.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The pending reservation could not be read.
    #[error(transparent)]
    Reserve(#[from] ReserveError),
    /// A write was asked for a SmartOS root without boot media.
    #[error("this is SmartOS: /etc is a ramdisk and a change there is lost at reboot; give --boot-media DIR (the mounted USB key, or the boot pool's boot directory)")]
    SmartosRamdisk,
}

/// Where a reservation is written: the boot media when given, else
/// `root`'s `/etc` (refused on SmartOS, whose `/etc` is a ramdisk). Needs
/// no host, so a write is refused before anything else is read.
pub fn reserve_layout(
    root: &Path,
    boot_media: Option<&Path>,
    style: Option<BootStyle>,
) -> Result<Layout, SessionError> {
    match boot_media {
        Some(dir) => Ok(Layout::boot_media(dir, style)?),
        None => {
            let mut files = ConfigFiles::default();
            let release = pci_illumos::files::RELEASE;
            files.capture(Origin::Root, release, &HostRoot::new(root).path(release));
            if files.is_smartos() {
                Err(SessionError::SmartosRamdisk)
            } else {
                Ok(Layout::persistent(root))
            }
        }
    }
}

/// What [`Session::check`] answers.
#[derive(Debug, Clone)]
pub struct CheckAnswer {
    /// The viability report.
    pub report: Report,
    /// Problems with the configuration files as a whole (e.g. a
    /// `ppt_matches` read only in part), for the user.
    pub diagnostics: Vec<Diagnostic>,
}

/// One loaded host and its configuration.
#[derive(Debug)]
pub struct Session {
    opts: SessionOptions,
    host: Host,
    files: OnceCell<ConfigFiles>,
}

impl Session {
    /// Loads the host the options name. The configuration files are read
    /// on first use, once.
    pub fn open(opts: &SessionOptions) -> Result<Session, SessionError> {
        let host = load::load_host(&LoadOptions {
            source: opts.source.clone(),
            root: opts.root.clone(),
            cfgspace: opts.cfgspace.clone(),
            detail: opts.detail,
        })?;
        Ok(Session {
            opts: opts.clone(),
            host,
            files: OnceCell::new(),
        })
    }

    /// The options the session was opened with.
    pub fn options(&self) -> &SessionOptions {
        &self.opts
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The host, taken out of the session.
    pub fn into_host(self) -> Host {
        self.host
    }

    /// What loading the host met (also in [`Host::warnings`]).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.host.warnings
    }

    /// The `--root` directory.
    pub fn root(&self) -> HostRoot {
        HostRoot::new(&self.opts.root)
    }

    /// The captured configuration files (read on first call).
    pub fn files(&self) -> &ConfigFiles {
        self.files
            .get_or_init(|| ConfigFiles::capture_root(&self.root()))
    }

    /// Whether the root is SmartOS (its `/etc/release` says so).
    pub fn is_smartos(&self) -> bool {
        self.files().is_smartos()
    }

    /// Gives an illumos device tree (devinfo snapshot, live kernel) the
    /// host facts the files under `--root` tell; other sources carry their
    /// own. Returns the diagnostics met.
    pub fn add_illumos_facts(&mut self) -> Vec<Diagnostic> {
        if !self.opts.source.is_illumos_tree() {
            return Vec::new();
        }
        let root = self.root();
        pci_illumos::hostfacts::fill(&mut self.host, &root)
    }

    /// `ppt_matches` as libppt reads it on this host now.
    pub fn matches(&self) -> Result<PptMatches, MatchesError> {
        PptMatches::from_files(self.files())
    }

    /// The kernel binding files.
    pub fn kernel_files(&self) -> Result<KernelFiles, BindingFileError> {
        KernelFiles::from_files(self.files())
    }

    /// The kernel's binding of every node at the next boot.
    pub fn binding(&self) -> Result<BindingReport, BindingFileError> {
        Ok(binding::predict(&self.host, &self.kernel_files()?))
    }

    /// The viability report for the functions `selectors` name (every
    /// endpoint when empty), with the pending configuration and `vms`.
    pub fn check(
        &self,
        selectors: &[Selector],
        vms: Vec<VmPlan>,
    ) -> Result<CheckAnswer, SessionError> {
        let selected = selector::resolve(&self.host, selectors)?
            .iter()
            .map(|f| f.address)
            .collect();
        let mut plan = Plan {
            selected,
            ..Default::default()
        };
        let files = self.kernel_files()?;
        pending::next_boot(&self.host, &files, &mut plan);
        let matches = self.matches()?;
        pending::matches_listed(&self.host, &matches, &mut plan);
        plan.pending.vms = vms;
        Ok(CheckAnswer {
            report: viability::evaluate(&self.host, &plan),
            diagnostics: matches.diagnostics,
        })
    }

    /// What `ppt_aliases` binds at the next boot: the boot media's copy
    /// when the session has boot media, else `--root`'s `/etc` copy.
    pub fn pending_bindings(&self) -> Result<PendingBindings, SessionError> {
        let layout = match &self.opts.boot_media {
            Some(dir) => Layout::boot_media(dir, self.opts.boot_style)?,
            None => Layout::persistent(&self.opts.root),
        };
        Ok(crate::reserve::pending_bindings(&layout)?)
    }
}
