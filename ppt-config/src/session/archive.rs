//! Whether a persistent root's boot archive carries `/etc/ppt_aliases`.
//!
//! On gate-based systems (OmniOS, OpenIndiana) the kernel reads its alias
//! files before the root is mounted, from the boot modules and then the
//! boot archive (illumos-gate krtld `bootrd.c`, `BRD_OPEN`). `bootadm
//! update-archive` packs the files `filelist.ramdisk` names
//! (`/boot/solaris/filelist.ramdisk`, plus the local additions in
//! `/etc/boot/solaris/filelist.ramdisk`); the gate's list
//! (`usr/src/cmd/boot/filelist/i386/filelist.ramdisk`) names
//! `etc/driver_aliases` and `etc/path_to_inst` but not `etc/ppt_aliases`.
//! So a `/etc/ppt_aliases` that no list names, or that changed after the
//! archive was built, may not be what the next boot reads.
//!
//! Only what the root shows is judged: without any `filelist.ramdisk`
//! or without an archive under the root, nothing is said.

use std::path::Path;
use std::time::SystemTime;

use pci_illumos::files::ConfigFiles;
use pci_illumos::root::HostRoot;

/// The lists bootadm reads.
pub const FILELISTS: [&str; 2] = [
    "/boot/solaris/filelist.ramdisk",
    "/etc/boot/solaris/filelist.ramdisk",
];

/// Where the x86 boot archive lives (64-bit first).
pub const ARCHIVES: [&str; 2] = [
    "/platform/i86pc/amd64/boot_archive",
    "/platform/i86pc/boot_archive",
];

const PPT_ALIASES: &str = "/etc/ppt_aliases";

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Whether a `filelist.ramdisk` text names `etc/ppt_aliases` (itself or a
/// directory above it).
pub fn lists_ppt_aliases(text: &str) -> bool {
    let want = PPT_ALIASES.trim_start_matches('/');
    text.lines()
        .map(|l| l.trim().trim_end_matches('/'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| want == l || want.starts_with(&format!("{l}/")))
}

/// What may keep the next boot from reading the root's `/etc/ppt_aliases`,
/// in words (nothing when the root has no such file).
pub fn notes(root: &HostRoot, files: &ConfigFiles) -> Vec<String> {
    let mut out = Vec::new();
    if files.root(PPT_ALIASES).bytes().is_none() {
        return out;
    }
    let lists: Vec<String> = FILELISTS
        .iter()
        .filter_map(|l| match pci_illumos::files::read_file(&root.path(l)) {
            pci_illumos::files::FileState::Present(b) => {
                Some(String::from_utf8_lossy(&b).into_owned())
            }
            _ => None,
        })
        .collect();
    if !lists.is_empty() && !lists.iter().any(|t| lists_ppt_aliases(t)) {
        out.push(format!(
            "{PPT_ALIASES} is not named in {}: bootadm leaves it out of the boot archive, so the next boot does not read it",
            FILELISTS.join(" or ")
        ));
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

    #[test]
    fn filelist_entries() {
        assert!(lists_ppt_aliases("etc/driver_aliases\netc/ppt_aliases\n"));
        assert!(lists_ppt_aliases("etc\n"));
        assert!(lists_ppt_aliases("etc/\n"));
        assert!(!lists_ppt_aliases(
            "etc/driver_aliases\netc/ppt_aliases.d\n"
        ));
        assert!(!lists_ppt_aliases("# etc/ppt_aliases\n"));
    }

    #[test]
    fn unlisted_and_stale() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let w = |p: &str, s: &str| {
            let p = d.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, s).unwrap();
        };
        w("platform/i86pc/amd64/boot_archive", "x");
        std::thread::sleep(std::time::Duration::from_millis(20));
        w("etc/ppt_aliases", "ppt \"/pci@0,0/x@1\"\n");
        w("boot/solaris/filelist.ramdisk", "etc/driver_aliases\n");
        let root = HostRoot::new(d);
        let files = ConfigFiles::capture_root(&root);
        let n = notes(&root, &files);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n[0].contains("not named"), "{n:?}");
        assert!(n[1].contains("bootadm update-archive"), "{n:?}");
        w("etc/boot/solaris/filelist.ramdisk", "etc/ppt_aliases\n");
        w("platform/i86pc/amd64/boot_archive", "y");
        let n = notes(&root, &files);
        assert!(n.is_empty(), "{n:?}");
    }
}
