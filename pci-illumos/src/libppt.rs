//! libppt's device lists over a [`Host`]: `ppt_list_assigned` (the
//! `/dev/ppt*` links) and `ppt_list` (every PCI node bound to ppt plus the
//! `ppt_matches` candidates), with the 2024 `dev_getinfo` key order
//! (docs/illumos.md; illumos-gate
//! `usr/src/lib/libppt/common/libppt.c`, `ppt_list_assigned`, `ppt_list`,
//! `inspect_node`, `dev_getinfo`).
//!
//! The rows are what libppt's nvlist holds; rendering them (ofmt tables,
//! JSON) is the caller's business.

use pci_core::{Function, Host, IllumosNode, PropValue};

use crate::matches::{NodeIds, PptMatches};

pub use crate::matches::MATCHES_FILES;

/// The `ppt_aliases` copies the kernel reads, in its order: the
/// boot-module copy under `/system/boot` when it exists, else `/etc`'s
/// (see [`crate::aliases::kernel_file_in`]).
pub const PPT_ALIASES_FILES: [&str; 2] =
    ["/system/boot/etc/ppt_aliases", crate::aliases::PPT_ALIASES];

/// One device: string pairs in nvlist insertion order.
pub type Row = Vec<(&'static str, String)>;

/// The `-a`, `-U`, `-N` switches of `pptadm list`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// `-a`: ppt-bound nodes and `ppt_matches` candidates.
    pub all: bool,
    /// `-U`: also nodes with no driver at all.
    pub unknown: bool,
    /// `-N`: the binding name of other drivers in `dev`.
    pub native: bool,
}

/// Why libppt's call fails as a whole (pptadm then prints no rows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// A `/dev/pptN` link resolves to a path that names no devinfo node
    /// (`di_lookup_node` fails in `ppt_list_assigned`).
    #[error("{dev} points at {path}, which names no device node")]
    UnknownPath {
        /// The `/dev/pptN` link.
        dev: String,
        /// The devfs path it resolves to.
        path: String,
    },
}

/// libppt's `is_pci`: the parent's `device_type` is `pci` or `pciex`.
pub(crate) fn is_pci(n: &IllumosNode) -> bool {
    matches!(n.parent_device_type.as_deref(), Some("pci") | Some("pciex"))
}

fn int_prop(n: &IllumosNode, name: &str) -> Option<i64> {
    match n.props.get(name)? {
        PropValue::Ints(v) => v.first().map(|&x| i64::from(x)),
        PropValue::Int64s(v) => v.first().copied(),
        _ => None,
    }
}

/// `%x` of an int property as libppt formats it (the 32-bit cell as
/// unsigned), falling back to the function's identity when the node has
/// no property list (predicted nodes carry one).
fn hex(n: &IllumosNode, name: &str, fallback: Option<u32>) -> Option<String> {
    if n.props.is_empty() {
        return fallback.map(|v| format!("{v:x}"));
    }
    int_prop(n, name).map(|v| format!("{:x}", v as u32))
}

/// `dev_getinfo` (2024 order): dev, path, vendor-id, device-id,
/// revision-id, subsystem ids when present, label when pci.ids knows it.
/// `None` when a required property is missing (libppt skips the node).
fn getinfo(f: &Function, n: &IllumosNode, dev: Option<String>) -> Option<Row> {
    let ids = &f.ids;
    let mut row: Row = Vec::new();
    if let Some(d) = dev {
        row.push(("dev", d));
    }
    row.push(("path", n.current_path().to_string()));
    let vendor = hex(n, "vendor-id", Some(u32::from(ids.vendor)))?;
    let device = hex(n, "device-id", Some(u32::from(ids.device)))?;
    row.push(("vendor-id", vendor));
    row.push(("device-id", device));
    row.push((
        "revision-id",
        hex(n, "revision-id", Some(u32::from(ids.revision)))?,
    ));
    let subsys_fallback = ids.subsystem_vendor.filter(|&v| v != 0);
    if let Some(v) = hex(n, "subsystem-vendor-id", subsys_fallback.map(u32::from)) {
        row.push(("subsystem-vendor-id", v));
    }
    let sub_fallback = subsys_fallback.and(ids.subsystem);
    if let Some(v) = hex(n, "subsystem-id", sub_fallback.map(u32::from)) {
        row.push(("subsystem-id", v));
    }
    // libppt labels from pcidb, the host's pci.ids: vendor and device only.
    let names = pci_core::names::PciNames::global();
    if let (Some(v), Some(d)) = (
        names.vendor(ids.vendor),
        names.device(ids.vendor, ids.device),
    ) {
        row.push(("label", format!("{v} {d}")));
    }
    Some(row)
}

/// The value of `key` in a row.
pub fn value<'a>(row: &'a Row, key: &str) -> Option<&'a str> {
    row.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
}

/// Adds a row keyed by its path: a second row for the same path replaces
/// the first and moves to the end (nvlist with unique names).
fn add(rows: &mut Vec<Row>, row: Row) {
    let path = value(&row, "path").map(str::to_string);
    rows.retain(|r| value(r, "path").map(str::to_string) != path);
    rows.push(row);
}

/// Sort key of a devfs path by the numbers of its unit addresses: the
/// stand-in for the walk order on hosts without a devinfo tree, where
/// nodes are predicted in the bus scan's order (bus, device, function).
/// Unit addresses that are not hex sort last.
pub fn address_key(path: &str) -> Vec<(u64, u64)> {
    path.split('/')
        .filter(|c| !c.is_empty())
        .map(|c| {
            let ua = c.split_once('@').map(|(_, a)| a).unwrap_or("");
            let mut it = ua
                .split(',')
                .map(|p| u64::from_str_radix(p, 16).unwrap_or(u64::MAX));
            (it.next().unwrap_or(u64::MAX), it.next().unwrap_or(0))
        })
        .collect()
}

/// The host's PCI nodes in libdevinfo's walk order (`di_walk_node` with
/// DI_WALK_CLDFIRST, which `ppt_list` uses): nodes read from a devinfo
/// tree by their place in it, predicted nodes after them by address.
pub(crate) fn walk_order(host: &Host) -> Vec<(&Function, &IllumosNode)> {
    let mut walk: Vec<(&Function, &IllumosNode)> = host
        .functions
        .iter()
        .filter_map(|f| f.illumos.as_ref().map(|n| (f, n)))
        .collect();
    walk.sort_by_cached_key(|(_, n)| (n.walk_index.unwrap_or(u32::MAX), address_key(&n.path)));
    walk
}

/// libppt's `match_ppt` for one node: a `ppt_matches` rule selects it by
/// the path `di_devfs_path` gives now, or by its `vendor-id`/`device-id`
/// properties printed with `"%x"`.
pub fn matched(f: &Function, n: &IllumosNode, matches: &PptMatches) -> bool {
    let prop =
        |name: &str, fallback: u16| int_prop(n, name).map_or(u32::from(fallback), |v| v as u32);
    let ids = NodeIds {
        path: n.current_path(),
        vendor: prop("vendor-id", f.ids.vendor),
        device: prop("device-id", f.ids.device),
    };
    matches.first_match(&ids).is_some()
}

/// The listing `pptadm list` prints for `mode`: `ppt_list_assigned`
/// without `-a`, `ppt_list` with it (`matches` is `/etc/ppt_matches`).
///
/// Rows carry the path libppt sees (`di_devfs_path`: no unit address for a
/// node that never initialised) and come in the devinfo walk order; libppt
/// keys its nvlist by that path, so a node whose path repeats an earlier
/// row's replaces that row and moves to the end (`nvlist_add_nvlist` on a
/// list with NV_UNIQUE_NAME).
pub fn list(host: &Host, mode: Mode, matches: &PptMatches) -> Result<Vec<Row>, ListError> {
    let mut rows = Vec::new();
    let walk = walk_order(host);
    if !mode.all {
        for link in &host.ppt_links {
            let Some(path) = &link.path else { continue };
            // di_lookup_node: the first node in tree order whose current
            // name and address spell the path.
            match walk.iter().find(|(_, n)| n.current_path() == path) {
                Some((f, n)) => {
                    if !is_pci(n) {
                        continue;
                    }
                    if let Some(row) = getinfo(f, n, Some(link.dev.clone())) {
                        add(&mut rows, row);
                    }
                }
                None if host.nexus.iter().any(|n| n.current_path() == path) => continue,
                None => {
                    return Err(ListError::UnknownPath {
                        dev: link.dev.clone(),
                        path: path.clone(),
                    })
                }
            }
        }
        return Ok(rows);
    }
    for (f, n) in walk {
        if !is_pci(n) {
            continue;
        }
        let dev = match n.driver.as_deref() {
            Some("ppt") => Some(format!("/dev/ppt{}", n.instance.unwrap_or(-1))),
            Some(other) if mode.native => {
                Some(n.binding_name.clone().unwrap_or_else(|| other.to_string()))
            }
            _ => None,
        };
        let bound_ppt = n.driver.as_deref() == Some("ppt");
        let include = bound_ppt || (mode.unknown && n.driver.is_none()) || matched(f, n, matches);
        if include {
            if let Some(row) = getinfo(f, n, dev) {
                add(&mut rows, row);
            }
        }
    }
    Ok(rows)
}
