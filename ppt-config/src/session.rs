//! The library session: one host, loaded once, with the configuration that
//! decides binding and candidacy read once, answering the questions every
//! `pptctl` command (and any other program) asks.
//!
//! ```text
//! Session::open(&SessionOptions)   load the host (crate::host_load),
//!                                  capture the configuration files
//!   .host() / .warnings()          the host and what loading it met
//!   .files()                       the captured files (pci_illumos::files)
//!   .matches()                     ppt_matches as libppt reads it now
//!   .binding()                     the kernel's binding at the next boot
//!   .into_match_report(selectors)  what `pptctl match` answers
//!   .check(selectors, vms)         the viability report
//!   .reserve_layout(..)            where a reservation is written
//!   .ppt_after(&function)          on ppt after the next boot? (one answer)
//!   .next_ppt()                    that answer for every function, with why
//! ```
//!
//! Nothing here prints or exits; errors are [`SessionError`].

pub mod archive;
mod captured;
pub mod nextboot;
mod pending;
pub mod ppt_after;
mod replay;
mod snapshot_v2;

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use crate::host_load::{self, LoadError, LoadOptions, SourceSpec};
use pci_core::progress::Observer;
use pci_core::sources::SysfsDetail;
use pci_core::{Diagnostic, Host};
use pci_illumos::aliases::BindingFileError;
use pci_illumos::binding::{self, BindingReport, KernelFiles};
use pci_illumos::files::{ConfigFiles, Origin};
use pci_illumos::matches::{MatchesError, PptMatches};
use pci_illumos::root::HostRoot;

use crate::boot_media::{BootMediaError, BootStyle, Layout};
use crate::match_report::MatchReport;
use crate::reserve::ReserveError;
use crate::selector::{self, Selector, SelectorError};
use crate::viability::Report;

use captured::{capture, media_ref, next_boot_source, next_kernel_files};
pub use captured::{next_boot, root_archive, Captured, NextBootSource};
pub use nextboot::{BootModule, MediaRef, NextBoot};
pub use pending::vm_plan;
pub use ppt_after::{NextBootPpt, PptAfter};

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
    /// Told of the functions read, so a caller can show progress on a
    /// large host.
    pub progress: Observer,
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
            progress: Observer::none(),
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
    /// A version 2 snapshot could not be read.
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::SnapshotError),
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
            files.capture(Origin::Root, release, &HostRoot::new(root));
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

/// What a replayed snapshot recorded beyond the host and configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// Which host, when, and what it runs.
    pub host: crate::snapshot::HostInfo,
    /// The bhyve zones.
    pub vms: crate::snapshot::VmsV2,
}

/// One loaded host and its configuration.
#[derive(Debug)]
pub struct Session {
    opts: SessionOptions,
    host: Host,
    media: Option<MediaRef>,
    captured: OnceCell<Captured>,
    replayed: Option<Replay>,
    next_ppt: OnceCell<NextBootPpt>,
}

impl Session {
    /// Loads the host the options name and checks the boot media. The
    /// configuration files are read on first use, once.
    pub fn open(opts: &SessionOptions) -> Result<Session, SessionError> {
        if let SourceSpec::Snapshot(file) = &opts.source {
            if let Some(s) = Session::replay_file(opts, file)? {
                return Ok(s);
            }
        }
        let media = match &opts.boot_media {
            Some(dir) => Some(media_ref(dir, opts.boot_style)?),
            None => None,
        };
        // Node names predicted for functions no devinfo tree describes
        // depend on what the next boot's alias files bind (an IDE
        // controller is pci-ide only when nothing does), so the
        // configuration is captured first for such sources. A file that
        // cannot be read is reported by the question that needs it; the
        // names then assume nothing binds.
        let captured = OnceCell::new();
        let mut kernel_files = None;
        if !opts.source.is_illumos_tree() && opts.detail == SysfsDetail::Full {
            let c = captured.get_or_init(|| capture(&HostRoot::new(&opts.root), media.clone()));
            kernel_files = match next_kernel_files(c) {
                Ok(Some(k)) => Some(k),
                Ok(None) => KernelFiles::from_files(&c.files).ok(),
                Err(_) => None,
            };
        }
        let host = host_load::load_host(&LoadOptions {
            source: opts.source.clone(),
            root: opts.root.clone(),
            cfgspace: opts.cfgspace.clone(),
            detail: opts.detail,
            kernel_files,
            progress: opts.progress.clone(),
        })?;
        Ok(Session {
            opts: opts.clone(),
            host,
            media,
            captured,
            replayed: None,
            next_ppt: OnceCell::new(),
        })
    }

    /// A session over `host`, read or built elsewhere, with the
    /// configuration of `opts` (`--root`, `--boot-media`) read from this
    /// machine on first use, as [`Session::open`] reads it: what a program
    /// that already holds the host asks (and the tests of `reserve`).
    pub fn with_host(opts: &SessionOptions, host: Host) -> Result<Session, SessionError> {
        let media = match &opts.boot_media {
            Some(dir) => Some(media_ref(dir, opts.boot_style)?),
            None => None,
        };
        Ok(Session {
            opts: opts.clone(),
            host,
            media,
            captured: OnceCell::new(),
            replayed: None,
            next_ppt: OnceCell::new(),
        })
    }

    /// A session over a host and configuration read elsewhere (a
    /// snapshot): nothing is read from this machine.
    pub fn from_parts(opts: &SessionOptions, host: Host, captured: Captured) -> Session {
        let cell = OnceCell::new();
        let media = captured.media.clone();
        let _ = cell.set(captured);
        Session {
            opts: opts.clone(),
            host,
            media,
            captured: cell,
            replayed: None,
            next_ppt: OnceCell::new(),
        }
    }

    /// This session, replaying a snapshot that recorded `replay`.
    pub(crate) fn replaying(mut self, replay: Replay) -> Session {
        self.replayed = Some(replay);
        self
    }

    /// What the replayed snapshot recorded, when this session replays one.
    pub fn replayed(&self) -> Option<&Replay> {
        self.replayed.as_ref()
    }

    /// The version 2 snapshot of this session.
    pub fn snapshot(&self) -> crate::snapshot::SnapshotV2 {
        crate::snapshot::SnapshotV2::of(self)
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

    /// The captured configuration (read on first call).
    pub fn captured(&self) -> &Captured {
        self.captured
            .get_or_init(|| capture(&self.root(), self.media.clone()))
    }

    /// The captured configuration files (read on first call).
    pub fn files(&self) -> &ConfigFiles {
        &self.captured().files
    }

    /// Whether the root is SmartOS (its `/etc/release` says so).
    pub fn is_smartos(&self) -> bool {
        self.files().is_smartos()
    }

    /// Gives an illumos device tree (devinfo snapshot, live kernel) the
    /// host facts the files under `--root` tell; other sources carry their
    /// own. Returns the diagnostics met.
    pub fn add_illumos_facts(&mut self) -> Vec<Diagnostic> {
        if !self.opts.source.is_illumos_tree() || self.replayed.is_some() {
            return Vec::new();
        }
        let root = self.root();
        self.next_ppt = OnceCell::new();
        pci_illumos::hostfacts::fill(&mut self.host, &root)
    }

    /// `ppt_matches` as libppt reads it on this host now.
    pub fn matches(&self) -> Result<PptMatches, MatchesError> {
        PptMatches::from_files(self.files())
    }

    /// The kernel binding files of the running boot (`/system/boot`
    /// first, then `/etc`).
    pub fn kernel_files(&self) -> Result<KernelFiles, BindingFileError> {
        KernelFiles::from_files(self.files())
    }

    /// Where the next boot's configuration comes from.
    pub fn next_boot_source(&self) -> NextBootSource {
        next_boot_source(self.captured())
    }

    /// What the next boot reads: its boot modules, boot options and what
    /// keeps it from being predicted.
    pub fn next_boot(&self) -> NextBoot {
        next_boot(self.captured())
    }

    /// Why the next boot cannot be predicted, when it cannot.
    pub fn next_boot_unknown(&self) -> Option<String> {
        match self.next_boot_source() {
            NextBootSource::Unknown(why) => Some(why),
            _ => None,
        }
    }

    /// The kernel binding files the next boot reads, or `None` when that
    /// is not known ([`NextBootSource::Unknown`]).
    pub(crate) fn next_kernel_files(&self) -> Result<Option<KernelFiles>, BindingFileError> {
        next_kernel_files(self.captured())
    }

    /// `ppt_matches` as libppt will read it after the next boot (the
    /// running copy when the next boot is not known).
    pub(crate) fn next_matches(&self) -> Result<PptMatches, MatchesError> {
        let files = self.files();
        let NextBootSource::Media(m) = self.next_boot_source() else {
            return self.matches();
        };
        let next = self.next_boot();
        let etc = pci_illumos::matches::MATCHES_ETC;
        let found = nextboot::next_boot_file(files, &m, &next, etc).map_err(|e| match e {
            BindingFileError::Read(e) => MatchesError::Open(e),
            BindingFileError::TooLarge { file, size, limit } => {
                MatchesError::TooLarge { file, size, limit }
            }
        })?;
        Ok(match found {
            Some((shown, bytes)) => PptMatches::parse(bytes, &shown),
            None => PptMatches::default(),
        })
    }

    /// The kernel's binding of every node at the next boot. When the next
    /// boot is not known, the running configuration's aliases are
    /// reported and no prediction claims a driver.
    pub fn binding(&self) -> Result<BindingReport, BindingFileError> {
        let (files, known) = match self.next_kernel_files()? {
            Some(f) => (f, true),
            None => (self.kernel_files()?, false),
        };
        // On SmartOS every /dev/pptN is a guess: binding::predict says so
        // (KernelFiles::smartos).
        let mut report = binding::predict(&self.host, &files);
        if !known {
            for p in &mut report.predictions {
                p.known = false;
                p.after = None;
                p.dev = None;
            }
        }
        Ok(report)
    }

    /// What `ppt_matches` and `ppt_aliases` do on this host and which
    /// drivers change at the next boot, those changes limited to the
    /// functions `selectors` name (all when empty). The report keeps the
    /// host, so the session is consumed. Selectors are resolved first, so
    /// a typo is reported before a file is read.
    pub fn into_match_report(self, selectors: &[Selector]) -> Result<MatchReport, SessionError> {
        let only = if selectors.is_empty() {
            None
        } else {
            let chosen = selector::resolve(&self.host, selectors)?;
            Some(
                chosen
                    .iter()
                    .filter_map(|f| f.devfs_path().map(str::to_string))
                    .collect(),
            )
        };
        let matches = self.matches()?;
        let binding = self.binding()?;
        let unknown = self.next_boot_unknown();
        let fix = self.next_boot_fix();
        let fails = nextboot::verdicts::archive_omits(self.captured(), &self.opts.root)
            .map(|r| (r.code, format!("{}; {}", r.message, r.hint)))
            .into_iter()
            .collect();
        Ok(MatchReport::new(self.host, matches, binding)
            .with_next_boot_unknown(unknown, fix)
            .with_next_boot_fails(fails)
            .with_only(only))
    }
}
