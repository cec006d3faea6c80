//! Global options (`--from`, `--root`, `--cfgspace`, `--boot-media`,
//! `--boot-style`) and the library session they open.

use std::path::PathBuf;

use clap::Args;
use pci_core::sources::SysfsDetail;
use pci_core::text::{escape, EscapedPath};
use pci_core::Host;
use ppt_config::boot_media::BootStyle;
use ppt_config::session::{Session, SessionError, SessionOptions};

use crate::error::CliError;

/// Options valid for every subcommand.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Where devices come from: auto, sysfs:DIR, dump:FILE|-, snapshot:FILE, devinfo:FILE.
    #[arg(long, global = true, default_value = "auto", value_name = "SOURCE")]
    pub from: String,
    /// Filesystem root for every illumos file read or written.
    #[arg(long, global = true, default_value = "/", value_name = "DIR")]
    pub root: PathBuf,
    /// Raw config space saved by `pcieadm save-cfgspace -a DIR`, joined to devinfo nodes.
    #[arg(long, global = true, value_name = "DIR")]
    pub cfgspace: Option<PathBuf>,
    /// SmartOS: the boot media the next boot reads: the mounted USB key (/mnt/usbkey) or the boot pool's boot dataset (/zones/boot).
    #[arg(long, global = true, value_name = "DIR")]
    pub boot_media: Option<PathBuf>,
    /// Force the boot loader style of --boot-media instead of detecting it.
    #[arg(
        long,
        global = true,
        value_name = "grub|loader",
        requires = "boot_media"
    )]
    pub boot_style: Option<BootStyle>,
}

/// Every session error is unreadable input or bad usage: exit 2.
pub fn session_error(e: SessionError) -> CliError {
    CliError::input(e.to_string())
}

/// Prints the warnings loading met, on stderr.
pub fn print_warnings(session: &Session) {
    for w in session.warnings() {
        crate::output::warn(w);
    }
}

impl Global {
    /// The session options these flags give.
    pub fn options(&self, detail: SysfsDetail) -> Result<SessionOptions, CliError> {
        let mut o = SessionOptions::new(&self.from, &self.root).map_err(session_error)?;
        o.cfgspace = self.cfgspace.clone();
        o.boot_media = self.boot_media.clone();
        o.boot_style = self.boot_style;
        o.detail = detail;
        Ok(o)
    }

    /// Opens the session, printing the warnings loading met on stderr,
    /// with progress on a large host (`--progress`).
    pub fn open(&self) -> Result<Session, CliError> {
        self.open_shown(SysfsDetail::Full)
    }

    /// Opens the session at `detail` with progress, printing its warnings.
    fn open_shown(&self, detail: SysfsDetail) -> Result<Session, CliError> {
        let mut o = self.options(detail)?;
        o.progress = crate::progress::observer();
        let s = Session::open(&o).map_err(session_error)?;
        print_warnings(&s);
        if s.replayed().is_some() {
            if let Some(given) = self.config_options_given() {
                eprintln!(
                    "pptctl: note: {} is a version 2 snapshot: the configuration it recorded \
                     (ppt_aliases, driver_aliases, boot media) is used, not the files under {given}",
                    escape(&self.from)
                );
            }
        }
        Ok(s)
    }

    /// `--root DIR` (when not `/`) and `--boot-media DIR` as given, for
    /// saying they are not read; `None` when neither was given.
    fn config_options_given(&self) -> Option<String> {
        let mut given = Vec::new();
        if self.root != std::path::Path::new("/") {
            given.push(format!("--root {}", EscapedPath(&self.root)));
        }
        if let Some(m) = &self.boot_media {
            given.push(format!("--boot-media {}", EscapedPath(m)));
        }
        (!given.is_empty()).then(|| given.join(" and "))
    }

    /// The session of a command that writes under `--root` or
    /// `--boot-media` (`reserve`, `unreserve`): the devices from `--from`,
    /// the configuration always read where the command writes. A version 2
    /// snapshot gives only its devices here (said on stderr): its recorded
    /// configuration is not the files being edited.
    pub fn open_for_write(&self) -> Result<Session, CliError> {
        let mut o = self.options(SysfsDetail::Full)?;
        o.progress = crate::progress::observer();
        let s = Session::open(&o).map_err(session_error)?;
        print_warnings(&s);
        if s.replayed().is_none() {
            return Ok(s);
        }
        let at = self
            .config_options_given()
            .unwrap_or_else(|| "--root /".to_string());
        eprintln!(
            "pptctl: note: {} is a version 2 snapshot: its devices are used, but the \
             configuration is read where pptctl writes ({at}), not taken from the snapshot",
            escape(&self.from)
        );
        Session::with_host(&o, s.into_host()).map_err(session_error)
    }

    /// Opens the session without printing its warnings or progress
    /// (`pptctl bench` loads it many times under its own progress line).
    /// [`SysfsDetail::Identity`] skips the illumos passes.
    pub fn open_quiet(&self, detail: SysfsDetail) -> Result<Session, CliError> {
        Session::open(&self.options(detail)?).map_err(session_error)
    }

    /// Reads the host named by `--from`, printing its warnings on stderr.
    pub fn load_host(&self) -> Result<Host, CliError> {
        Ok(self.open()?.into_host())
    }

    /// Like [`Global::load_host`], reading only the identity of each
    /// function where the source can save work by it (sysfs), and without
    /// the illumos passes: for listings that print nothing else (`show -n`).
    pub fn load_host_identity(&self) -> Result<Host, CliError> {
        Ok(self.open_shown(SysfsDetail::Identity)?.into_host())
    }

    /// `--from` as a user would write it back (`auto` resolved), for
    /// recording in snapshots.
    pub fn source_label(&self) -> String {
        match self.options(SysfsDetail::Full) {
            Ok(o) => o.source_label(),
            Err(_) => self.from.clone(),
        }
    }
}
