//! The `di_all` header: byte order, layout detection, validation, CRC.
//!
//! Facts from illumos-gate `usr/src/uts/common/sys/devinfo_impl.h` (see
//! docs/illumos.md, "devinfo snapshots"): version 2 kept its number
//! through a header change (the `aliases` field and `req_path[1024]` were
//! added), so the layout is found by structure: in the current layout the
//! u32 at 0x48 is `map_size`, in the older one the u32 at 0x44 is.

use super::bytes::{Buf, Endian};
use super::DevinfoError;

/// The only snapshot version this reader understands (`DI_SNAPSHOT_VERSION`).
pub const DI_SNAPSHOT_VERSION: i32 = 2;
/// `cache_magic` of a snapshot written to `/etc/devices/snapshot_cache`.
pub const DI_CACHE_MAGIC: u32 = 0xdfca_c6ed;
/// Offset of `cache_checksum` in both layouts.
const CHECKSUM_AT: usize = 0x14;

/// Which `di_all` layout a snapshot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Current illumos: `aliases` at 0x34, `map_size` at 0x48,
    /// `req_path[1024]` at 0x4c, `root_path` at 0x44c.
    Aliases,
    /// Older onnv: no `aliases`, `map_size` at 0x44, `root_path` at 0x48.
    Old,
}

impl Layout {
    fn map_size_at(self) -> usize {
        match self {
            Layout::Aliases => 0x48,
            Layout::Old => 0x44,
        }
    }
    fn root_path_at(self) -> usize {
        match self {
            Layout::Aliases => 0x44c,
            Layout::Old => 0x48,
        }
    }
    fn devcnt_at(self) -> usize {
        match self {
            Layout::Aliases => 0x40,
            Layout::Old => 0x3c,
        }
    }
    fn command_at(self) -> usize {
        match self {
            Layout::Aliases => 0x44,
            Layout::Old => 0x40,
        }
    }
}

/// The header fields a reader needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Byte order of the writer.
    pub endian: Endian,
    /// Header layout.
    pub layout: Layout,
    /// Whether `cache_magic` is set (a cache file rather than a fresh live snapshot).
    pub cached: bool,
    /// Stored CRC (0 in a live snapshot).
    pub checksum: u32,
    /// Seconds since the epoch when the snapshot was taken.
    pub snapshot_time: u64,
    /// Offset of the root node.
    pub top_devinfo: usize,
    /// Offset of the devnames table (0 when absent).
    pub devnames: Option<usize>,
    /// Number of devnames slots.
    pub devcnt: usize,
    /// Snapshot flags (DINFO* bits).
    pub command: u32,
    /// Valid length of the buffer.
    pub map_size: usize,
    /// Root of the snapshot, `/` for the cache.
    pub root_path: String,
}

/// Reads and validates the header of `bytes` (whole file or live buffer,
/// which may be longer than `map_size` because the copy-out is rounded up
/// to a page).
pub(crate) fn read_header(bytes: &[u8]) -> Result<Header, DevinfoError> {
    // The old layout's header is 0x48 bytes plus root_path.
    if bytes.len() < 0x4c {
        return Err(DevinfoError::TooShort { len: bytes.len() });
    }
    let ver_le = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let ver_be = i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    // `version` is stored in the writer's order; the value 2 tells which.
    let endian = if ver_le == DI_SNAPSHOT_VERSION {
        Endian::Little
    } else if ver_be == DI_SNAPSHOT_VERSION {
        Endian::Big
    } else {
        // Report the smaller reading, which is the plausible version number.
        let found = if (ver_le as u32) < (ver_be as u32) {
            ver_le
        } else {
            ver_be
        };
        // Versions are small numbers; anything else is another kind of file.
        if !(0..=255).contains(&found) {
            return Err(DevinfoError::NotSnapshot {
                start: String::from_utf8_lossy(&bytes[..16]).into_owned(),
            });
        }
        return Err(DevinfoError::Version { found });
    };
    let whole = Buf {
        data: bytes,
        endian,
    };
    let layout = detect_layout(&whole)?;
    let map_size = whole.u32(layout.map_size_at(), "map_size")? as usize;
    if map_size > bytes.len() {
        return Err(DevinfoError::Truncated {
            map_size,
            len: bytes.len(),
        });
    }
    let buf = Buf {
        data: &bytes[..map_size],
        endian,
    };
    let cached = buf.u32(4, "cache_magic")? == DI_CACHE_MAGIC;
    let checksum = buf.u32(CHECKSUM_AT, "cache_checksum")?;
    let snapshot_time = buf.u64(0x18, "snapshot_time")?;
    let top_devinfo = buf
        .off(0x20, "top_devinfo", false)?
        .ok_or(DevinfoError::Invalid(
            "top_devinfo is 0: the snapshot has no root node",
        ))?;
    let devnames = buf.off(0x28, "devnames", false)?;
    let devcnt = buf.i32(layout.devcnt_at(), "devcnt")?;
    let devcnt =
        usize::try_from(devcnt).map_err(|_| DevinfoError::Invalid("devcnt is negative"))?;
    let command = buf.u32(layout.command_at(), "command")?;
    let root_path = buf.cstr(layout.root_path_at(), "root_path")?;
    if !root_path.starts_with('/') {
        return Err(DevinfoError::RootPath(root_path));
    }
    if cached {
        let computed = checksum_of(buf.data);
        if computed != checksum {
            return Err(DevinfoError::Checksum {
                stored: checksum,
                computed,
            });
        }
    }
    Ok(Header {
        endian,
        layout,
        cached,
        checksum,
        snapshot_time,
        top_devinfo,
        devnames,
        devcnt,
        command,
        map_size,
        root_path,
    })
}

/// Picks the layout whose `map_size` field is consistent with the buffer:
/// exactly the length for a cache file; otherwise (a live buffer copied out
/// in whole pages, or a truncated file) large enough to hold that layout's
/// header, with a `root_path` that starts with `/`.
fn detect_layout(b: &Buf<'_>) -> Result<Layout, DevinfoError> {
    let len = b.data.len();
    let exact: Vec<Layout> = [Layout::Aliases, Layout::Old]
        .into_iter()
        .filter(|l| b.u32(l.map_size_at(), "map_size").ok() == Some(len as u32))
        .collect();
    if let [one] = exact.as_slice() {
        return Ok(*one);
    }
    let plausible: Vec<Layout> = [Layout::Aliases, Layout::Old]
        .into_iter()
        .filter(|l| {
            let Ok(ms) = b.u32(l.map_size_at(), "map_size") else {
                return false;
            };
            let ms = ms as usize;
            // A map_size beyond the input is a truncated file, which
            // read_header reports as such.
            ms > l.root_path_at() && b.data.get(l.root_path_at()) == Some(&b'/')
        })
        .collect();
    match plausible.as_slice() {
        [one] => Ok(*one),
        _ => Err(DevinfoError::Layout {
            len,
            at_0x44: b.u32(0x44, "map_size").unwrap_or(0),
            at_0x48: b.u32(0x48, "map_size").unwrap_or(0),
        }),
    }
}

/// The illumos CRC-32 of a snapshot: the standard reflected polynomial
/// 0xEDB88320 started at all ones but with **no final inversion**
/// (illumos `sys/crc32.h` `CRC32()` as used by devinfo.c), computed with
/// the checksum field taken as zero. That is the bitwise NOT of the usual
/// zlib CRC-32.
pub fn checksum_of(valid: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    let cut = CHECKSUM_AT.min(valid.len());
    h.update(&valid[..cut]);
    if valid.len() > cut {
        let end = (CHECKSUM_AT + 4).min(valid.len());
        h.update(&[0u8; 4][..end - cut]);
        h.update(&valid[end..]);
    }
    !h.finalize()
}
