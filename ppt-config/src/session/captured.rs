//! The configuration a session reads, captured once, and what the next
//! boot reads from it: the one place that decides where the next boot's
//! files come from (the boot media's modules, the root's `/etc` as the
//! boot archive carries it, or not known) and which drivers its boot
//! options disable. docs/next-boot.md.

use std::path::Path;

use pci_illumos::aliases::BindingFileError;
use pci_illumos::binding::KernelFiles;
use pci_illumos::files::ConfigFiles;
use pci_illumos::root::HostRoot;

use super::{archive, nextboot, MediaRef, NextBoot};
use crate::boot_media::{BootMediaError, BootStyle, Layout};

/// Reads the configuration under `root`: the root's files, the boot media
/// (`media`, else on SmartOS the usual places under the root) and its
/// files, and the boot archive notes of a persistent root.
pub(super) fn capture(root: &HostRoot, media: Option<MediaRef>) -> Captured {
    let mut files = ConfigFiles::capture_root(root);
    let mut media = media;
    let mut searched = Vec::new();
    if media.is_none() && files.is_smartos() {
        for place in nextboot::USUAL_MEDIA {
            searched.push(place.to_string());
            if let Ok(m) = media_ref(&root.path(place), None) {
                media = Some(m);
                break;
            }
        }
    }
    if let Some(m) = &media {
        nextboot::capture(&mut files, Path::new(&m.shown), m.style);
    } else if !files.is_smartos() {
        nextboot::capture_root(&mut files, root);
    }
    let archive_notes = if media.is_none() && !files.is_smartos() {
        archive::notes(root, &files)
    } else {
        Vec::new()
    };
    Captured {
        files,
        media,
        media_searched: searched,
        archive_notes,
    }
}

/// Where the next boot's configuration comes from, by what `c` holds.
pub(super) fn next_boot_source(c: &Captured) -> NextBootSource {
    if let Some(why) = next_boot(c).unknown() {
        return NextBootSource::Unknown(why);
    }
    if let archive::ArchiveVerdict::Unknown(why) = root_archive(c, nextboot::MODULE_FILES[0]) {
        return NextBootSource::Unknown(why);
    }
    match &c.media {
        Some(m) => NextBootSource::Media(m.clone()),
        None if c.files.is_smartos() => NextBootSource::Unknown(format!(
            "this root is SmartOS: /etc is a ramdisk and the next boot reads ppt_aliases from the boot media's modules, which were not given{}",
            if c.media_searched.is_empty() {
                String::new()
            } else {
                format!(
                    " (none found at {} under the root)",
                    c.media_searched.join(" or ")
                )
            }
        )),
        None => NextBootSource::Root,
    }
}

/// The kernel binding files the next boot reads, by what `c` holds, or
/// `None` when that is not known.
pub(super) fn next_kernel_files(c: &Captured) -> Result<Option<KernelFiles>, BindingFileError> {
    let files = &c.files;
    let next = next_boot(c);
    let mut k = match next_boot_source(c) {
        NextBootSource::Media(m) => {
            KernelFiles::from_lookup(files, |p| nextboot::next_boot_file(files, &m, &next, p))?
        }
        NextBootSource::Root => KernelFiles::from_lookup(files, |p| {
            // A file the archive's lists leave out is not read at boot
            // (unless a boot module of the current boot delivers it).
            let boot = format!("/system/boot{p}");
            let from_module = files.root(&boot).bytes().is_some();
            if !from_module && root_archive(c, p) == archive::ArchiveVerdict::NotListed {
                return Ok(None);
            }
            pci_illumos::aliases::kernel_file_in(files, p)
        })?,
        NextBootSource::Unknown(_) => return Ok(None),
    };
    k.disabled = next.disabled().drivers;
    Ok(Some(k))
}

/// The next boot of the captured configuration: the boot media's when
/// there is one, else the root's.
pub fn next_boot(c: &Captured) -> NextBoot {
    match &c.media {
        Some(m) => NextBoot::of_media(&c.files, m.style).shown_on(m),
        None => NextBoot::of_root(&c.files),
    }
}

/// The archive file lists' verdict on `host_path` for a persistent root
/// without boot media ([`archive::ArchiveVerdict::NoLists`] otherwise).
pub fn root_archive(c: &Captured, host_path: &str) -> archive::ArchiveVerdict {
    if c.media.is_some() || c.files.is_smartos() {
        return archive::ArchiveVerdict::NoLists;
    }
    archive::verdict(&c.files, host_path)
}

/// The configuration a session reads, captured once: the files and the
/// boot media they include.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The files.
    pub files: ConfigFiles,
    /// The boot media whose files are in `files`, when any.
    pub media: Option<MediaRef>,
    /// Host paths under the root where boot media was looked for, when
    /// none was given (SmartOS only).
    pub media_searched: Vec<String>,
    /// Why the boot archive of a persistent root may not carry the
    /// `/etc/ppt_aliases` the next boot should read (see
    /// [`archive::notes`]).
    pub archive_notes: Vec<String>,
}

/// Where the next boot's configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextBootSource {
    /// The boot media's module lines, then the root's `/etc`.
    Media(MediaRef),
    /// A persistent root: the boot-module copies under `/system/boot`
    /// (loaded again by an unchanged boot configuration), then `/etc`,
    /// which `bootadm update-archive` puts in the boot archive.
    Root,
    /// Not known: a SmartOS root without boot media. The text says why
    /// and how to give the media.
    Unknown(String),
}

/// Checks `dir` is boot media and finds its style.
pub(super) fn media_ref(dir: &Path, style: Option<BootStyle>) -> Result<MediaRef, BootMediaError> {
    let layout = Layout::boot_media(dir, style)?;
    Ok(MediaRef {
        shown: dir.display().to_string(),
        style: layout.style().unwrap_or(BootStyle::Grub),
    })
}
