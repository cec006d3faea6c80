//! The kernel's attribute files and links of one device directory:
//! numbers as the kernel writes them, the identity, `resource`, and the
//! `driver`/`iommu_group`/`physfn`/`virtfn*` links.

use std::io::{self, Read};

use super::{source_error, TreeDir, ATTR_LIMIT};
use crate::address::Address;
use crate::function::{Function, Identity, OsBar};
use crate::host::Diagnostic;
use crate::root::HostRoot;
use crate::sources::SourceError;

/// Reads a one-line attribute with a single `read` (the kernel returns a
/// whole attribute at once, and a short read of a file is its end).
pub(super) fn read_small(root: &HostRoot, path: &str) -> io::Result<String> {
    let mut buf = [0u8; 64];
    let Some(mut f) = root.try_open(path).map_err(io::Error::other)? else {
        return Err(io::ErrorKind::NotFound.into());
    };
    let n = f.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Reads a small attribute file; `Ok(None)` when it does not exist.
pub(super) fn read_attr(root: &HostRoot, path: &str) -> Result<Option<String>, SourceError> {
    match root.try_read(path, ATTR_LIMIT) {
        Ok(b) => Ok(b.map(|b| String::from_utf8_lossy(&b).into_owned())),
        Err(e) => Err(source_error(root, e)),
    }
}

/// Parses a number the way the kernel writes it (`0x8086`, `3`), as
/// `strtol(s, NULL, 0)` would.
pub(super) fn parse_number(text: &str) -> Option<u64> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8).ok()
    } else {
        t.parse().ok()
    }
}

/// Parses hex with or without `0x`, as `sscanf("%llx")` does.
fn parse_hex(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16).ok()
}

/// Reads a numeric attribute; warns about junk.
fn number_attr(dir: TreeDir<'_>, name: &str, warnings: &mut Vec<Diagnostic>) -> Option<u64> {
    match read_attr(dir.root, &dir.join(name)) {
        Ok(Some(text)) => {
            let v = parse_number(&text);
            if v.is_none() {
                warnings.push(Diagnostic::at(
                    dir.shown(name),
                    None,
                    format!("`{}` is not a number; ignored", text.trim()),
                ));
            }
            v
        }
        Ok(None) => None,
        Err(e) => {
            warnings.push(Diagnostic::at(dir.shown(name), None, e.to_string()));
            None
        }
    }
}

/// The identity as the kernel reports it, `None` when the mandatory
/// `vendor`, `device` and `class` files are not all readable.
pub(super) fn kernel_identity(
    dir: TreeDir<'_>,
    from_config: &Identity,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Identity> {
    let vendor = number_attr(dir, "vendor", warnings)?;
    let device = number_attr(dir, "device", warnings)?;
    let class = number_attr(dir, "class", warnings)?;
    let revision = number_attr(dir, "revision", warnings)
        .map(|r| r as u8)
        .unwrap_or(from_config.revision);
    let (subsystem_vendor, subsystem) = match number_attr(dir, "subsystem_vendor", warnings) {
        Some(sv) => (
            Some(sv as u16),
            number_attr(dir, "subsystem_device", warnings).map(|s| s as u16),
        ),
        None => (from_config.subsystem_vendor, from_config.subsystem),
    };
    Some(Identity {
        vendor: vendor as u16,
        device: device as u16,
        subsystem_vendor,
        subsystem,
        class: (class & 0xff_ffff) as u32,
        revision,
        header_type: from_config.header_type,
    })
}

/// BAR and ROM sizes from `resource`: one `start end flags` line per
/// resource, BARs 0..=5 then the ROM; a size is `end - start + 1` for a
/// line with `end > start` (lspci's rule), none otherwise.
pub(super) fn read_resources(dir: TreeDir<'_>, f: &mut Function, warnings: &mut Vec<Diagnostic>) {
    let path = dir.shown("resource");
    let text = match read_attr(dir.root, &dir.join("resource")) {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => {
            warnings.push(Diagnostic::at(&path, None, e.to_string()));
            return;
        }
    };
    for (i, line) in text.lines().take(7).enumerate() {
        let fields: Vec<Option<u64>> = line.split_whitespace().map(parse_hex).collect();
        let (start, end) = match fields.as_slice() {
            [Some(s), Some(e), Some(_), ..] => (*s, *e),
            _ => {
                warnings.push(Diagnostic::at(
                    &path,
                    Some(i + 1),
                    format!("expected `start end flags` in hex, found `{}`; BAR sizes after this line unknown", line.trim()),
                ));
                return;
            }
        };
        let size = (end > start).then(|| end - start + 1);
        let flags = fields[2].unwrap_or(0);
        if i < 6 {
            f.bar_sizes[i] = size;
            // include/linux/ioport.h: IORESOURCE_IO 0x100, IORESOURCE_MEM
            // 0x200, IORESOURCE_PREFETCH 0x2000, IORESOURCE_MEM_64 0x100000
            if start != 0 && flags & 0x300 != 0 {
                f.bar_os[i] = Some(OsBar {
                    start,
                    io: flags & 0x100 != 0,
                    mem64: flags & 0x10_0000 != 0,
                    prefetchable: flags & 0x2000 != 0,
                });
            }
        } else {
            f.rom_size = size;
        }
    }
}

/// The last path component of a symlink's target.
fn link_name(root: &HostRoot, path: &str) -> Option<String> {
    let target = root.try_read_link(path).ok()??;
    target.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// The address a `physfn`/`virtfnN` link points to.
fn link_address(dir: TreeDir<'_>, link: &str, warnings: &mut Vec<Diagnostic>) -> Option<Address> {
    let name = link_name(dir.root, &dir.join(link))?;
    match name.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            warnings.push(Diagnostic::at(
                dir.shown(link),
                None,
                format!("link target `{name}` is not a PCI address"),
            ));
            None
        }
    }
}

/// `virtfn0`, `virtfn1`, ... in number order.
fn virtfns(dir: TreeDir<'_>, warnings: &mut Vec<Diagnostic>) -> Vec<Address> {
    let Ok(entries) = dir.root.read_dir(dir.path) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, Address)> = Vec::new();
    for name in entries {
        let Some(n) = name
            .to_str()
            .and_then(|s| s.strip_prefix("virtfn"))
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(link) = name.to_str() else { continue };
        if let Some(a) = link_address(dir, link, warnings) {
            found.push((n, a));
        }
    }
    found.sort();
    found.into_iter().map(|(_, a)| a).collect()
}

/// The device's links and flags: `driver`, `iommu_group`, `physfn`,
/// `virtfn*`, `boot_vga` and `numa_node`.
pub(super) fn read_links(dir: TreeDir<'_>, f: &mut Function, warnings: &mut Vec<Diagnostic>) {
    f.driver = link_name(dir.root, &dir.join("driver"));
    f.iommu_group = link_name(dir.root, &dir.join("iommu_group")).and_then(|n| match n.parse() {
        Ok(g) => Some(g),
        Err(_) => {
            warnings.push(Diagnostic::at(
                dir.shown("iommu_group"),
                None,
                format!("link target `{n}` is not a group number"),
            ));
            None
        }
    });
    f.physfn = link_address(dir, "physfn", warnings);
    f.virtfns = virtfns(dir, warnings);
    f.boot_vga = read_attr(dir.root, &dir.join("boot_vga"))
        .ok()
        .flatten()
        .and_then(|s| match s.trim() {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        });
    // -1 when the platform gives no node (drivers/pci/pci-sysfs.c): not
    // recorded, like unreadable or unexpected text.
    f.numa_node = read_attr(dir.root, &dir.join("numa_node"))
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse::<u32>().ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_strtol() {
        assert_eq!(parse_number("0x8086\n"), Some(0x8086));
        assert_eq!(parse_number("12"), Some(12));
        assert_eq!(parse_number("010"), Some(8));
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("zz"), None);
    }
}
