//! Nodes, properties, minors and the devnames table (docs/illumos.md;
//! illumos-gate `usr/src/uts/common/sys/devinfo_impl.h`: `di_devnm`,
//! `di_node`, `di_prop`, `di_minor`, struct offsets for the 64-bit kernel,
//! which are the same in both header layouts).

use std::collections::HashSet;

use super::bytes::{split_strings, Buf, Endian};
use super::header::Header;
use super::{DevName, DevinfoError, Minor, Node, PropData, PropList, Property};

/// `sizeof (struct di_node)`.
pub(crate) const DI_NODE_SIZE: usize = 0xa8;
const DI_PROP_SIZE: usize = 0x24;
const DI_MINOR_SIZE: usize = 0x30;
const DI_DEVNM_SIZE: usize = 0x18;

// ddipropdefs.h type bits.
const PROP_TYPE_INT: u32 = 0x0100;
const PROP_TYPE_STRING: u32 = 0x0200;
const PROP_TYPE_BYTE: u32 = 0x0400;
const PROP_TYPE_INT64: u32 = 0x1000;
const PROP_TYPE_MASK: u32 = 0x1f00;
const PROP_UNDEF_IT: u32 = 0x0040;

/// Reads the devnames table: one slot per major number.
pub(crate) fn read_devnames(b: &Buf<'_>, h: &Header) -> Result<Vec<Option<DevName>>, DevinfoError> {
    let Some(base) = h.devnames else {
        return Ok(Vec::new());
    };
    let need = h
        .devcnt
        .checked_mul(DI_DEVNM_SIZE)
        .and_then(|n| n.checked_add(base))
        .ok_or(DevinfoError::Invalid("devcnt overflows"))?;
    if need > b.data.len() {
        return Err(DevinfoError::OutOfBounds {
            what: "devnames table",
            offset: base as i64,
            len: b.data.len(),
        });
    }
    let mut out = Vec::with_capacity(h.devcnt);
    for major in 0..h.devcnt {
        let at = base + major * DI_DEVNM_SIZE;
        let name = b.str_at_off(at, "devnames name", false)?;
        out.push(match name {
            Some(name) => Some(DevName {
                name,
                global_prop: b.off(at + 4, "devnames global_prop", true)?,
                instance: b.i32(at + 0x10, "devnames instance")?,
            }),
            None => None,
        });
    }
    Ok(out)
}

/// Walks the tree from the root: a node, then its children (first child,
/// then siblings), depth first in tree order, as `di_walk_node` with
/// `DI_WALK_CLDFIRST` visits them. Guards against cycles and bogus offsets.
pub(crate) fn read_tree(
    b: &Buf<'_>,
    h: &Header,
    devnames: &[Option<DevName>],
) -> Result<Vec<Node>, DevinfoError> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    // (offset, parent index)
    let mut stack: Vec<(usize, Option<usize>)> = vec![(h.top_devinfo, None)];
    let max_nodes = b.data.len() / DI_NODE_SIZE + 1;
    while let Some((off, parent)) = stack.pop() {
        if !seen.insert(off) || nodes.len() > max_nodes {
            return Err(DevinfoError::Loop {
                what: "node tree",
                offset: off,
            });
        }
        let node = read_node(b, off, parent, devnames)?;
        let idx = nodes.len();
        if let Some(p) = parent {
            nodes[p].children.push(idx);
        }
        // Collect the children in sibling order, then push them reversed so
        // the first child is visited first.
        let mut kids = Vec::new();
        let mut kid = b.off(off + 0x08, "node child", false)?;
        let mut guard = HashSet::new();
        while let Some(k) = kid {
            if !guard.insert(k) || seen.contains(&k) {
                return Err(DevinfoError::Loop {
                    what: "sibling list",
                    offset: k,
                });
            }
            kids.push(k);
            kid = b.off(k + 0x0c, "node sibling", false)?;
        }
        nodes.push(node);
        for k in kids.into_iter().rev() {
            stack.push((k, Some(idx)));
        }
    }
    Ok(nodes)
}

/// Checks the `size`-byte struct at `off`: all of it in the buffer (the
/// last byte is touched first, so a truncated struct is one clear error) and
/// its leading `self` word equal to `off` — every snapshot struct records
/// its own offset there (devinfo_impl.h), so a mismatch means `off` does
/// not point at such a struct.
fn check_struct(
    b: &Buf<'_>,
    off: usize,
    size: usize,
    what: &'static str,
    self_field: &'static str,
) -> Result<(), DevinfoError> {
    b.bytes(off, size, what)?;
    let me = b.i32(off, self_field)?;
    if me as usize != off || me < 0 {
        return Err(DevinfoError::SelfMismatch {
            what,
            offset: off,
            found: me,
        });
    }
    Ok(())
}

/// The devnames slot of driver major `major` (`-1`: no driver bound).
fn devname(devnames: &[Option<DevName>], major: i32) -> Option<&DevName> {
    usize::try_from(major)
        .ok()
        .and_then(|m| devnames.get(m))
        .and_then(|d| d.as_ref())
}

fn read_node(
    b: &Buf<'_>,
    off: usize,
    parent: Option<usize>,
    devnames: &[Option<DevName>],
) -> Result<Node, DevinfoError> {
    check_struct(b, off, DI_NODE_SIZE, "node", "node self")?;
    let name = b
        .str_at_off(off + 0x14, "node name", false)?
        .unwrap_or_default();
    let address = b
        .str_at_off(off + 0x18, "node address", false)?
        .filter(|a| !a.is_empty());
    let bind_name = b.str_at_off(off + 0x1c, "node bind_name", false)?;
    let compat_len = b.i32(off + 0x50, "node compat_length")?;
    let compatible = match b.off(off + 0x20, "node compat_names", false)? {
        Some(c) if compat_len > 0 => {
            split_strings(b.bytes(c, compat_len as usize, "compatible names")?)
        }
        _ => Vec::new(),
    };
    let drv_major = b.i32(off + 0x54, "node drv_major")?;
    let instance = b.i32(off + 0x58, "node instance")?;
    let node_state = b.i32(off + 0x6c, "node node_state")?;
    let driver = devname(devnames, drv_major).map(|d| d.name.clone());

    // Property lists in libdevinfo's lookup order: drv, sys, global, hw.
    let mut props = Vec::new();
    read_props(
        b,
        b.off(off + 0x28, "drv_prop", false)?,
        PropList::Driver,
        &mut props,
    )?;
    read_props(
        b,
        b.off(off + 0x2c, "sys_prop", false)?,
        PropList::System,
        &mut props,
    )?;
    // glob_prop: -1 = none, 0 = the driver's shared list in devnames,
    // anything else = a node-private copy (devinfo.c di_getprop).
    let glob_raw = b.i32(off + 0x30, "glob_prop")?;
    let glob = match glob_raw {
        -1 => None,
        0 => devname(devnames, drv_major).and_then(|d| d.global_prop),
        v => b.check_off(v, "glob_prop", true)?,
    };
    read_props(b, glob, PropList::Global, &mut props)?;
    read_props(
        b,
        b.off(off + 0x34, "hw_prop", false)?,
        PropList::Hardware,
        &mut props,
    )?;

    let minors = read_minors(b, b.off(off + 0x24, "minor_data", false)?)?;
    Ok(Node {
        offset: off,
        parent,
        children: Vec::new(),
        name,
        address,
        bind_name,
        compatible,
        drv_major,
        driver,
        instance: (instance >= 0).then_some(instance),
        node_state,
        props,
        minors,
    })
}

fn read_props(
    b: &Buf<'_>,
    mut at: Option<usize>,
    list: PropList,
    out: &mut Vec<Property>,
) -> Result<(), DevinfoError> {
    let mut seen = HashSet::new();
    while let Some(p) = at {
        if !seen.insert(p) {
            return Err(DevinfoError::Loop {
                what: "property list",
                offset: p,
            });
        }
        check_struct(b, p, DI_PROP_SIZE, "property", "property self")?;
        let name = b.str_at_off(p + 0x08, "property name", true)?;
        let data = b.off(p + 0x0c, "property data", true)?;
        let major = b.u32(p + 0x10, "property dev_major")?;
        let minor = b.u32(p + 0x14, "property dev_minor")?;
        let flags = b.u32(p + 0x18, "property flags")?;
        let len = b.i32(p + 0x1c, "property length")?;
        let len =
            usize::try_from(len).map_err(|_| DevinfoError::Invalid("negative property length"))?;
        let value = if flags & PROP_UNDEF_IT != 0 {
            PropData::Undefined
        } else {
            match data {
                Some(d) if len > 0 => {
                    decode_value(b.bytes(d, len, "property data")?, flags, b.endian)
                }
                _ => PropData::Boolean,
            }
        };
        if let Some(name) = name {
            out.push(Property {
                name,
                list,
                dev: (major != u32::MAX || minor != u32::MAX).then_some((major, minor)),
                flags,
                value,
                big_endian: b.endian == Endian::Big,
            });
        }
        at = b.off(p + 0x04, "property next", false)?;
    }
    Ok(())
}

fn decode_value(d: &[u8], flags: u32, endian: Endian) -> PropData {
    match flags & PROP_TYPE_MASK {
        PROP_TYPE_INT if d.len() & 3 == 0 => PropData::Ints(
            d.chunks_exact(4)
                .map(|c| {
                    let a = [c[0], c[1], c[2], c[3]];
                    match endian {
                        Endian::Little => i32::from_le_bytes(a),
                        Endian::Big => i32::from_be_bytes(a),
                    }
                })
                .collect(),
        ),
        PROP_TYPE_INT64 if d.len() & 7 == 0 => PropData::Int64s(
            d.chunks_exact(8)
                .map(|c| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    match endian {
                        Endian::Little => i64::from_le_bytes(a),
                        Endian::Big => i64::from_be_bytes(a),
                    }
                })
                .collect(),
        ),
        PROP_TYPE_STRING => PropData::Strings(split_strings(d)),
        PROP_TYPE_BYTE => PropData::Bytes(d.to_vec()),
        // Untyped ("ANY"), composite or a length that does not fit the
        // type: keep the raw bytes rather than guess.
        _ => PropData::Bytes(d.to_vec()),
    }
}

fn read_minors(b: &Buf<'_>, mut at: Option<usize>) -> Result<Vec<Minor>, DevinfoError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    while let Some(m) = at {
        if !seen.insert(m) {
            return Err(DevinfoError::Loop {
                what: "minor list",
                offset: m,
            });
        }
        check_struct(b, m, DI_MINOR_SIZE, "minor", "minor self")?;
        out.push(Minor {
            name: b
                .str_at_off(m + 0x08, "minor name", false)?
                .unwrap_or_default(),
            node_type: b.str_at_off(m + 0x0c, "minor node_type", false)?,
            kind: b.i32(m + 0x10, "minor type")?,
            dev_major: b.u32(m + 0x14, "minor dev_major")?,
            dev_minor: b.u32(m + 0x18, "minor dev_minor")?,
            spec_type: b.u32(m + 0x1c, "minor spec_type")?,
        });
        at = b.off(m + 0x04, "minor next", false)?;
    }
    Ok(out)
}
