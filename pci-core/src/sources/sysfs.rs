//! `sysfs:DIR`: a Linux sysfs tree, read as `lspci -A linux-sysfs` reads
//! it. DIR contains `bus/` and `devices/` (normally `/sys`); every entry of
//! `DIR/bus/pci/devices` is a symlink into `DIR/devices/...`.
//!
//! Like lspci (pciutils lib/sysfs.c, behaviour only) the identity comes from
//! the kernel's attribute files (`vendor`, `device`, `class`, `revision`,
//! `subsystem_*`), because the kernel fixes broken class codes there; the
//! raw `config` file gives everything else. Linux lets only root read past
//! the first 64 bytes of `config` (drivers/pci/pci-sysfs.c), so a non-root
//! read is short and we say so once.
//!
//! Nothing in one device stops the others: a dangling symlink, an
//! unreadable file or junk in a file is a [`Diagnostic`] and the next
//! device is read.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{identity_from_config, read_bounded, shown, sort_functions, Source, SourceError};
use crate::address::Address;
use crate::function::{Function, Identity, OsBar};
use crate::host::{Diagnostic, Host};

/// Largest attribute file we read (they are a line each).
const ATTR_LIMIT: u64 = 4096;

/// Largest config space (PCIe extended config space).
const CONFIG_LIMIT: u64 = 4096;

/// The `sysfs:` source.
#[derive(Debug, Clone)]
pub struct SysfsSource {
    /// The directory holding `bus/` and `devices/` (normally `/sys`).
    pub root: PathBuf,
}

impl SysfsSource {
    /// A sysfs tree rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SysfsSource { root: root.into() }
    }
}

impl Source for SysfsSource {
    fn load(&self) -> Result<Host, SourceError> {
        let devices = self.root.join("bus/pci/devices");
        let entries = match fs::read_dir(&devices) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SourceError::NotRecognised {
                    file: shown(&self.root),
                    message: format!(
                        "not a sysfs tree: {} does not exist (give the directory that holds bus/ and devices/, e.g. /sys)",
                        shown(&devices)
                    ),
                })
            }
            Err(e) => return Err(SourceError::io(&devices, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| SourceError::io(&devices, e))?;
            names.push(entry.file_name());
        }
        let mut host = Host::default();
        host.facts.os = Some("linux".to_string());
        let mut short_config = 0usize;
        for name in names {
            let Some(name) = name.to_str().map(str::to_string) else {
                host.warnings.push(Diagnostic::at(
                    shown(&devices),
                    None,
                    format!("entry {name:?} is not a PCI address; skipped"),
                ));
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let dir = devices.join(&name);
            let address = match name.parse::<Address>() {
                Ok(a) => a,
                Err(_) => {
                    host.warnings.push(Diagnostic::at(
                        shown(&dir),
                        None,
                        "not a PCI address (DDDD:BB:DD.F); skipped",
                    ));
                    continue;
                }
            };
            match read_function(&dir, address, &mut host.warnings) {
                Some((f, short)) => {
                    short_config += usize::from(short);
                    host.functions.push(f);
                }
                None => continue,
            }
        }
        if short_config > 0 {
            host.warnings.push(Diagnostic::at(
                shown(&devices),
                None,
                format!(
                    "{short_config} function(s): only the first 64 bytes of config space could be read \
                     (Linux shows the rest only to root); capabilities are not visible, run as root"
                ),
            ));
        }
        sort_functions(&mut host.functions);
        Ok(host)
    }
}

/// Reads one device directory. `None` (with a warning) when nothing of the
/// device can be read; the flag says the config read was cut to 64 bytes.
fn read_function(
    dir: &Path,
    address: Address,
    warnings: &mut Vec<Diagnostic>,
) -> Option<(Function, bool)> {
    if let Err(e) = fs::metadata(dir) {
        let target = fs::read_link(dir)
            .map(|t| format!(" (symlink to {})", t.display()))
            .unwrap_or_default();
        let why = if e.kind() == io::ErrorKind::NotFound {
            "dangling symlink".to_string()
        } else {
            e.to_string()
        };
        warnings.push(Diagnostic::at(
            shown(dir),
            None,
            format!("{why}{target}; function {address} skipped"),
        ));
        return None;
    }

    let config_path = dir.join("config");
    let (config, short) = match read_config(&config_path) {
        Ok(c) => c,
        Err(e) => {
            warnings.push(Diagnostic::at(
                shown(&config_path),
                None,
                format!("cannot read: {e}; config space of {address} unknown"),
            ));
            (Vec::new(), false)
        }
    };

    let from_config = identity_from_config(&config);
    let ids = match kernel_identity(dir, &from_config, warnings) {
        Some(ids) => ids,
        None if config.len() >= 16 => from_config,
        None => {
            warnings.push(Diagnostic::at(
                shown(dir),
                None,
                format!("neither the vendor/device/class files nor config could be read; function {address} skipped"),
            ));
            return None;
        }
    };

    let mut f = Function::new(address, ids, config);
    read_resources(dir, &mut f, warnings);
    f.driver = link_name(&dir.join("driver"));
    f.iommu_group = link_name(&dir.join("iommu_group")).and_then(|n| match n.parse() {
        Ok(g) => Some(g),
        Err(_) => {
            warnings.push(Diagnostic::at(
                shown(&dir.join("iommu_group")),
                None,
                format!("link target `{n}` is not a group number"),
            ));
            None
        }
    });
    f.physfn = link_address(&dir.join("physfn"), warnings);
    f.virtfns = virtfns(dir, warnings);
    f.boot_vga = read_attr(&dir.join("boot_vga"))
        .ok()
        .flatten()
        .and_then(|s| match s.trim() {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        });
    Some((f, short))
}

/// Reads `config` (any length up to 4096 bytes; short reads are normal).
/// The flag is set when the file claims more than was readable, which is
/// how Linux answers a non-root reader.
fn read_config(path: &Path) -> io::Result<(Vec<u8>, bool)> {
    let file = fs::File::open(path)?;
    let claimed = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = Vec::with_capacity(256);
    file.take(CONFIG_LIMIT).read_to_end(&mut buf)?;
    let short = buf.len() == 64 && claimed > 64;
    Ok((buf, short))
}

/// Reads a small attribute file; `Ok(None)` when it does not exist.
fn read_attr(path: &Path) -> Result<Option<String>, SourceError> {
    match read_bounded(path, ATTR_LIMIT) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(SourceError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Parses a number the way the kernel writes it (`0x8086`, `3`), as
/// `strtol(s, NULL, 0)` would.
fn parse_number(text: &str) -> Option<u64> {
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
fn number_attr(dir: &Path, name: &str, warnings: &mut Vec<Diagnostic>) -> Option<u64> {
    let path = dir.join(name);
    match read_attr(&path) {
        Ok(Some(text)) => {
            let v = parse_number(&text);
            if v.is_none() {
                warnings.push(Diagnostic::at(
                    shown(&path),
                    None,
                    format!("`{}` is not a number; ignored", text.trim()),
                ));
            }
            v
        }
        Ok(None) => None,
        Err(e) => {
            warnings.push(Diagnostic::at(shown(&path), None, e.to_string()));
            None
        }
    }
}

/// The identity as the kernel reports it, `None` when the mandatory
/// `vendor`, `device` and `class` files are not all readable.
fn kernel_identity(
    dir: &Path,
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
fn read_resources(dir: &Path, f: &mut Function, warnings: &mut Vec<Diagnostic>) {
    let path = dir.join("resource");
    let text = match read_attr(&path) {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => {
            warnings.push(Diagnostic::at(shown(&path), None, e.to_string()));
            return;
        }
    };
    for (i, line) in text.lines().take(7).enumerate() {
        let fields: Vec<Option<u64>> = line.split_whitespace().map(parse_hex).collect();
        let (start, end) = match fields.as_slice() {
            [Some(s), Some(e), Some(_), ..] => (*s, *e),
            _ => {
                warnings.push(Diagnostic::at(
                    shown(&path),
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
fn link_name(path: &Path) -> Option<String> {
    let target = fs::read_link(path).ok()?;
    target.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// The address a `physfn`/`virtfnN` link points to.
fn link_address(path: &Path, warnings: &mut Vec<Diagnostic>) -> Option<Address> {
    let name = link_name(path)?;
    match name.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            warnings.push(Diagnostic::at(
                shown(path),
                None,
                format!("link target `{name}` is not a PCI address"),
            ));
            None
        }
    }
}

/// `virtfn0`, `virtfn1`, ... in number order.
fn virtfns(dir: &Path, warnings: &mut Vec<Diagnostic>) -> Vec<Address> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, Address)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|s| s.strip_prefix("virtfn"))
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(a) = link_address(&entry.path(), warnings) {
            found.push((n, a));
        }
    }
    found.sort();
    found.into_iter().map(|(_, a)| a).collect()
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
