//! The devinfo snapshot reader (cache file or live snapshot bytes).
//!
//! The format is the kernel's snapshot buffer: C structs linked by 32-bit
//! byte offsets (illumos-gate `devinfo_impl.h`; docs/illumos.md). [`Snapshot::parse`] checks the
//! header (version 2 only, either byte order, both header layouts), the
//! CRC of cache files, and every offset it follows; it never panics on bad
//! bytes and reports a typed [`DevinfoError`]. [`to_host`] turns the tree
//! into the `pci_core` model.

mod bytes;
mod convert;
mod header;
mod tree;

pub use bytes::Endian;
pub use convert::{reg_address, to_host};
pub use header::{checksum_of, Header, Layout, DI_CACHE_MAGIC, DI_SNAPSHOT_VERSION};

use bytes::Buf;

/// Why bytes are not a usable devinfo snapshot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevinfoError {
    /// Shorter than the smallest header.
    #[error("too short for a devinfo snapshot ({len} bytes)")]
    TooShort {
        /// Length of the input.
        len: usize,
    },
    /// `version` is neither 2 little-endian nor 2 big-endian.
    #[error("unsupported devinfo snapshot version {found} (only illumos version 2 is understood; Oracle Solaris 11 writes version 4)")]
    Version {
        /// The version as read.
        found: i32,
    },
    /// The first word is no plausible version at all: not a snapshot (a
    /// text file, a dump, JSON given to `--from devinfo:` by mistake).
    #[error("not a devinfo snapshot: it starts with {start:?} where the version number 2 belongs (give /etc/devices/snapshot_cache, or a snapshot saved on the host)")]
    NotSnapshot {
        /// The first bytes, for the user to recognise the file.
        start: String,
    },
    /// Neither header layout's `map_size` fits the input.
    #[error("not a devinfo snapshot of a known layout: map_size candidates {at_0x48} (at 0x48) and {at_0x44} (at 0x44) do not fit the length {len}")]
    Layout {
        /// Input length.
        len: usize,
        /// u32 at 0x44 (old layout's `map_size`).
        at_0x44: u32,
        /// u32 at 0x48 (current layout's `map_size`).
        at_0x48: u32,
    },
    /// The header says the snapshot is longer than the input.
    #[error("truncated devinfo snapshot: header says {map_size} bytes, have {len}")]
    Truncated {
        /// `map_size` from the header.
        map_size: usize,
        /// Input length.
        len: usize,
    },
    /// The cache CRC does not match.
    #[error("devinfo snapshot checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (file damaged or edited)")]
    Checksum {
        /// Stored `cache_checksum`.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
    /// An offset points outside the snapshot.
    #[error("{what} at offset {offset:#x} lies outside the snapshot ({len} bytes)")]
    OutOfBounds {
        /// What was being read.
        what: &'static str,
        /// The bad offset.
        offset: i64,
        /// Valid length.
        len: usize,
    },
    /// A string runs to the end of the snapshot without a NUL.
    #[error("{what} at offset {offset:#x} is not NUL-terminated")]
    Unterminated {
        /// What was being read.
        what: &'static str,
        /// Where the string starts.
        offset: usize,
    },
    /// A struct's `self` field does not hold its own offset.
    #[error(
        "{what} at offset {offset:#x} records self offset {found:#x}: not a devinfo structure"
    )]
    SelfMismatch {
        /// Struct kind.
        what: &'static str,
        /// Where it was expected.
        offset: usize,
        /// The `self` value found.
        found: i32,
    },
    /// A linked list or the tree loops back on itself.
    #[error("{what} loops back to offset {offset:#x}")]
    Loop {
        /// Which list.
        what: &'static str,
        /// The offset met twice.
        offset: usize,
    },
    /// `root_path` is not an absolute path.
    #[error("snapshot root path `{0}` is not absolute")]
    RootPath(String),
    /// Some other structural impossibility.
    #[error("invalid devinfo snapshot: {0}")]
    Invalid(&'static str),
}

/// One slot of the devnames (major number) table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevName {
    /// Driver name.
    pub name: String,
    /// Offset of the driver's shared global (driver.conf) property list.
    pub global_prop: Option<usize>,
    /// Next instance number the driver would assign.
    pub instance: i32,
}

/// Which of a node's four property lists a property came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PropList {
    /// Driver-created properties.
    Driver,
    /// System properties.
    System,
    /// Global (driver.conf) properties.
    Global,
    /// Hardware properties (set by the bus enumerator).
    Hardware,
}

/// A property value, typed by the property's type bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropData {
    /// No value (length 0).
    Boolean,
    /// 32-bit integers.
    Ints(Vec<i32>),
    /// 64-bit integers.
    Int64s(Vec<i64>),
    /// Strings.
    Strings(Vec<String>),
    /// Raw bytes: a byte-typed property, an untyped one, or a typed one
    /// whose length does not fit its type.
    Bytes(Vec<u8>),
    /// Explicitly undefined (`DDI_PROP_UNDEF_IT`). libdevinfo's typed
    /// lookups skip such an entry; it hides nothing.
    Undefined,
}

/// The type a lookup asks for (libdevinfo's `DI_PROP_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    /// `di_prop_lookup_ints`.
    Int,
    /// `di_prop_lookup_int64`.
    Int64,
    /// `di_prop_lookup_strings`.
    String,
    /// `di_prop_lookup_bytes`.
    Byte,
}

/// DDI property type bits (`sys/ddi_impldefs.h`).
const TYPE_INT: u32 = 0x0100;
const TYPE_STRING: u32 = 0x0200;
const TYPE_BYTE: u32 = 0x0400;
const TYPE_INT64: u32 = 0x1000;
const TYPE_MASK: u32 = 0x1f00;
const TYPE_ANY: u32 = 0x0f00;

/// One property of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Name.
    pub name: String,
    /// List it came from.
    pub list: PropList,
    /// `(major, minor)` for a per-minor property, `None` for DDI_DEV_T_NONE.
    pub dev: Option<(u32, u32)>,
    /// Raw `prop_flags`.
    pub flags: u32,
    /// The value.
    pub value: PropData,
    /// Byte order of the snapshot, for decoding an untyped value.
    pub big_endian: bool,
}

impl Property {
    /// Whether a lookup for `want` takes this entry, as libdevinfo's
    /// `match_prop` decides with `di_prop_type` (illumos-gate
    /// `usr/src/lib/libdevinfo/devinfo.c`): an undefined entry never, a
    /// boolean (no value) or untyped one always, a typed one only when
    /// the type is the one asked for.
    pub fn matches_type(&self, want: PropType) -> bool {
        if self.value == PropData::Undefined {
            return false;
        }
        if self.value == PropData::Boolean {
            return true;
        }
        match self.declared_type() {
            Some(t) => t == want,
            None => true,
        }
    }

    /// The type `di_prop_type` reports from the flags, `None` for
    /// "unknown": `DDI_PROP_TYPE_ANY` (0x0f00), no type bits, or only the
    /// composite bit. The bits are tested in `di_prop_type`'s order.
    fn declared_type(&self) -> Option<PropType> {
        let t = self.flags & TYPE_MASK;
        if t == TYPE_ANY {
            None
        } else if t & TYPE_INT != 0 {
            Some(PropType::Int)
        } else if t & TYPE_INT64 != 0 {
            Some(PropType::Int64)
        } else if t & TYPE_STRING != 0 {
            Some(PropType::String)
        } else if t & TYPE_BYTE != 0 {
            Some(PropType::Byte)
        } else {
            None
        }
    }

    /// The raw bytes of an untyped value.
    fn untyped(&self) -> Option<&[u8]> {
        match &self.value {
            PropData::Bytes(b) if self.declared_type().is_none() => Some(b),
            _ => None,
        }
    }

    /// The value as integers (`di_prop_ints`): none for a boolean, the
    /// cells of an int property, an untyped value decoded as cells.
    pub fn ints(&self) -> Option<Vec<i32>> {
        match &self.value {
            PropData::Boolean => Some(Vec::new()),
            PropData::Ints(v) => Some(v.clone()),
            _ => {
                let raw = self.untyped().filter(|r| r.len() % 4 == 0)?;
                Some(
                    raw.chunks_exact(4)
                        .map(|c| {
                            let a = [c[0], c[1], c[2], c[3]];
                            if self.big_endian {
                                i32::from_be_bytes(a)
                            } else {
                                i32::from_le_bytes(a)
                            }
                        })
                        .collect(),
                )
            }
        }
    }

    /// The value as strings (`di_prop_strings`).
    pub fn strings(&self) -> Option<Vec<String>> {
        match &self.value {
            PropData::Boolean => Some(Vec::new()),
            PropData::Strings(v) => Some(v.clone()),
            _ => {
                let raw = self.untyped()?;
                Some(bytes::split_strings(raw))
            }
        }
    }
}

/// A minor node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minor {
    /// Minor name (`ppt`, `devctl`, `reg`).
    pub name: String,
    /// Node type (`ddi_pseudo`, `ddi_ctl:devctl`).
    pub node_type: Option<String>,
    /// 0 minor, 1 alias, 2 default, 3 internal path.
    pub kind: i32,
    /// dev_t major.
    pub dev_major: u32,
    /// dev_t minor.
    pub dev_minor: u32,
    /// S_IFCHR or S_IFBLK.
    pub spec_type: u32,
}

/// One devinfo node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Offset of the `di_node` in the snapshot.
    pub offset: usize,
    /// Index of the parent in [`Snapshot::nodes`].
    pub parent: Option<usize>,
    /// Indexes of the children, in tree order.
    pub children: Vec<usize>,
    /// Node name.
    pub name: String,
    /// Unit address, `None` when empty (root, or not yet initialized).
    pub address: Option<String>,
    /// The compatible entry the driver bound by.
    pub bind_name: Option<String>,
    /// Compatible names, most specific first.
    pub compatible: Vec<String>,
    /// Major number of the bound driver, -1 when unbound.
    pub drv_major: i32,
    /// Bound driver, via the devnames table.
    pub driver: Option<String>,
    /// Instance number.
    pub instance: Option<i32>,
    /// DS_* state (1 linked .. 6 ready).
    pub node_state: i32,
    /// Properties: drv, sys, global, hw lists in that order.
    pub props: Vec<Property>,
    /// Minor nodes.
    pub minors: Vec<Minor>,
}

impl Node {
    /// The entry a typed lookup for `name` finds (libdevinfo
    /// `di_prop_search` over the drv, sys, global and hw lists in that
    /// order, any dev_t): the first one [`Property::matches_type`] takes.
    /// Entries of another type and undefined entries are skipped, so they
    /// hide nothing.
    pub fn lookup(&self, name: &str, want: PropType) -> Option<&Property> {
        self.props
            .iter()
            .find(|p| p.name == name && p.matches_type(want))
    }

    /// Integer cells of a property (`di_prop_lookup_ints`); a typed entry
    /// whose length is not a whole number of cells fails the lookup, as
    /// libdevinfo's decode does.
    pub fn ints(&self, name: &str) -> Option<Vec<i32>> {
        self.lookup(name, PropType::Int)?.ints()
    }

    /// First integer of a property.
    pub fn int(&self, name: &str) -> Option<i32> {
        self.ints(name)?.first().copied()
    }

    /// First string of a string property (`di_prop_lookup_strings`).
    pub fn string(&self, name: &str) -> Option<String> {
        self.lookup(name, PropType::String)?
            .strings()?
            .into_iter()
            .next()
    }

    /// The unit address, falling back to the `unit-address` property that
    /// the PCI and ISA enumerators set on nodes that are not initialized yet.
    pub fn unit_address(&self) -> Option<String> {
        self.address
            .clone()
            .or_else(|| self.string("unit-address").filter(|s| !s.is_empty()))
    }
}

/// A parsed devinfo snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Header facts.
    pub header: Header,
    /// The devnames table by major number.
    pub devnames: Vec<Option<DevName>>,
    /// Nodes in depth-first tree order (index 0 is the root): a node, then
    /// its children's subtrees in sibling order, then its next sibling.
    /// This is the order of libdevinfo's `di_walk_node` with
    /// DI_WALK_CLDFIRST, which puts a node's children in front of the
    /// nodes still to visit (illumos-gate `usr/src/lib/libdevinfo/devinfo.c`,
    /// `update_node_list`).
    pub nodes: Vec<Node>,
}

impl Snapshot {
    /// Parses snapshot bytes: a cache file or a live snapshot buffer.
    pub fn parse(bytes: &[u8]) -> Result<Snapshot, DevinfoError> {
        let header = header::read_header(bytes)?;
        let buf = Buf {
            data: &bytes[..header.map_size],
            endian: header.endian,
        };
        let devnames = tree::read_devnames(&buf, &header)?;
        let nodes = tree::read_tree(&buf, &header, &devnames)?;
        Ok(Snapshot {
            header,
            devnames,
            nodes,
        })
    }

    /// The devfs path of node `idx` as `di_devfs_path` builds it: `name@addr`
    /// per level, address only when the node has one. The root is `/`.
    pub fn devfs_path(&self, idx: usize) -> String {
        self.path_with(idx, |n| n.address.clone())
    }

    /// The devfs path with the `unit-address` property filling in the
    /// address of nodes that are not initialized (what the path will be
    /// once they are, and what a path alias must name).
    pub fn path_ua(&self, idx: usize) -> String {
        self.path_with(idx, Node::unit_address)
    }

    fn path_with(&self, idx: usize, addr: impl Fn(&Node) -> Option<String>) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(idx);
        // Bounded by the node count: parents always have smaller indexes.
        while let Some(i) = cur {
            let Some(n) = self.nodes.get(i) else { break };
            if n.parent.is_none() {
                break;
            }
            match addr(n) {
                Some(a) => parts.push(format!("{}@{}", n.name, a)),
                None => parts.push(n.name.clone()),
            }
            cur = n.parent.filter(|&p| p < i);
        }
        if parts.is_empty() {
            return "/".to_string();
        }
        parts.reverse();
        let root = self.header.root_path.trim_end_matches('/');
        format!("{root}/{}", parts.join("/"))
    }

    /// The node whose [`Snapshot::path_ua`] is `path` (like `di_lookup_node`).
    pub fn lookup(&self, path: &str) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| self.path_ua(i) == path)
    }
}

/// Why a devinfo snapshot file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Permissions refused the read (the message says what to do).
    #[error(transparent)]
    Denied(#[from] crate::root::ReadError),
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a usable snapshot.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        #[source]
        source: DevinfoError,
    },
}

/// The largest snapshot file read (real caches are a few hundred KiB).
const FILE_LIMIT: u64 = 256 * 1024 * 1024;

/// Reads a devinfo snapshot file (`/etc/devices/snapshot_cache` or saved
/// live bytes) into a [`pci_core::Host`]; messages name `path`.
pub fn load_file(path: &std::path::Path) -> Result<pci_core::Host, LoadError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            LoadError::Denied(crate::root::ReadError::from_io(shown.clone(), source))
        } else {
            LoadError::Io {
                path: shown.clone(),
                source,
            }
        }
    };
    let mut bytes = Vec::new();
    let file = hostfs::open_regular(path).map_err(io)?;
    // By size first: a huge file is refused without reading it.
    if file.metadata().map_or(0, |m| m.len()) > FILE_LIMIT {
        return Err(io(std::io::Error::other(
            "larger than 256 MiB; not a devinfo snapshot",
        )));
    }
    file.take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(io(std::io::Error::other(
            "larger than 256 MiB; not a devinfo snapshot",
        )));
    }
    let snap = Snapshot::parse(&bytes).map_err(|source| LoadError::Parse {
        path: shown.clone(),
        source,
    })?;
    Ok(to_host(&snap, &shown))
}
