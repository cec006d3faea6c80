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
use crate::function::Function;
use crate::host::{Diagnostic, Host};
use crate::progress::{Observer, Task};
use crate::root::{HostRoot, ReadError};

mod attrs;

use attrs::{kernel_identity, parse_number, read_links, read_resources, read_small};

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
    read_config(hostfs::open_regular(path)?, CONFIG_LIMIT as usize)
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
    let (config, short) = match open_config(dir, address, detail, warnings)? {
        ConfigRead::Identified(f, short) => return Some((*f, short)),
        ConfigRead::Bytes(config, short) => (config, short),
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
    read_links(dir, &mut f, warnings);
    Some((f, short))
}

/// What reading a device's `config` gave.
enum ConfigRead {
    /// [`SysfsDetail::Identity`] had all it needed: the whole function.
    Identified(Box<Function>, bool),
    /// The config bytes (empty when unreadable, with a warning) and
    /// whether the read was cut to 64 bytes.
    Bytes(Vec<u8>, bool),
}

/// Reads `config` within the detail's limit. `None` (with a warning) when
/// the device directory itself is gone (a dangling link).
fn open_config(
    dir: TreeDir<'_>,
    address: Address,
    detail: SysfsDetail,
    warnings: &mut Vec<Diagnostic>,
) -> Option<ConfigRead> {
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
        .open(&dir.join("config"))
        .map_err(|e| e.reason())
        .and_then(|f| read_config(f, limit).map_err(|e| e.to_string()));
    // Only when config cannot be opened is the directory itself examined
    // (a dangling link): a stat per function costs as much as a read.
    if first_try.is_ok() {
        if detail == SysfsDetail::Identity {
            if let Ok((config, short)) = &first_try {
                if let Some(f) = identity_function(dir, address, config) {
                    return Some(ConfigRead::Identified(Box::new(f), *short));
                }
            }
        }
    } else if let Err(e) = dir.root.metadata(dir.path) {
        warn_dangling(dir, address, &e, warnings);
        return None;
    }
    Some(match first_try {
        Ok((config, short)) => ConfigRead::Bytes(config, short),
        Err(e) => {
            warnings.push(Diagnostic::at(
                dir.shown("config"),
                None,
                format!("cannot read: {e}; config space of {address} unknown"),
            ));
            ConfigRead::Bytes(Vec::new(), false)
        }
    })
}

/// The warning for a device directory that cannot be examined: a
/// dangling symlink (named with its target) or another error.
fn warn_dangling(
    dir: TreeDir<'_>,
    address: Address,
    e: &ReadError,
    warnings: &mut Vec<Diagnostic>,
) {
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
