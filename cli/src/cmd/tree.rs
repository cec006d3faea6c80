//! `pptctl tree`: the PCI hierarchy as the illumos device tree shows it —
//! root complexes, bridges and functions, each with its node name and unit
//! address (or full devfs path with `--paths`), slot, IDs and driver
//! binding (`driver` + instance, as `prtconf -D` shows it).

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use pci_core::text::{escape, Escaped};
use pci_core::{Function, Host, IllumosNode};

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl tree`.
#[derive(Args, Debug)]
pub struct TreeArgs {
    /// Print full devfs paths instead of the last path component.
    #[arg(long)]
    paths: bool,
    /// Print the hierarchy as one JSON document (docs/json.md).
    #[arg(long, conflicts_with = "paths")]
    json: bool,
}

/// One node of the drawn tree.
struct Entry<'a> {
    node: Option<&'a IllumosNode>,
    func: Option<&'a Function>,
    path: String,
}

fn binding(e: &Entry<'_>) -> String {
    match e.node {
        Some(n) if n.is_from_devinfo() => match (&n.driver, n.instance) {
            (Some(d), Some(i)) => format!("{}{i}", Escaped(d)),
            (Some(d), None) => format!("{} (not attached)", Escaped(d)),
            (None, _) => "(no driver)".to_string(),
        },
        _ => match e.func.and_then(|f| f.driver.as_deref()) {
            Some(d) => format!("(linux: {})", Escaped(d)),
            None => String::new(),
        },
    }
}

fn describe(e: &Entry<'_>, full: bool) -> String {
    let name = if full {
        e.path.as_str()
    } else {
        e.path.rsplit('/').next().unwrap_or("")
    };
    let mut s = escape(name).into_owned();
    if let Some(f) = e.func {
        s.push_str(&format!(
            "  {} [{:04x}:{:04x}] class {:06x}",
            f.address.short(),
            f.ids.vendor,
            f.ids.device,
            f.ids.class
        ));
        if f.address.domain != 0 {
            s = s.replacen(&f.address.short(), &f.address.to_string(), 1);
        }
    }
    let b = binding(e);
    if !b.is_empty() {
        s.push_str("  ");
        s.push_str(&b);
    }
    s
}

/// The hierarchy: entries in device-tree order, each one's children, the
/// roots, and the functions without an illumos node.
struct Shape<'a> {
    entries: Vec<Entry<'a>>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    orphans: Vec<&'a Function>,
}

/// Builds the hierarchy of `host`.
fn shape(host: &Host) -> Shape<'_> {
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for n in &host.nexus {
        entries.push(Entry {
            node: Some(n),
            func: None,
            path: n.path.clone(),
        });
    }
    let mut orphans = Vec::new();
    for f in &host.functions {
        match &f.illumos {
            Some(n) if !n.path.is_empty() => entries.push(Entry {
                node: Some(n),
                func: Some(f),
                path: n.path.clone(),
            }),
            _ => orphans.push(f),
        }
    }
    // Device-tree order by unit address (pci-illumos owns the key).
    entries.sort_by_cached_key(|e| pci_illumos::libppt::address_key(&e.path));
    let index: BTreeMap<&str, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    // Parent = the longest proper prefix path that is itself an entry.
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    let mut roots = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let mut p = e.path.as_str();
        let mut parent = None;
        while let Some(head) = pci_illumos::devfs::parent_of(p) {
            if let Some(&j) = index.get(head) {
                parent = Some(j);
                break;
            }
            p = head;
        }
        match parent {
            Some(j) => children[j].push(i),
            None => roots.push(i),
        }
    }
    Shape {
        entries,
        children,
        roots,
        orphans,
    }
}

/// One node and its subtree as JSON.
fn node_json(shape: &Shape<'_>, i: usize) -> serde_json::Value {
    let e = &shape.entries[i];
    let f = e.func;
    let n = e.node;
    let b = binding(e);
    serde_json::json!({
        "path": e.path,
        "name": e.path.rsplit('/').next().unwrap_or(""),
        "address": f.map(|f| f.address.to_string()),
        "vendor": f.map(|f| format!("{:04x}", f.ids.vendor)),
        "device": f.map(|f| format!("{:04x}", f.ids.device)),
        "class": f.map(|f| format!("{:06x}", f.ids.class)),
        "binding": (!b.is_empty()).then_some(b),
        "driver": n.and_then(|n| n.driver.clone()),
        "instance": n.and_then(|n| n.instance),
        "children": shape.children[i].iter().map(|&c| node_json(shape, c)).collect::<Vec<_>>(),
    })
}

/// Whether any node's path was predicted rather than read from devinfo.
fn any_predicted(entries: &[Entry<'_>]) -> bool {
    entries
        .iter()
        .any(|e| e.node.is_some_and(IllumosNode::is_predicted))
}

/// The tree of `host` as one JSON document (docs/json.md).
fn render_json(host: &Host) -> String {
    let shape = shape(host);
    let predicted = any_predicted(&shape.entries);
    let orphans: Vec<serde_json::Value> = shape
        .orphans
        .iter()
        .map(|f| {
            serde_json::json!({
                "address": f.address.to_string(),
                "vendor": format!("{:04x}", f.ids.vendor),
                "device": format!("{:04x}", f.ids.device),
                "class": format!("{:06x}", f.ids.class),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "format": "pptctl-tree/1",
        "predicted_paths": predicted,
        "roots": shape.roots.iter().map(|&r| node_json(&shape, r)).collect::<Vec<_>>(),
        "no_illumos_node": orphans,
    });
    format!("{doc:#}\n")
}

/// Renders the tree of `host`.
fn render(host: &Host, full: bool) -> String {
    let Shape {
        entries,
        children,
        roots,
        orphans,
    } = shape(host);
    let mut out = String::new();
    if any_predicted(&entries) {
        out.push_str(
            "# paths predicted from the PCI topology (no devinfo tree); root complexes other than /pci@0,0 are a best guess\n",
        );
    }
    fn walk(
        out: &mut String,
        entries: &[Entry<'_>],
        children: &[Vec<usize>],
        i: usize,
        prefix: &str,
        full: bool,
    ) {
        let kids = &children[i];
        for (k, &c) in kids.iter().enumerate() {
            let last = k + 1 == kids.len();
            out.push_str(prefix);
            out.push_str(if last { "`-- " } else { "|-- " });
            out.push_str(&describe(&entries[c], full));
            out.push('\n');
            let next = format!("{prefix}{}", if last { "    " } else { "|   " });
            walk(out, entries, children, c, &next, full);
        }
    }
    for &r in &roots {
        let e = &entries[r];
        // A root line always shows the full path.
        out.push_str(&describe(e, true));
        out.push('\n');
        walk(&mut out, &entries, &children, r, "", full);
    }
    if !orphans.is_empty() {
        out.push_str("(no illumos node)\n");
        for f in orphans {
            out.push_str(&format!(
                "    {} [{:04x}:{:04x}] class {:06x}\n",
                f.address, f.ids.vendor, f.ids.device, f.ids.class
            ));
        }
    }
    out
}

/// Runs the subcommand.
pub fn run(global: &Global, args: TreeArgs) -> Result<ExitCode, CliError> {
    let host = global.load_host()?;
    let text = if args.json {
        render_json(&host)
    } else {
        render(&host, args.paths)
    };
    crate::output::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
