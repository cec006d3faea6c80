//! Names from the `pci.ids` database.
//!
//! [`PciNames::load`] reads the system's `pci.ids` (the paths `lspci`
//! searches on Debian and friends) and indexes it in one pass over the
//! line starts: vendor and class headers are recorded with the byte range
//! of their block, so a lookup parses only the block it needs. When no
//! system file exists, the copy embedded in the `pci-ids` crate is used.
//!
//! Format (from the header of `pci.ids` itself): a vendor line is 4 hex
//! digits, whitespace, a name; device lines start with one tab,
//! subsystem lines with two; the class section uses `C cc  name`, then
//! one tab for sub classes and two for programming interfaces. Lines that
//! fit none of these (comments, junk) are skipped; CRLF is tolerated.

use std::ops::Range;
use std::path::{Path, PathBuf};

use pci_ids::FromId;

/// Where `lspci` (pciutils, Debian) looks for `pci.ids`, in order.
pub const SYSTEM_PATHS: [&str; 3] = [
    "/usr/share/hwdata/pci.ids",
    "/usr/share/misc/pci.ids",
    "/usr/share/pci.ids",
];

/// Failure to read a named `pci.ids` file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", path.display())]
pub struct NamesError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: std::io::Error,
}

/// One vendor or class header and the block of lines under it.
#[derive(Debug, Clone)]
struct Block {
    id: u32,
    name: Range<usize>,
    body: Range<usize>,
}

#[derive(Debug, Clone)]
struct Indexed {
    path: PathBuf,
    text: String,
    /// Sorted by id; on duplicates the first wins (binary search finds
    /// any, so duplicates are dropped when indexing).
    vendors: Vec<Block>,
    devices: Vec<Block>,
    classes: Vec<Block>,
}

/// A `pci.ids` database: a system file or the embedded copy.
#[derive(Debug, Clone)]
pub struct PciNames {
    inner: Option<Indexed>,
}

impl PciNames {
    /// The first system `pci.ids` that can be read, or the embedded copy
    /// when none can.
    pub fn load() -> PciNames {
        SYSTEM_PATHS
            .iter()
            .find_map(|p| PciNames::from_file(p).ok())
            .unwrap_or_else(PciNames::embedded)
    }

    /// One database per process, loaded by [`PciNames::load`] on first use
    /// (a command that names many functions pays the ~20 ms index once).
    pub fn global() -> &'static PciNames {
        static NAMES: std::sync::OnceLock<PciNames> = std::sync::OnceLock::new();
        NAMES.get_or_init(PciNames::load)
    }

    /// Reads one `pci.ids` file. Invalid UTF-8 is replaced, not fatal.
    pub(crate) fn from_file(path: impl AsRef<Path>) -> Result<PciNames, NamesError> {
        let path = path.as_ref();
        let bytes = hostfs::open_regular(path)
            .and_then(|mut f| {
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut b).map(|_| b)
            })
            .map_err(|source| NamesError {
                path: path.to_path_buf(),
                source,
            })?;
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(PciNames::from_text(path.to_path_buf(), text))
    }

    /// Indexes `pci.ids` text already in memory; `path` is only reported.
    pub fn from_text(path: PathBuf, text: String) -> PciNames {
        let Indexes {
            vendors,
            devices,
            classes,
        } = index(&text);
        PciNames {
            inner: Some(Indexed {
                path,
                text,
                vendors,
                devices,
                classes,
            }),
        }
    }

    /// The copy embedded in the `pci-ids` crate.
    pub fn embedded() -> PciNames {
        PciNames { inner: None }
    }

    /// The file in use, or `None` for the embedded copy.
    pub fn path(&self) -> Option<&Path> {
        self.inner.as_ref().map(|i| i.path.as_path())
    }

    /// The `Version:` and `Date:` the file's header comment records
    /// (`#\tVersion: 2024.02.26`), each `None` when absent or for the
    /// embedded copy. Only the leading comment block is read.
    pub fn version(&self) -> (Option<&str>, Option<&str>) {
        let Some(i) = &self.inner else {
            return (None, None);
        };
        let mut version = None;
        let mut date = None;
        for line in i
            .text
            .lines()
            .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        {
            let body = line.trim_start_matches('#').trim();
            if let Some(v) = body.strip_prefix("Version:") {
                version = version.or(Some(v.trim()));
            } else if let Some(d) = body.strip_prefix("Date:") {
                date = date.or(Some(d.trim()));
            }
        }
        (version, date)
    }

    /// Vendor name.
    pub fn vendor(&self, vendor: u16) -> Option<&str> {
        match &self.inner {
            Some(ix) => ix
                .block(&ix.vendors, vendor.into())
                .map(|b| &ix.text[b.name.clone()]),
            None => pci_ids::Vendor::from_id(vendor).map(|v| v.name()),
        }
    }

    /// Device name.
    pub fn device(&self, vendor: u16, device: u16) -> Option<&str> {
        match &self.inner {
            Some(ix) => ix
                .block(&ix.devices, u32::from(vendor) << 16 | u32::from(device))
                .map(|b| &ix.text[b.name.clone()]),
            None => pci_ids::Device::from_vid_pid(vendor, device).map(|d| d.name()),
        }
    }

    /// Subsystem name, as listed under the device (`lspci -v`'s
    /// `Subsystem:` line falls back to other names when this is absent).
    pub fn subsystem(
        &self,
        vendor: u16,
        device: u16,
        subvendor: u16,
        subdevice: u16,
    ) -> Option<&str> {
        match &self.inner {
            Some(ix) => {
                let dev = ix.block(&ix.devices, u32::from(vendor) << 16 | u32::from(device))?;
                ix.find(dev.body.clone(), 2, |l| {
                    let (sv, rest) = parse_hex_name(l, 4)?;
                    let (sd, name) = parse_hex_name(rest, 4)?;
                    (sv == subvendor && sd == subdevice).then_some((0, name))
                })
            }
            None => pci_ids::Device::from_vid_pid(vendor, device)?
                .subsystems()
                .find(|s| s.subvendor() == subvendor && s.subdevice() == subdevice)
                .map(|s| s.name()),
        }
    }

    /// Base class name (`Bridge`, `Display controller`, ...).
    pub fn class(&self, base: u8) -> Option<&str> {
        match &self.inner {
            Some(ix) => ix
                .block(&ix.classes, base.into())
                .map(|b| &ix.text[b.name.clone()]),
            None => pci_ids::Class::from_id(base).map(|c| c.name()),
        }
    }

    /// Sub class name (`PCI bridge`, `VGA compatible controller`, ...).
    pub fn subclass(&self, base: u8, sub: u8) -> Option<&str> {
        match &self.inner {
            Some(ix) => {
                let b = ix.block(&ix.classes, base.into())?;
                ix.find(b.body.clone(), 1, |l| {
                    parse_hex_name(l, 2).filter(|(id, _)| *id == u16::from(sub))
                })
            }
            None => pci_ids::Subclass::from_cid_sid(base, sub).map(|s| s.name()),
        }
    }

    /// Programming interface name (`Normal decode`, `VGA controller`, ...).
    pub fn prog_if(&self, base: u8, sub: u8, prog_if: u8) -> Option<&str> {
        match &self.inner {
            Some(ix) => {
                let b = ix.block(&ix.classes, base.into())?;
                let body = ix.sub_body(b.body.clone(), 1, 2, u16::from(sub))?;
                ix.find(body, 2, |l| {
                    parse_hex_name(l, 2).filter(|(id, _)| *id == u16::from(prog_if))
                })
            }
            None => pci_ids::Subclass::from_cid_sid(base, sub)?
                .prog_ifs()
                .find(|p| p.id() == prog_if)
                .map(|p| p.name()),
        }
    }
}

impl Indexed {
    fn block<'s>(&'s self, blocks: &'s [Block], id: u32) -> Option<&'s Block> {
        blocks
            .binary_search_by_key(&id, |b| b.id)
            .ok()
            .and_then(|i| blocks.get(i))
    }

    /// Lines of `range` with exactly `tabs` leading tabs, first hit of `f`.
    fn find<'s>(
        &'s self,
        range: Range<usize>,
        tabs: usize,
        f: impl Fn(&'s str) -> Option<(u16, &'s str)>,
    ) -> Option<&'s str> {
        lines(&self.text, range)
            .filter_map(|(_, l)| strip_tabs(l, tabs))
            .find_map(|l| f(l).map(|(_, n)| n))
    }

    /// The block of deeper lines under the `tabs`-deep entry with `id`.
    fn sub_body(
        &self,
        range: Range<usize>,
        tabs: usize,
        digits: usize,
        id: u16,
    ) -> Option<Range<usize>> {
        let mut start = None;
        for (at, line) in lines(&self.text, range.clone()) {
            let depth = line.bytes().take_while(|&b| b == b'\t').count();
            match start {
                None => {
                    if depth == tabs
                        && parse_hex_name(&line[tabs..], digits).is_some_and(|(i, _)| i == id)
                    {
                        start = Some(at + line.len());
                    }
                }
                Some(s) => {
                    if depth <= tabs && !is_comment_or_blank(line) {
                        return Some(s..at);
                    }
                }
            }
        }
        start.map(|s| s..range.end)
    }
}

/// (byte offset, line without newline or CR) for each line in `range`.
fn lines(text: &str, range: Range<usize>) -> impl Iterator<Item = (usize, &str)> {
    let base = range.start;
    let slice = text.get(range).unwrap_or("");
    let mut at = base;
    slice.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        (start, line.strip_suffix('\r').unwrap_or(line))
    })
}

fn is_comment_or_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn strip_tabs(line: &str, tabs: usize) -> Option<&str> {
    let rest = line.get(tabs..)?;
    (line.as_bytes()[..tabs].iter().all(|&b| b == b'\t') && !rest.starts_with('\t')).then_some(rest)
}

/// `digits` hex digits, whitespace, then a name (trimmed, non-empty).
fn parse_hex_name(line: &str, digits: usize) -> Option<(u16, &str)> {
    let id = line.get(..digits)?;
    if !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let rest = &line[digits..];
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let name = rest.trim();
    (!name.is_empty()).then(|| Some((u16::from_str_radix(id, 16).ok()?, name)))?
}

/// The three indexes one pass over the file builds.
struct Indexes {
    vendors: Vec<Block>,
    devices: Vec<Block>,
    classes: Vec<Block>,
}

/// One pass: vendor headers (`vvvv  name`), their device lines (one tab;
/// key `vendor << 16 | device`, body = the subsystem lines under it) and
/// class headers (`C cc  name`). Sub classes and subsystems are found by
/// scanning their (short) parent block when asked.
fn index(text: &str) -> Indexes {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        None,
        Vendor(u32),
        Class,
    }
    let mut ix = Indexes {
        vendors: Vec::new(),
        devices: Vec::new(),
        classes: Vec::new(),
    };
    let mut open = Open::None;
    let name_range = |line_start: usize, line: &str, name: &str| {
        // `name` is a sub-slice of `line`.
        let off = name.as_ptr() as usize - line.as_ptr() as usize;
        line_start + off..line_start + off + name.len()
    };
    let close = |list: &mut Vec<Block>, at: usize| {
        if let Some(b) = list.last_mut() {
            if b.body.end == usize::MAX {
                b.body.end = at;
            }
        }
    };
    for (at, line) in lines(text, 0..text.len()) {
        match line.as_bytes() {
            [] | [b'#', ..] => continue,
            [b'\t', b'\t', ..] => continue,
            [b'\t', ..] => {
                if let Open::Vendor(v) = open {
                    if let Some((id, name)) = parse_hex_name(&line[1..], 4) {
                        close(&mut ix.devices, at);
                        ix.devices.push(Block {
                            id: v << 16 | u32::from(id),
                            name: name_range(at, line, name),
                            body: at + line.len()..usize::MAX,
                        });
                    }
                }
                continue;
            }
            _ => {}
        }
        // Any other top-level line closes the open blocks.
        match open {
            Open::Vendor(_) => {
                close(&mut ix.vendors, at);
                close(&mut ix.devices, at);
            }
            Open::Class => close(&mut ix.classes, at),
            Open::None => {}
        }
        open = Open::None;
        if let Some(rest) = line.strip_prefix("C ") {
            if let Some((id, name)) = parse_hex_name(rest, 2) {
                ix.classes.push(Block {
                    id: u32::from(id),
                    name: name_range(at, line, name),
                    body: at + line.len()..usize::MAX,
                });
                open = Open::Class;
            }
        } else if let Some((id, name)) = parse_hex_name(line, 4) {
            ix.vendors.push(Block {
                id: u32::from(id),
                name: name_range(at, line, name),
                body: at + line.len()..usize::MAX,
            });
            open = Open::Vendor(u32::from(id));
        }
    }
    for list in [&mut ix.vendors, &mut ix.devices, &mut ix.classes] {
        for b in list.iter_mut() {
            if b.body.end == usize::MAX {
                b.body.end = text.len();
            }
        }
        // Stable sort keeps file order among duplicates; keep the first.
        list.sort_by_key(|b| b.id);
        list.dedup_by_key(|b| b.id);
    }
    ix
}

#[cfg(test)]
#[test]
fn header_version_and_date() {
    let n = PciNames::from_text(
        PathBuf::from("x"),
        "#\n#\tList of PCI ID's\n#\n#\tVersion: 2024.02.26\n#\tDate:    2024-02-26 03:15:02\n\n# Version: 1\n8086  Intel\n".into(),
    );
    assert_eq!(
        n.version(),
        (Some("2024.02.26"), Some("2024-02-26 03:15:02"))
    );
    assert_eq!(PciNames::embedded().version(), (None, None));
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\r\n\
1af4  Red Hat, Inc.\r\n\
\t1000  Virtio network device\r\n\
\t\t1af4 0001  Virtio network device\r\n\
\t1041  Virtio 1.0 network device\r\n\
junk line here\n\
8086  Intel Corporation\n\
\t0151  Xeon E3-1200 v2/3rd Gen Core processor PCI Express Root Port\n\
\t\t1462 2291  Subsys name\n\
\t\t# a comment among subsystems\n\
\t\t1028 052c  Other\n\
\t1e18  7 Series/C210 Series Chipset Family PCI Express Root Port 5\n\
C 06  Bridge\n\
\t00  Host bridge\n\
\t04  PCI bridge\n\
\t\t00  Normal decode\n\
\t\t01  Subtractive decode\n\
\t80  Bridge\n\
C 03  Display controller\r\n\
\t00  VGA compatible controller\r\n\
\t\t00  VGA controller\r\n";

    fn names() -> PciNames {
        PciNames::from_text(PathBuf::from("sample"), SAMPLE.to_string())
    }

    #[test]
    fn lookups() {
        let n = names();
        assert_eq!(n.vendor(0x1af4), Some("Red Hat, Inc."));
        assert_eq!(n.vendor(0x8086), Some("Intel Corporation"));
        assert_eq!(n.vendor(0x1234), None);
        assert_eq!(n.device(0x1af4, 0x1041), Some("Virtio 1.0 network device"));
        assert_eq!(n.device(0x1af4, 0x0001), None);
        assert_eq!(
            n.device(0x8086, 0x1e18),
            Some("7 Series/C210 Series Chipset Family PCI Express Root Port 5")
        );
        assert_eq!(
            n.subsystem(0x8086, 0x0151, 0x1462, 0x2291),
            Some("Subsys name")
        );
        assert_eq!(n.subsystem(0x8086, 0x0151, 0x1028, 0x052c), Some("Other"));
        assert_eq!(n.subsystem(0x8086, 0x1e18, 0x1028, 0x052c), None);
        assert_eq!(
            n.subsystem(0x1af4, 0x1000, 0x1af4, 0x0001),
            Some("Virtio network device")
        );
        assert_eq!(n.class(0x06), Some("Bridge"));
        assert_eq!(n.class(0x03), Some("Display controller"));
        assert_eq!(n.subclass(0x06, 0x04), Some("PCI bridge"));
        assert_eq!(n.subclass(0x06, 0x80), Some("Bridge"));
        assert_eq!(n.prog_if(0x06, 0x04, 0x01), Some("Subtractive decode"));
        assert_eq!(n.prog_if(0x06, 0x00, 0x01), None);
        assert_eq!(n.prog_if(0x03, 0x00, 0x00), Some("VGA controller"));
        // Class section entries are not vendors.
        assert_eq!(n.device(0x0006, 0x0000), None);
    }

    #[test]
    fn embedded_fallback() {
        let n = PciNames::embedded();
        assert!(n.path().is_none());
        assert_eq!(n.vendor(0x8086), Some("Intel Corporation"));
        assert_eq!(n.class(0x06), Some("Bridge"));
        assert_eq!(n.subclass(0x06, 0x04), Some("PCI bridge"));
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let e = PciNames::from_file("/nonexistent/pci.ids").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/pci.ids"));
    }

    #[test]
    fn system_file_agrees_with_embedded_on_stable_names() {
        let n = PciNames::load();
        if n.path().is_none() {
            eprintln!("no system pci.ids; skipping");
            return;
        }
        assert_eq!(n.vendor(0x8086), Some("Intel Corporation"));
        assert_eq!(n.vendor(0x1af4), Some("Red Hat, Inc."));
        assert_eq!(n.subclass(0x06, 0x04), Some("PCI bridge"));
        assert_eq!(n.prog_if(0x01, 0x06, 0x01), Some("AHCI 1.0"));
    }
}
