//! `/dev/ppt*` link resolution under an alternate root.
//!
//! libppt's `ppt_list_assigned` (docs/illumos.md) globs `/dev/ppt*`
//! (lexical order), keeps symbolic links only, resolves each with
//! `realpath` and turns the result into a devfs path by stripping a
//! trailing `:ppt` minor and a leading `/devices` (`fs_to_phys_path`;
//! here [`link_devfs_path`]).
//! Here the link target is resolved lexically against the host's `/dev`
//! (relative targets such as `../devices/pci@0,0/...:ppt`) so that it works
//! under `--root`. A link whose target is missing, or whose path names no
//! device node, makes pptadm print nothing at all; we report it instead.

use pci_core::{Diagnostic, Host, PptLink};

use crate::devfs::DevfsPath;
use crate::root::HostRoot;

/// The devfs path a resolved `/dev/pptN` target stands for, through the
/// one normaliser ([`DevfsPath`]) with libppt's narrower rule on top:
/// `fs_to_phys_path` (illumos-gate `usr/src/lib/libppt/common/libppt.c`)
/// removes only a last `:ppt`, so a target with another minor, or one
/// `DevfsPath` refuses, names no node for libppt. The error says why.
pub fn link_devfs_path(resolved: &str) -> Result<DevfsPath, String> {
    let parsed = DevfsPath::parse_detailed(resolved).map_err(|e| e.to_string())?;
    match parsed.minor.as_deref() {
        None | Some("ppt") => Ok(parsed.path),
        Some(other) => Err(format!(
            "the target's minor is `:{other}`; libppt strips only `:ppt`, so no node is found"
        )),
    }
}

/// Resolves `target` (a link's contents) relative to the directory
/// `base` of the host, removing `.` and `..` components as `realpath` does
/// for paths without further links.
pub fn resolve_lexically(base: &str, target: &str) -> String {
    let joined = if target.starts_with('/') {
        target.to_string()
    } else {
        format!("{}/{target}", base.trim_end_matches('/'))
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Reads the `/dev/ppt*` links under `root`, in glob order, with their
/// devfs paths. Problems (entries that are not links, unreadable links,
/// targets missing under the root) are returned as diagnostics; links are
/// still reported where their target can be read.
pub fn read_links(root: &HostRoot) -> (Vec<PptLink>, Vec<Diagnostic>) {
    let mut links = Vec::new();
    let mut diags = Vec::new();
    let names = match root.read_dir("/dev") {
        Ok(n) => n,
        Err(e) if e.is_not_found() => return (links, diags),
        Err(e) => {
            diags.push(Diagnostic::at("/dev", None, e.reason()));
            return (links, diags);
        }
    };
    // glob(3C) sorts in the C locale: byte order (read_dir sorts so).
    let names = names
        .into_iter()
        .map(|n| n.into_encoded_bytes())
        .filter(|n| n.starts_with(b"ppt"));
    let has_devices = root.is_dir("/devices");
    for raw in names {
        let name = String::from_utf8_lossy(&raw).into_owned();
        let host_path = format!("/dev/{name}");
        let meta = match root.symlink_metadata(&host_path) {
            Ok(m) => m,
            Err(e) => {
                diags.push(Diagnostic::at(&host_path, None, e.reason()));
                continue;
            }
        };
        if !meta.file_type().is_symlink() {
            diags.push(Diagnostic::at(
                &host_path,
                None,
                "not a symbolic link; ignored, as pptadm does",
            ));
            continue;
        }
        let target = match root.read_link(&host_path) {
            Ok(t) => t.to_string_lossy().into_owned(),
            Err(e) => {
                diags.push(Diagnostic::at(&host_path, None, e.reason()));
                continue;
            }
        };
        // realpath(3C) as the root sees it: links inside /devices are
        // followed, and none leads out of the root.
        let resolved = match root.canonical(&host_path) {
            Ok(p) => p,
            Err(e) => {
                if !e.is_not_found() {
                    diags.push(Diagnostic::at(&host_path, None, e.reason()));
                } else if has_devices {
                    diags.push(Diagnostic::at(
                        &host_path,
                        None,
                        format!(
                            "dangling link to {target}: pptadm would list nothing while it exists"
                        ),
                    ));
                }
                resolve_lexically("/dev", &target)
            }
        };
        let path = match link_devfs_path(&resolved) {
            Ok(p) => Some(p.to_string()),
            Err(why) => {
                diags.push(Diagnostic::at(
                    &host_path,
                    None,
                    format!("link to {target} names no device node: {why}"),
                ));
                None
            }
        };
        links.push(PptLink {
            dev: host_path,
            target: Some(target),
            path,
        });
    }
    (links, diags)
}

/// Whether some function or nexus of `host` is named `path` by
/// `di_lookup_node` (the path as `di_devfs_path` gives it now).
fn names_a_node(host: &Host, path: &str) -> bool {
    host.functions
        .iter()
        .filter_map(|f| f.illumos.as_ref())
        .chain(host.nexus.iter())
        .any(|n| n.current_path() == path)
}

/// `/dev/ppt*` links that do not resolve to a ppt device now, each with
/// the reason: the path names no device node (stale), or names a node
/// the ppt driver does not hold, so its `:ppt` minor does not exist.
/// zoneadmd resolves every such link whenever it starts a VM with
/// pass-through (illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`,
/// `setup_subproc_env` through libppt `ppt_devpath_to_dev` and
/// `ppt_list_assigned`), and one that fails fails the start of every such
/// VM with "failed to resolve passthru device".
pub fn unresolved_links(host: &Host) -> Vec<(&PptLink, String)> {
    let mut out = Vec::new();
    for l in &host.ppt_links {
        let Some(path) = &l.path else { continue };
        let in_devices = l
            .target
            .as_deref()
            .is_none_or(|t| resolve_lexically("/dev", t).starts_with("/devices/"));
        if !in_devices {
            // Not a device path at all; do not repeat it as one.
            out.push((l, format!("{} does not point into /devices", l.dev)));
            continue;
        }
        if !names_a_node(host, path) {
            out.push((
                l,
                format!("{} points at {path}, which names no device node", l.dev),
            ));
            continue;
        }
        let holder = host
            .functions
            .iter()
            .filter_map(|f| f.illumos.as_ref())
            .find(|n| n.current_path() == path)
            .filter(|n| n.is_from_devinfo())
            .and_then(|n| n.driver.as_deref());
        if let Some(d) = holder.filter(|d| *d != "ppt") {
            out.push((
                l,
                format!(
                    "{} points at {path}, which {d} holds now: it has no :ppt minor, so the link does not resolve",
                    l.dev
                ),
            ));
        }
    }
    out
}

/// Warnings for links whose path names no function or nexus of `host`
/// (a stale `/dev/pptN`: pptadm's `di_lookup_node` fails and the whole
/// listing comes out empty).
pub fn stale_links(host: &Host) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for l in &host.ppt_links {
        let Some(path) = &l.path else { continue };
        if !names_a_node(host, path) {
            out.push(Diagnostic::at(
                &l.dev,
                None,
                format!("stale link: no device node at {path} (pptadm list prints nothing while this link exists)"),
            ));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn strips_like_libppt() {
        assert_eq!(
            link_devfs_path("/devices/pci@0,0/pci8086,151@1/display@0:ppt")
                .unwrap()
                .as_str(),
            "/pci@0,0/pci8086,151@1/display@0"
        );
        assert_eq!(
            link_devfs_path("/devices/pci@0,0/x@0").unwrap(),
            "/pci@0,0/x@0"
        );
        assert!(link_devfs_path("/pci@0,0/x@0:pptx").is_err());
        assert!(link_devfs_path("/devices/pci@0,0/x@0:devctl").is_err());
        assert!(link_devfs_path("/devicesX/a").is_err());
        assert_eq!(
            resolve_lexically("/dev", "../devices/pci@0,0/a@1:ppt"),
            "/devices/pci@0,0/a@1:ppt"
        );
        assert_eq!(resolve_lexically("/dev", "/devices/./x/../y"), "/devices/y");
    }

    #[cfg(unix)]
    #[test]
    fn reads_links_in_glob_order() {
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().unwrap();
        let dev = t.path().join("dev");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::create_dir_all(t.path().join("devices/pci@0,0")).unwrap();
        std::fs::write(t.path().join("devices/pci@0,0/a@1:ppt"), b"").unwrap();
        symlink("../devices/pci@0,0/a@1:ppt", dev.join("ppt10")).unwrap();
        symlink("../devices/pci@0,0/gone@2:ppt", dev.join("ppt2")).unwrap();
        std::fs::write(dev.join("ppt3"), b"").unwrap();
        symlink("/devices/pci@0,0/a@1:ppt", dev.join("ppt1")).unwrap();
        let (links, diags) = read_links(&HostRoot::new(t.path()));
        let devs: Vec<&str> = links.iter().map(|l| l.dev.as_str()).collect();
        assert_eq!(devs, ["/dev/ppt1", "/dev/ppt10", "/dev/ppt2"]);
        assert_eq!(links[0].path.as_deref(), Some("/pci@0,0/a@1"));
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().any(|d| d.file.as_deref() == Some("/dev/ppt2")));
        assert!(diags.iter().any(|d| d.file.as_deref() == Some("/dev/ppt3")));
    }
}
