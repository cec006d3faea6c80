//! Whether a persistent root's boot archive carries `/etc/ppt_aliases`.
//!
//! On gate-based systems (OmniOS, OpenIndiana, Helios) the kernel reads its
//! alias files before the root is mounted, from the boot modules and then
//! the boot archive (illumos-gate krtld `bootrd.c`, `BRD_OPEN`). `bootadm
//! update-archive` packs the files the two `filelist.ramdisk` lists name
//! (`/boot/solaris/filelist.ramdisk`, which the system delivers, and the
//! local additions in `/etc/boot/solaris/filelist.ramdisk`;
//! `usr/src/cmd/boot/bootadm/bootadm.c` `read_list`): one path per line,
//! relative to the root, `#` lines skipped; a directory brings everything
//! under it; there is no pattern or prefix matching. The gate's list
//! (`usr/src/cmd/boot/filelist/i386/filelist.ramdisk`) names
//! `etc/driver_aliases`, `etc/name_to_major` and `etc/path_to_inst` but
//! not `etc/ppt_aliases`, so a `/etc/ppt_aliases` no list names is not
//! what the next boot reads: it reads none.
//!
//! Only what the root shows is judged: without either list the root is
//! taken to be an `/etc` copy and nothing is said.

use std::path::Path;
use std::time::SystemTime;

use pci_illumos::files::{ConfigFiles, FileState};
use pci_illumos::root::HostRoot;

/// The lists bootadm reads: the system's, then the local one.
pub const FILELISTS: [&str; 2] = [
    "/boot/solaris/filelist.ramdisk",
    "/etc/boot/solaris/filelist.ramdisk",
];

/// The local list, where `pptctl reserve` adds an entry.
pub const LOCAL_FILELIST: &str = "/etc/boot/solaris/filelist.ramdisk";

/// Where the x86 boot archive lives (64-bit first).
pub const ARCHIVES: [&str; 2] = [
    "/platform/i86pc/amd64/boot_archive",
    "/platform/i86pc/boot_archive",
];

const PPT_ALIASES: &str = "/etc/ppt_aliases";

/// Whether the boot archive carries a file, by the file lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveVerdict {
    /// A list names the file or a directory above it (`file:line`).
    Listed(String),
    /// The lists leave it out: the next boot does not read it.
    NotListed,
    /// A list cannot be read: not known.
    Unknown(String),
    /// The root holds no file list (an `/etc` copy): not judged.
    NoLists,
}

fn entries(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().trim_end_matches('/')))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// The line of a `filelist.ramdisk` text that brings `host_path`
/// (`/etc/ppt_aliases`) into the archive: the file itself or a directory
/// above it.
pub fn listing_line(text: &str, host_path: &str) -> Option<usize> {
    let want = host_path.trim_start_matches('/');
    entries(text)
        .find(|(_, l)| {
            let l = l.trim_start_matches("./").trim_start_matches('/');
            want == l || want.starts_with(&format!("{l}/"))
        })
        .map(|(n, _)| n)
}

/// Whether a `filelist.ramdisk` text names `etc/ppt_aliases`.
pub fn lists_ppt_aliases(text: &str) -> bool {
    listing_line(text, PPT_ALIASES).is_some()
}

/// What the captured file lists say about `host_path`.
pub fn verdict(files: &ConfigFiles, host_path: &str) -> ArchiveVerdict {
    let mut seen = false;
    for l in FILELISTS {
        match files.root(l) {
            FileState::Absent => {}
            FileState::Present(b) => {
                seen = true;
                if let Some(n) = listing_line(&String::from_utf8_lossy(b), host_path) {
                    return ArchiveVerdict::Listed(format!("{l}:{n}"));
                }
            }
            other => {
                let why = other
                    .read_error(l)
                    .map_or_else(|| format!("{l} cannot be read"), |e| e.to_string());
                return ArchiveVerdict::Unknown(format!(
                    "{why}: whether the boot archive carries {host_path} is not known"
                ));
            }
        }
    }
    if seen {
        ArchiveVerdict::NotListed
    } else {
        ArchiveVerdict::NoLists
    }
}

/// The sentence for a [`ArchiveVerdict::NotListed`] `host_path`.
pub fn not_listed(host_path: &str) -> String {
    format!(
        "{host_path} is not named in {}: bootadm leaves it out of the boot archive, so the next boot does not read it",
        FILELISTS.join(" or ")
    )
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Why the boot archive may be older than the root's `/etc/ppt_aliases`,
/// in words (nothing when the root has no such file or it is older).
pub fn notes(root: &HostRoot, files: &ConfigFiles) -> Vec<String> {
    let mut out = Vec::new();
    if files.root(PPT_ALIASES).bytes().is_none() {
        return out;
    }
    let archive = ARCHIVES
        .iter()
        .find_map(|a| mtime(&root.path(a)).map(|t| (a, t)));
    if let (Some((a, built)), Some(changed)) = (archive, mtime(&root.path(PPT_ALIASES))) {
        if changed > built {
            out.push(format!(
                "{PPT_ALIASES} changed after {a} was built: run `bootadm update-archive` before rebooting"
            ));
        }
    }
    out
}

/// The command that rebuilds the archive of `root`.
pub fn update_command(root: &Path) -> String {
    if root == Path::new("/") {
        "bootadm update-archive".to_string()
    } else {
        format!("bootadm update-archive -R {}", root.display())
    }
}

/// Why `bootadm update-archive` did not complete.
#[derive(Debug, thiserror::Error)]
pub enum UpdateArchiveError {
    /// bootadm could not be started.
    #[error("cannot run bootadm update-archive: {0}")]
    Spawn(#[source] std::io::Error),
    /// bootadm ran and failed.
    #[error("bootadm update-archive failed ({0})")]
    Failed(std::process::ExitStatus),
}

/// Runs `bootadm update-archive` (with `-R ROOT` unless the root is `/`),
/// found on `PATH`, so the next boot's archive carries the files just
/// written.
pub fn update_archive(root: &Path) -> Result<(), UpdateArchiveError> {
    let mut cmd = std::process::Command::new("bootadm");
    cmd.arg("update-archive");
    if root != Path::new("/") {
        cmd.arg("-R").arg(root);
    }
    let status = cmd.status().map_err(UpdateArchiveError::Spawn)?;
    if status.success() {
        Ok(())
    } else {
        Err(UpdateArchiveError::Failed(status))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pci_illumos::files::{CapturedFile, Origin};

    #[test]
    fn filelist_entries() {
        assert!(lists_ppt_aliases("etc/driver_aliases\netc/ppt_aliases\n"));
        assert!(lists_ppt_aliases("etc\n"));
        assert!(lists_ppt_aliases("etc/\n"));
        assert!(!lists_ppt_aliases(
            "etc/driver_aliases\netc/ppt_aliases.d\n"
        ));
        assert!(!lists_ppt_aliases("etc/ppt\n"), "no prefix match");
        assert!(!lists_ppt_aliases("# etc/ppt_aliases\n"));
    }

    fn with(lists: &[(&str, FileState)]) -> ConfigFiles {
        let mut f = ConfigFiles::default();
        for (p, s) in lists {
            f.insert(CapturedFile {
                origin: Origin::Root,
                path: (*p).to_string(),
                state: s.clone(),
            });
        }
        f
    }

    #[test]
    fn verdicts() {
        let p = |s: &str| FileState::Present(s.as_bytes().to_vec());
        assert_eq!(verdict(&with(&[]), PPT_ALIASES), ArchiveVerdict::NoLists);
        let sys = (FILELISTS[0], p("etc/driver_aliases\n"));
        assert_eq!(
            verdict(&with(std::slice::from_ref(&sys)), PPT_ALIASES),
            ArchiveVerdict::NotListed
        );
        let local = (FILELISTS[1], p("# mine\netc/ppt_aliases\n"));
        assert_eq!(
            verdict(&with(&[sys.clone(), local]), PPT_ALIASES),
            ArchiveVerdict::Listed(format!("{}:2", FILELISTS[1]))
        );
        let bad = (
            FILELISTS[1],
            FileState::Unreadable {
                kind: std::io::ErrorKind::PermissionDenied,
                message: "denied".into(),
            },
        );
        assert!(matches!(
            verdict(&with(&[sys, bad]), PPT_ALIASES),
            ArchiveVerdict::Unknown(_)
        ));
    }

    #[test]
    fn stale() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let w = |p: &str, s: &str| {
            let p = d.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        w("platform/i86pc/amd64/boot_archive", "x");
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        let f = std::fs::File::options()
            .write(true)
            .open(d.join("platform/i86pc/amd64/boot_archive"))
            .unwrap();
        f.set_modified(old).unwrap();
        w("etc/ppt_aliases", "ppt \"/pci@0,0/x@1\"\n");
        let root = HostRoot::new(d);
        let files = ConfigFiles::capture_root(&root);
        let n = notes(&root, &files);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("bootadm update-archive"), "{n:?}");
    }
}
