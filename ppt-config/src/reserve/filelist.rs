//! The boot archive's file list on a persistent (gate-based) root.
//!
//! The kernel reads `/etc/ppt_aliases` from the boot archive, and
//! `bootadm` packs only what the file lists name
//! ([`crate::session::archive`]). When they leave it out, a reservation
//! would do nothing after the reboot: the plan adds `etc/ppt_aliases` to
//! the local list `/etc/boot/solaris/filelist.ramdisk` (the system's list
//! is replaced by updates). `ppt_matches` needs no entry: libppt reads it
//! from the mounted root, not from the archive.

use pci_illumos::files::{ConfigFiles, Origin};
use pci_illumos::root::HostRoot;

use super::{FileChange, ReserveError};
use crate::atomic::Tree;
use crate::boot_media::{Layout, ManagedFile};
use crate::session::archive::{self, ArchiveVerdict};

const ENTRY: &str = "etc/ppt_aliases";

/// The local file list's change that makes the archive carry
/// `/etc/ppt_aliases`, when the lists leave it out; a warning when the
/// lists cannot be read. `None` when nothing is needed (or the layout is
/// boot media).
pub(super) fn change(
    layout: &Layout,
    tree: &Tree,
    warnings: &mut Vec<String>,
) -> Result<Option<FileChange>, ReserveError> {
    let Layout::PersistentRoot { root } = layout else {
        return Ok(None);
    };
    let base = HostRoot::new(root);
    let mut files = ConfigFiles::default();
    for l in archive::FILELISTS {
        files.capture(Origin::Root, l, &base);
    }
    match archive::verdict(&files, "/etc/ppt_aliases") {
        ArchiveVerdict::NotListed => {}
        ArchiveVerdict::Unknown(why) => {
            warnings.push(format!(
                "{why}; make sure {ENTRY} is listed before rebooting"
            ));
            return Ok(None);
        }
        ArchiveVerdict::Listed(_) | ArchiveVerdict::NoLists => return Ok(None),
    }
    let file = ManagedFile {
        display: archive::LOCAL_FILELIST.to_string(),
        relative: archive::LOCAL_FILELIST.trim_start_matches('/').into(),
    };
    let loaded = super::load(tree, file)?;
    let mut new = loaded.old.clone().unwrap_or_default();
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(ENTRY);
    new.push('\n');
    warnings.push(format!(
        "{}: bootadm leaves /etc/ppt_aliases out of the boot archive; adding {ENTRY} to {} so the next boot reads it",
        archive::FILELISTS.join(" and "),
        archive::LOCAL_FILELIST
    ));
    Ok(Some(FileChange {
        file: loaded.file,
        old: loaded.old,
        new: Some(new),
    }))
}
