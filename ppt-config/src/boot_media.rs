//! Where reservation files go: persistent root, GRUB or loader boot media.
//!
//! docs/illumos.md:
//!
//! * Persistent root (OmniOS, OpenIndiana): the kernel reads
//!   `/etc/ppt_aliases` from the boot archive, so the files are
//!   `ROOT/etc/ppt_aliases` and `ROOT/etc/ppt_matches`, followed by
//!   `bootadm update-archive` and a reboot.
//! * SmartOS boots a ramdisk root; the files must be boot modules on the
//!   boot media (the USB key or the boot pool's `boot` dataset):
//!   * GRUB (`DIR/boot/grub/menu.lst`): `DIR/overlay/etc/ppt_aliases`, loaded by
//!     `module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases`;
//!   * loader (`DIR/boot/loader.conf`): `DIR/boot/bootfs/etc/ppt_aliases`,
//!     loaded by a `_load/_type/_name/_flags` stanza in
//!     `DIR/boot/loader.conf.local` (`_name` is relative to the volume root,
//!     smartos-docs `docs/modifying-boot-files.md`).

use std::fmt;
use std::path::{Path, PathBuf};

use pci_core::root::HostRoot;
use std::str::FromStr;

/// The boot loader of SmartOS boot media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootStyle {
    /// GRUB legacy, `boot/grub/menu.lst` (SmartOS before 2019).
    Grub,
    /// illumos loader, `boot/loader.conf` (SmartOS "newboot").
    Loader,
}

impl FromStr for BootStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "grub" => Ok(BootStyle::Grub),
            "loader" => Ok(BootStyle::Loader),
            _ => Err(format!("unknown boot style `{s}` (grub or loader)")),
        }
    }
}

impl fmt::Display for BootStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BootStyle::Grub => "grub",
            BootStyle::Loader => "loader",
        })
    }
}

/// Why the boot media could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootMediaError {
    /// The directory does not exist.
    #[error("boot media {0} is not a directory (mount the USB key or give the boot pool's boot directory)")]
    NotADirectory(String),
    /// Neither boot configuration was found.
    #[error("{0} holds neither boot/grub/menu.lst nor boot/loader.conf; is it the boot media? (--boot-style grub|loader forces one)")]
    Unknown(String),
    /// Both were found.
    #[error("{0} holds both boot/grub/menu.lst and boot/loader.conf; say which one boots with --boot-style grub|loader")]
    Ambiguous(String),
    /// A boot configuration file exists but cannot be examined (a link
    /// loop, no permission).
    #[error("{file}: {reason}")]
    Unreadable {
        /// The file on the media.
        file: String,
        /// Why (names the link of a loop; says what to do when denied).
        reason: String,
    },
    /// GRUB was forced but there is no menu.lst to add module lines to.
    #[error("{0} does not exist; GRUB needs its menu.lst to load the files as boot modules")]
    NoMenu(String),
}

/// Which of the two reservation files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `ppt_aliases`: binds ppt at boot.
    Aliases,
    /// `ppt_matches`: what `pptadm list -a` shows.
    Matches,
}

impl Which {
    /// The file name.
    pub fn name(self) -> &'static str {
        match self {
            Which::Aliases => "ppt_aliases",
            Which::Matches => "ppt_matches",
        }
    }
}

/// A file `pptctl` manages: where it is in the tree and how to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedFile {
    /// The path to show the user: the host path (`/etc/ppt_aliases`), or the
    /// boot media path as the user gave it (`/mnt/overlay/etc/ppt_aliases`).
    pub display: String,
    /// Path relative to the tree root.
    pub relative: PathBuf,
}

/// How a file becomes a boot module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSpec {
    /// Path on the boot volume (`/overlay/etc/ppt_aliases` or
    /// `/boot/bootfs/etc/ppt_aliases`).
    pub volume_path: String,
    /// Name the kernel sees: GRUB `name=etc/ppt_aliases`, loader
    /// `name=/etc/ppt_aliases`.
    pub kernel_name: String,
    /// loader variable prefix for a new stanza.
    pub prefix: String,
}

/// Where the files of a reservation live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// `/etc` on a persistent root (OmniOS, OpenIndiana).
    PersistentRoot {
        /// The `--root` directory.
        root: PathBuf,
    },
    /// SmartOS boot media.
    BootMedia {
        /// The `--boot-media` directory, as given.
        dir: PathBuf,
        /// GRUB or loader.
        style: BootStyle,
    },
}

impl Layout {
    /// The persistent-root layout under `root`.
    pub fn persistent(root: &Path) -> Self {
        Layout::PersistentRoot {
            root: root.to_path_buf(),
        }
    }

    /// Boot media at `dir`, with the style detected or forced.
    pub fn boot_media(dir: &Path, forced: Option<BootStyle>) -> Result<Self, BootMediaError> {
        let shown = dir.display().to_string();
        if !dir.is_dir() {
            return Err(BootMediaError::NotADirectory(shown));
        }
        let menu = dir.join("boot/grub/menu.lst");
        // The media are their own root: a link there resolves on the media,
        // never to a file of the running host.
        let media = HostRoot::new(dir);
        let found = |p: &str| match media.metadata(p) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(BootMediaError::Unreadable {
                file: media.path(p).display().to_string(),
                reason: e.reason(),
            }),
        };
        let menu_found = found("/boot/grub/menu.lst")?;
        let loader_found = found("/boot/loader.conf")?;
        let style = match forced {
            Some(BootStyle::Grub) => {
                if !menu_found {
                    return Err(BootMediaError::NoMenu(menu.display().to_string()));
                }
                BootStyle::Grub
            }
            Some(s) => s,
            None => match (menu_found, loader_found) {
                (true, false) => BootStyle::Grub,
                (false, true) => BootStyle::Loader,
                (true, true) => return Err(BootMediaError::Ambiguous(shown)),
                (false, false) => return Err(BootMediaError::Unknown(shown)),
            },
        };
        Ok(Layout::BootMedia {
            dir: dir.to_path_buf(),
            style,
        })
    }

    /// Where the previous versions of the files pptctl changes are kept,
    /// relative to [`Layout::tree_root`]: `var/pptctl/backup` on a
    /// persistent root, `.pptctl-backup` at the top of the boot media (the
    /// one place `pptctl unreserve --clean` removes).
    pub fn backup_dir(&self) -> &'static Path {
        match self {
            Layout::PersistentRoot { .. } => Path::new("var/pptctl/backup"),
            Layout::BootMedia { .. } => Path::new(crate::atomic::BACKUP_DIR),
        }
    }

    /// The directory writes must stay in.
    pub fn tree_root(&self) -> &Path {
        match self {
            Layout::PersistentRoot { root } => root,
            Layout::BootMedia { dir, .. } => dir,
        }
    }

    fn managed(&self, relative: &str) -> ManagedFile {
        let display = match self {
            Layout::PersistentRoot { .. } => format!("/{relative}"),
            Layout::BootMedia { dir, .. } => dir.join(relative).display().to_string(),
        };
        ManagedFile {
            display,
            relative: PathBuf::from(relative),
        }
    }

    /// `ppt_aliases` or `ppt_matches` in this layout.
    pub fn file(&self, which: Which) -> ManagedFile {
        let name = which.name();
        match self {
            Layout::PersistentRoot { .. } => self.managed(&format!("etc/{name}")),
            Layout::BootMedia {
                style: BootStyle::Grub,
                ..
            } => self.managed(&format!("overlay/etc/{name}")),
            Layout::BootMedia {
                style: BootStyle::Loader,
                ..
            } => self.managed(&format!("boot/bootfs/etc/{name}")),
        }
    }

    /// The boot configuration that must load the files, if any.
    pub fn boot_config(&self) -> Option<ManagedFile> {
        match self {
            Layout::PersistentRoot { .. } => None,
            Layout::BootMedia {
                style: BootStyle::Grub,
                ..
            } => Some(self.managed("boot/grub/menu.lst")),
            Layout::BootMedia {
                style: BootStyle::Loader,
                ..
            } => Some(self.managed("boot/loader.conf.local")),
        }
    }

    /// The boot style, for boot media.
    pub fn style(&self) -> Option<BootStyle> {
        match self {
            Layout::PersistentRoot { .. } => None,
            Layout::BootMedia { style, .. } => Some(*style),
        }
    }

    /// How `which` is loaded as a boot module, for boot media.
    pub fn module(&self, which: Which) -> Option<ModuleSpec> {
        let name = which.name();
        match self.style()? {
            BootStyle::Grub => Some(ModuleSpec {
                volume_path: format!("/overlay/etc/{name}"),
                kernel_name: format!("etc/{name}"),
                prefix: name.to_string(),
            }),
            BootStyle::Loader => Some(ModuleSpec {
                volume_path: format!("/boot/bootfs/etc/{name}"),
                kernel_name: format!("/etc/{name}"),
                prefix: name.to_string(),
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_forces_styles() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        assert!(matches!(
            Layout::boot_media(d, None),
            Err(BootMediaError::Unknown(_))
        ));
        std::fs::create_dir_all(d.join("boot/grub")).unwrap();
        std::fs::write(d.join("boot/grub/menu.lst"), "").unwrap();
        let l = Layout::boot_media(d, None).unwrap();
        assert_eq!(l.style(), Some(BootStyle::Grub));
        assert_eq!(
            l.file(Which::Aliases).display,
            d.join("overlay/etc/ppt_aliases").display().to_string()
        );
        std::fs::write(d.join("boot/loader.conf"), "").unwrap();
        assert!(matches!(
            Layout::boot_media(d, None),
            Err(BootMediaError::Ambiguous(_))
        ));
        let l = Layout::boot_media(d, Some(BootStyle::Loader)).unwrap();
        assert_eq!(
            l.file(Which::Matches).relative,
            PathBuf::from("boot/bootfs/etc/ppt_matches")
        );
        assert_eq!(
            l.module(Which::Aliases).unwrap().kernel_name,
            "/etc/ppt_aliases"
        );
        let p = Layout::persistent(Path::new("/tmp/root"));
        assert_eq!(p.file(Which::Aliases).display, "/etc/ppt_aliases");
        assert!(p.boot_config().is_none());
    }
}
