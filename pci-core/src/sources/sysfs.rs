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
//! DIR is the root of the tree as read here (see [`crate::root`]): sysfs is
//! full of relative links (`../../../devices/pci0000:00/...`), which resolve
//! inside DIR, and an absolute link or a `..` chain never leads out of it
//! to the running host's files.
//!
//! Nothing in one device stops the others: a dangling symlink, an
//! unreadable file or junk in a file is a [`Diagnostic`] and the next
//! device is read.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::{identity_from_config, shown, sort_functions, Source, SourceError};
use crate::address::Address;
use crate::function::{Function, Identity, OsBar};
use crate::host::{Diagnostic, Host};
use crate::progress::{Observer, Task};
use crate::root::{HostRoot, ReadError};

/// The tree's `bus/pci/devices`, as a path under the tree's root.
const DEVICES: &str = "/bus/pci/devices";

/// A directory of the tree: its path under the tree's root, and where it
/// is on this machine for messages.
#[derive(Clone, Copy)]
struct TreeDir<'a> {
    root: &'a HostRoot,
    path: &'a str,
}

impl TreeDir<'_> {
    /// The tree path of `name` in this directory.
    fn join(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }

    /// `name` in this directory as shown in messages (the local path).
    fn shown(&self, name: &str) -> String {
        shown(&self.root.path(&self.join(name)))
    }

    /// This directory as shown in messages.
    fn shown_self(&self) -> String {
        shown(&self.root.path(self.path))
    }
}

/// A read error as a source error naming the local path.
fn source_error(root: &HostRoot, e: ReadError) -> SourceError {
    let path = shown(&root.path(e.path()));
    match e {
        ReadError::Io { source, .. } => SourceError::Io { path, source },
        ReadError::TooLarge { size, limit, .. } => SourceError::NotRecognised {
            file: path,
            message: format!("{size} bytes, larger than {limit}; refusing to read it"),
        },
        ReadError::PermissionDenied { source, .. } => {
            SourceError::Read(ReadError::PermissionDenied { path, source })
        }
        ReadError::LinkLoop { link, .. } => SourceError::Read(ReadError::LinkLoop { path, link }),
    }
}

/// Largest attribute file we read (they are a line each).
const ATTR_LIMIT: u64 = 4096;

/// Largest config space (PCIe extended config space).
const CONFIG_LIMIT: u64 = 4096;

/// The standard header (PCI 3.0 §6.1): what [`SysfsDetail::Identity`] reads.
const IDENTITY_BYTES: usize = 64;

/// How much of each function a sysfs load reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SysfsDetail {
    /// Everything: config, the kernel's identity files, `resource`, and the
    /// `driver`, `iommu_group`, `physfn`/`virtfn*` links and `boot_vga`.
    #[default]
    Full,
    /// What a one-line listing (`show`, `show -n`, `show -x`) prints: the
    /// first 64 bytes of `config` (the standard header) and the
    /// kernel's `class` file (two small reads per function instead of
    /// a dozen files, links and a directory scan). The class file is kept
    /// because Linux quirks rewrite class codes (drivers/pci/quirks.c), and
    /// lspci prints the kernel's; vendor, device, revision and subsystem
    /// come from config bytes, which the kernel copies them from
    /// (drivers/pci/probe.c `pci_setup_device`), except the IDs of SR-IOV
    /// virtual functions (0xffff in config), read from `vendor`/`device`.
    /// OS facts (driver, BAR sizes, links) stay unknown.
    Identity,
}

/// The `sysfs:` source.
#[derive(Debug, Clone)]
pub struct SysfsSource {
    /// The directory holding `bus/` and `devices/` (normally `/sys`).
    pub root: PathBuf,
    /// How much of each function to read.
    pub detail: SysfsDetail,
    /// Told of each function read (a large host takes seconds).
    pub progress: Observer,
}

impl SysfsSource {
    /// A sysfs tree rooted at `root`, read in full.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SysfsSource {
            root: root.into(),
            detail: SysfsDetail::Full,
            progress: Observer::none(),
        }
    }

    /// The same source reading only what `detail` asks for.
    pub fn with_detail(mut self, detail: SysfsDetail) -> Self {
        self.detail = detail;
        self
    }

    /// The same source telling `progress` of each function it reads.
    pub fn with_progress(mut self, progress: Observer) -> Self {
        self.progress = progress;
        self
    }
}

/// The entry names of `ROOT/bus/pci/devices` in directory order: the
/// tree walk of every sysfs load (public so `pptctl bench` can time it).
pub fn device_names(root: &Path) -> Result<Vec<std::ffi::OsString>, SourceError> {
    tree_device_names(&open_tree(root)?)
}

/// The tree at `dir`, held open as the root of every read.
fn open_tree(dir: &Path) -> Result<HostRoot, SourceError> {
    HostRoot::held(dir).map_err(|e| match e {
        ReadError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => not_a_tree(dir),
        ReadError::Io { source, .. } => SourceError::io(dir, source),
        e => SourceError::Read(e),
    })
}

fn not_a_tree(dir: &Path) -> SourceError {
    SourceError::NotRecognised {
        file: shown(dir),
        message: format!(
            "not a sysfs tree: {} does not exist (give the directory that holds bus/ and devices/, e.g. /sys)",
            shown(&dir.join("bus/pci/devices"))
        ),
    }
}

/// [`device_names`] of an open tree.
fn tree_device_names(root: &HostRoot) -> Result<Vec<std::ffi::OsString>, SourceError> {
    match root.read_dir(DEVICES) {
        Ok(names) => Ok(names),
        Err(e) if e.is_not_found() => Err(not_a_tree(root.dir())),
        Err(e) => Err(source_error(root, e)),
    }
}

/// Reads one `config` file the way every sysfs load does; the flag says
/// Linux cut the read to 64 bytes (a non-root reader).
pub fn read_config_file(path: &Path) -> io::Result<(Vec<u8>, bool)> {
    read_config(fs::File::open(path)?, CONFIG_LIMIT as usize)
}

impl Source for SysfsSource {
    fn load(&self) -> Result<Host, SourceError> {
        let tree = open_tree(&self.root)?;
        let devices = TreeDir {
            root: &tree,
            path: DEVICES,
        };
        let names = tree_device_names(&tree)?;
        let mut host = Host::default();
        host.facts.os = Some("linux".to_string());
        let task = self
            .progress
            .task("reading sysfs functions", Some(names.len() as u64));
        let task = &task;
        // Reading a function is a handful of syscalls, each a path walk in
        // the kernel; large hosts spread them over the CPUs (at most 4
        // threads), small ones are not worth a thread. Chunks are merged in
        // order, so functions and warnings come out as a serial read gives.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4)
            .min(names.len() / PARALLEL_MIN + 1);
        let chunks: Vec<Chunk> = if threads <= 1 {
            vec![read_chunk(devices, &names, self.detail, task)]
        } else {
            let size = names.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = names
                    .chunks(size)
                    .map(|part| scope.spawn(move || read_chunk(devices, part, self.detail, task)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        let mut short_config = 0usize;
        for chunk in chunks {
            host.functions.extend(chunk.functions);
            host.warnings.extend(chunk.warnings);
            short_config += chunk.short_config;
        }
        if short_config > 0 {
            host.warnings.push(Diagnostic::at(
                devices.shown_self(),
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

/// Functions per thread below which a sysfs read stays serial.
const PARALLEL_MIN: usize = 256;

/// What one share of `bus/pci/devices` gave.
struct Chunk {
    functions: Vec<Function>,
    warnings: Vec<Diagnostic>,
    short_config: usize,
}

/// Reads the device entries `names` of `devices`, telling `task` of each.
fn read_chunk(
    devices: TreeDir<'_>,
    names: &[std::ffi::OsString],
    detail: SysfsDetail,
    task: &Task<'_>,
) -> Chunk {
    let mut out = Chunk {
        functions: Vec::new(),
        warnings: Vec::new(),
        short_config: 0,
    };
    for name in names {
        task.advance(1);
        let Some(name) = name.to_str() else {
            out.warnings.push(Diagnostic::at(
                devices.shown_self(),
                None,
                format!("entry {name:?} is not a PCI address; skipped"),
            ));
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = devices.join(name);
        let dir = TreeDir {
            root: devices.root,
            path: &path,
        };
        let Ok(address) = name.parse::<Address>() else {
            out.warnings.push(Diagnostic::at(
                dir.shown_self(),
                None,
                "not a PCI address (DDDD:BB:DD.F); skipped",
            ));
            continue;
        };
        if let Some((f, short)) = read_function(dir, address, detail, &mut out.warnings) {
            out.short_config += usize::from(short);
            out.functions.push(f);
        }
    }
    out
}

/// Reads one device directory. `None` (with a warning) when nothing of the
/// device can be read; the flag says the config read was cut to 64 bytes.
fn read_function(
    dir: TreeDir<'_>,
    address: Address,
    detail: SysfsDetail,
    warnings: &mut Vec<Diagnostic>,
) -> Option<(Function, bool)> {
    let config_path = dir.join("config");
    let config_shown = || dir.shown("config");
    // Identity needs only the standard header: on real hardware every
    // config dword read is a bus access (a VM exit under virtualisation),
    // so 64 bytes instead of 4096 is what makes `show -n` cheap, and is
    // what lspci reads for -n.
    let limit = match detail {
        SysfsDetail::Identity => IDENTITY_BYTES,
        SysfsDetail::Full => CONFIG_LIMIT as usize,
    };
    let first_try = dir
        .root
        .open(&config_path)
        .map_err(|e| e.reason())
        .and_then(|f| read_config(f, limit).map_err(|e| e.to_string()));
    // Only when config cannot be opened is the directory itself examined
    // (a dangling link): a stat per function costs as much as a read.
    if first_try.is_ok() {
        if detail == SysfsDetail::Identity {
            if let Ok((config, short)) = &first_try {
                if let Some(f) = identity_function(dir, address, config) {
                    return Some((f, *short));
                }
            }
        }
    } else if let Err(e) = dir.root.metadata(dir.path) {
        let target = dir
            .root
            .read_link(dir.path)
            .map(|t| format!(" (symlink to {})", t.display()))
            .unwrap_or_default();
        let why = if e.is_not_found() {
            "dangling symlink".to_string()
        } else {
            e.to_string()
        };
        warnings.push(Diagnostic::at(
            dir.shown_self(),
            None,
            format!("{why}{target}; function {address} skipped"),
        ));
        return None;
    }

    let (config, short) = match first_try {
        Ok(c) => c,
        Err(e) => {
            warnings.push(Diagnostic::at(
                config_shown(),
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
                dir.shown_self(),
                None,
                format!("neither the vendor/device/class files nor config could be read; function {address} skipped"),
            ));
            return None;
        }
    };

    let mut f = Function::new(address, ids, config);
    read_resources(dir, &mut f, warnings);
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
    read_placement_attrs(dir, &mut f);
    Some((f, short))
}

/// `boot_vga` and `numa_node`: unreadable or unexpected text is "not
/// recorded". `numa_node` reads -1 when the platform gives no node
/// (drivers/pci/pci-sysfs.c), which is "not recorded" too.
fn read_placement_attrs(dir: TreeDir<'_>, f: &mut Function) {
    f.boot_vga = read_attr(dir.root, &dir.join("boot_vga"))
        .ok()
        .flatten()
        .and_then(|s| match s.trim() {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        });
    f.numa_node = read_attr(dir.root, &dir.join("numa_node"))
        .ok()
        .flatten()
        .and_then(|s| s.trim().parse::<u32>().ok());
}

/// Reads `config` (any length up to 4096 bytes; short reads are normal).
/// The flag is set when the file claims more than was readable, which is
/// how Linux answers a non-root reader; the size is only asked for then.
fn read_config(mut file: fs::File, limit: usize) -> io::Result<(Vec<u8>, bool)> {
    let mut buf = [0u8; CONFIG_LIMIT as usize];
    let limit = limit.min(buf.len());
    let mut len = 0;
    while len < limit {
        let want = limit - len;
        match file.read(&mut buf[len..limit]) {
            Ok(0) => break,
            // A short read of a regular or sysfs file is its end: saves
            // the read that would return 0 (one syscall per function).
            Ok(n) if n < want => {
                len += n;
                break;
            }
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let short = len == 64 && limit > 64 && file.metadata().map(|m| m.len()).unwrap_or(0) > 64;
    Ok((buf[..len].to_vec(), short))
}

/// [`SysfsDetail::Identity`]: the function from its config bytes and the
/// kernel's `class` file. `None` (the caller then reads in full) when the
/// config is too short for an identity or `class` is unreadable.
fn identity_function(dir: TreeDir<'_>, address: Address, config: &[u8]) -> Option<Function> {
    if config.len() < 0x30 {
        return None;
    }
    let mut ids = identity_from_config(config);
    let class = match read_small(dir.root, &dir.join("class")) {
        Ok(text) => parse_number(&text),
        Err(_) => None,
    };
    let Some(class) = class else {
        // Unreadable or junk: the full read reports it properly.
        return None;
    };
    ids.class = (class & 0xff_ffff) as u32;
    // SR-IOV virtual functions read 0xffff as vendor and device ID (PCIe
    // Base 4.0 §9.3.4.1.1); the kernel fills in the PF's values, which
    // lspci prints. Only then are the ID files needed.
    if ids.vendor == 0xffff || ids.device == 0xffff {
        let id = |name: &str| {
            read_small(dir.root, &dir.join(name))
                .ok()
                .and_then(|t| parse_number(&t))
        };
        ids.vendor = id("vendor")? as u16;
        ids.device = id("device")? as u16;
    }
    Some(Function::new(address, ids, config.to_vec()))
}

/// Reads a one-line attribute with a single `read` (the kernel returns a
/// whole attribute at once, and a short read of a file is its end).
fn read_small(root: &HostRoot, path: &str) -> io::Result<String> {
    let mut buf = [0u8; 64];
    let Some(mut f) = root.try_open(path).map_err(io::Error::other)? else {
        return Err(io::ErrorKind::NotFound.into());
    };
    let n = f.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Reads a small attribute file; `Ok(None)` when it does not exist.
fn read_attr(root: &HostRoot, path: &str) -> Result<Option<String>, SourceError> {
    match root.try_read(path, ATTR_LIMIT) {
        Ok(b) => Ok(b.map(|b| String::from_utf8_lossy(&b).into_owned())),
        Err(e) => Err(source_error(root, e)),
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
fn kernel_identity(
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
fn read_resources(dir: TreeDir<'_>, f: &mut Function, warnings: &mut Vec<Diagnostic>) {
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
