//! `/dev/ppt*` link resolution under an alternate root.
//!
//! libppt's `ppt_list_assigned` (docs/illumos.md §1.6) globs `/dev/ppt*`
//! (lexical order), keeps symbolic links only, resolves each with
//! `realpath` and turns the result into a devfs path by stripping a
//! trailing `:ppt` minor and a leading `/devices` (`fs_to_phys_path`).
//! Here the link target is resolved lexically against the host's `/dev`
//! (relative targets such as `../devices/pci@0,0/...:ppt`) so that it works
//! under `--root`. A link whose target is missing, or whose path names no
//! device node, makes pptadm print nothing at all; we report it instead.

use std::path::Path;

use pci_core::{Diagnostic, Host, PptLink};

use crate::root::HostRoot;

/// The devfs path (`/pci@0,0/...`) a `/devices/...:ppt` path stands for:
/// a trailing `:ppt` is removed only when it is the whole last minor
/// component, a leading `/devices` only when it is a whole component.
pub fn fs_to_phys_path(p: &str) -> String {
    let mut s = p;
    if let Some(colon) = s.rfind(':') {
        if &s[colon..] == ":ppt" && !s[colon..].contains('/') {
            s = &s[..colon];
        }
    }
    if let Some(rest) = s.strip_prefix("/devices") {
        if rest.is_empty() || rest.starts_with('/') {
            s = rest;
        }
    }
    s.to_string()
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
    let dev = root.path("/dev");
    let Ok(rd) = std::fs::read_dir(&dev) else {
        return (links, diags);
    };
    let mut names: Vec<Vec<u8>> = rd
        .filter_map(Result::ok)
        .map(|e| e.file_name().into_encoded_bytes())
        .filter(|n| n.starts_with(b"ppt"))
        .collect();
    // glob(3C) sorts in the C locale: byte order.
    names.sort();
    let has_devices = root.path("/devices").is_dir();
    for raw in names {
        let name = String::from_utf8_lossy(&raw).into_owned();
        let host_path = format!("/dev/{name}");
        let local = dev.join(&name);
        let meta = match std::fs::symlink_metadata(&local) {
            Ok(m) => m,
            Err(e) => {
                diags.push(Diagnostic::at(
                    &host_path,
                    None,
                    format!("cannot stat: {e}"),
                ));
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
        let target = match std::fs::read_link(&local) {
            Ok(t) => t.to_string_lossy().into_owned(),
            Err(e) => {
                diags.push(Diagnostic::at(
                    &host_path,
                    None,
                    format!("cannot read link: {e}"),
                ));
                continue;
            }
        };
        let resolved = resolve_lexically("/dev", &target);
        if has_devices && !exists_under(root, &resolved) {
            diags.push(Diagnostic::at(
                &host_path,
                None,
                format!("dangling link to {target}: pptadm would list nothing while it exists"),
            ));
        }
        links.push(PptLink {
            dev: host_path,
            target: Some(target),
            path: Some(fs_to_phys_path(&resolved)),
        });
    }
    (links, diags)
}

fn exists_under(root: &HostRoot, host_path: &str) -> bool {
    let p = root.path(host_path);
    Path::new(&p).symlink_metadata().is_ok()
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
            .filter(|n| n.path_source == Some(pci_core::PathSource::Devinfo))
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
mod tests {
    use super::*;

    #[test]
    fn strips_like_libppt() {
        assert_eq!(
            fs_to_phys_path("/devices/pci@0,0/pci8086,151@1/display@0:ppt"),
            "/pci@0,0/pci8086,151@1/display@0"
        );
        assert_eq!(fs_to_phys_path("/pci@0,0/x@0:pptx"), "/pci@0,0/x@0:pptx");
        assert_eq!(fs_to_phys_path("/devicesX/a"), "/devicesX/a");
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
