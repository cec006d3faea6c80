//! The compiled `ppt_matches` matcher.
//!
//! libppt `match_ppt` walks the rule list for every node and compares
//! strings (illumos-gate libppt.c): O(rules) per node. A fleet-sized check
//! (100k functions × 10k rules) needs better, so the rules are compiled once
//! into three hash maps keyed by what a node can equal:
//!
//! * `(vendor, device)` integers for id rules,
//! * `vendor` integers for vendor-only rules,
//! * path bytes for path rules.
//!
//! An id or vendor token only ever equals `"%x"` of an integer when it is
//! spelled exactly that way (lower-case, unpadded); any other spelling
//! (`0a65`, `10DE`, `clas`) can never match and is left out. Each key keeps
//! the earliest line that has it, and the answer for a node is the smallest
//! of at most three candidate lines, which is exactly the first rule a
//! linear scan would have stopped at. The equivalence with
//! [`PptMatches::first_match`] (the string-comparing reference) is property
//! tested in `tests/matcher_equiv.rs`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use std::collections::HashSet;

use pci_core::{Function, Host};

use crate::matches::{add_suggestions, Lint, LintCode, NodeIds, PptMatches, Rule};

/// A small multiplicative hasher: keys are integers or short paths from
/// local files, so DoS-resistant SipHash buys nothing here.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The lines (1-based numbers, file order) that share one key.
#[derive(Debug, Clone, Default)]
struct Lines {
    first: usize,
    more: Vec<usize>,
}

impl Lines {
    fn add(slot: Option<&mut Lines>, line: usize) -> Option<Lines> {
        match slot {
            Some(l) => {
                l.more.push(line);
                None
            }
            None => Some(Lines {
                first: line,
                more: Vec::new(),
            }),
        }
    }

    fn all(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// `ppt_matches` compiled for O(1) lookups per node.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    ids: Map<u64, Lines>,
    vendors: Map<u32, Lines>,
    paths: Map<Box<[u8]>, Lines>,
}

fn id_key(vendor: u32, device: u32) -> u64 {
    (u64::from(vendor) << 32) | u64::from(device)
}

impl Matcher {
    /// Compiles the rules of `matches`.
    pub fn compile(matches: &PptMatches) -> Matcher {
        let mut m = Matcher::default();
        for line in matches.rules() {
            let n = line.number;
            match &line.rule {
                Rule::Id { vendor, device } => {
                    if let (Some(v), Some(d)) = (vendor.canonical_value(), device.canonical_value())
                    {
                        let k = id_key(v, d);
                        if let Some(new) = Lines::add(m.ids.get_mut(&k), n) {
                            m.ids.insert(k, new);
                        }
                    }
                }
                Rule::Vendor { vendor } => {
                    if let Some(v) = vendor.canonical_value() {
                        if let Some(new) = Lines::add(m.vendors.get_mut(&v), n) {
                            m.vendors.insert(v, new);
                        }
                    }
                }
                Rule::Path(p) => {
                    if let Some(new) = Lines::add(m.paths.get_mut(p.as_slice()), n) {
                        m.paths.insert(p.clone().into_boxed_slice(), new);
                    }
                }
                Rule::Ignored => {}
            }
        }
        m
    }

    /// The line number of the rule libppt stops at for this node (the
    /// first in file order that matches), or `None`.
    pub fn first_match(&self, node: &NodeIds<'_>) -> Option<usize> {
        let by_path = self.paths.get(node.path.as_bytes()).map(|l| l.first);
        let by_id = self
            .ids
            .get(&id_key(node.vendor, node.device))
            .map(|l| l.first);
        let by_vendor = self.vendors.get(&node.vendor).map(|l| l.first);
        [by_path, by_id, by_vendor].into_iter().flatten().min()
    }

    /// Every line whose rule matches the node, in file order (the first is
    /// [`Matcher::first_match`]); used to say which functions each line
    /// selects.
    pub fn all_matches(&self, node: &NodeIds<'_>) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        if let Some(l) = self.paths.get(node.path.as_bytes()) {
            out.extend(l.all());
        }
        if let Some(l) = self.ids.get(&id_key(node.vendor, node.device)) {
            out.extend(l.all());
        }
        if let Some(l) = self.vendors.get(&node.vendor) {
            out.extend(l.all());
        }
        out.sort_unstable();
        out
    }

    /// Number of distinct keys (rules that can match something, after
    /// duplicates are merged).
    pub fn len(&self) -> usize {
        self.ids.len() + self.vendors.len() + self.paths.len()
    }

    /// Whether no rule can match anything.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The node libppt compares for a function, when libppt looks at it at
/// all: only children of a `pci`/`pciex` nexus (`is_pci` in illumos-gate
/// `usr/src/lib/libppt/common/libppt.c`) whose `vendor-id`, `device-id`
/// and `revision-id` properties exist (`dev_getinfo` fails otherwise and
/// the node is silently skipped). As in the 2024 libppt (42bca7a4),
/// missing subsystem ids do not matter (the 2018 version skipped such
/// nodes too). Predicted nodes (from a Linux
/// source) carry no parent facts or properties and are taken as PCI
/// children, which they are.
pub(crate) fn libppt_node(f: &Function) -> Option<NodeIds<'_>> {
    let n = f.illumos.as_ref()?;
    if n.is_from_devinfo() {
        if !crate::libppt::is_pci(n) {
            return None;
        }
        let has = |p: &str| n.props.contains_key(p);
        let ids_present = has("vendor-id") && has("device-id") && has("revision-id");
        if !n.props.is_empty() && !ids_present {
            return None;
        }
    }
    NodeIds::of(f)
}

/// What one `ppt_matches` line selects on a host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineSelection {
    /// Indexes into [`Host::functions`] of the functions the line matches
    /// (each line on its own; the candidate list `pptadm list -a` shows is
    /// the union over all lines plus the ppt-bound nodes).
    pub functions: Vec<usize>,
    /// Every lint of the line: the text lints of the line (path lints with
    /// "this host has ..." suggestions added) followed by those that depend
    /// on the host (`no-such-path`, `matches-nothing`).
    pub lints: Vec<Lint>,
}

/// Which functions each line of `matches` selects on `host`, indexed like
/// `matches.lines`, with the host-dependent lints: a line that can match
/// something in principle but matches nothing here is flagged.
pub fn select(matches: &PptMatches, host: &Host) -> Vec<LineSelection> {
    let compiled = Matcher::compile(matches);
    let mut out = vec![LineSelection::default(); matches.lines.len()];
    for (i, f) in host.functions.iter().enumerate() {
        let Some(node) = libppt_node(f) else { continue };
        for line in compiled.all_matches(&node) {
            if let Some(sel) = out.get_mut(line.wrapping_sub(1)) {
                sel.functions.push(i);
            }
        }
    }
    let paths = HostPaths::of(host);
    for (line, sel) in matches.lines.iter().zip(out.iter_mut()) {
        sel.lints = line.lints.clone();
        if let Rule::Path(p) = &line.rule {
            // "this host has ..." for paths that cannot match as written
            add_suggestions(
                &String::from_utf8_lossy(p),
                &paths.functions,
                &mut sel.lints,
            );
            let uninit: Vec<&str> = sel
                .functions
                .iter()
                .filter_map(|&i| host.functions.get(i)?.illumos.as_ref())
                .filter(|n| n.devfs_path.is_some() && n.current_path().as_bytes() == p.as_slice())
                .map(|n| n.path.as_str())
                .collect();
            if !uninit.is_empty() {
                sel.lints
                    .push(uninitialized_lint(&String::from_utf8_lossy(p), &uninit));
            }
        }
        if !sel.functions.is_empty() || line.never_matches() {
            continue;
        }
        if let Some(lint) = matches_nothing(&line.rule, host, &paths) {
            sel.lints.push(lint);
        }
    }
    out
}

/// The devfs paths of a host's nodes.
struct HostPaths<'a> {
    /// Both forms of each function's path: the one libppt compares now
    /// and the address-filled one.
    functions: HashSet<&'a str>,
    /// Those and the nexus nodes' paths.
    all: HashSet<&'a str>,
}

impl<'a> HostPaths<'a> {
    fn of(host: &'a Host) -> Self {
        let functions: HashSet<&str> = host
            .functions
            .iter()
            .filter_map(|f| f.illumos.as_ref())
            .flat_map(|n| [n.path.as_str(), n.current_path()])
            .collect();
        let all: HashSet<&str> = functions
            .iter()
            .copied()
            .chain(host.nexus.iter().map(|n| n.path.as_str()))
            .collect();
        HostPaths { functions, all }
    }
}

/// The lint of a rule that selects nothing on this host (and could),
/// saying why.
fn matches_nothing(rule: &Rule, host: &Host, paths: &HostPaths<'_>) -> Option<Lint> {
    match rule {
        Rule::Path(p) => Some(Lint::new(
            LintCode::NoSuchPath,
            no_such_path(&String::from_utf8_lossy(p), host, paths),
        )),
        Rule::Id { vendor, device } => Some(Lint::new(
            LintCode::MatchesNothing,
            format!("no function of this host has vendor {vendor} device {device}"),
        )),
        Rule::Vendor { vendor } => Some(Lint::new(
            LintCode::MatchesNothing,
            format!("no function of this host has vendor {vendor}"),
        )),
        Rule::Ignored => None,
    }
}

/// Why a path rule selects nothing: the node is not initialised yet, is
/// no PCI function, or does not exist (with the paths it may have meant).
fn no_such_path(p: &str, host: &Host, paths: &HostPaths<'_>) -> String {
    let uninit = host
        .functions
        .iter()
        .filter_map(|f| f.illumos.as_ref())
        .find(|n| n.devfs_path.is_some() && n.path == p);
    if let Some(n) = uninit {
        format!(
            "libppt sees this node as {} while no driver has initialised it, so {p} matches it only once one does (write {} to match it now)",
            n.current_path(),
            n.current_path()
        )
    } else if paths.all.contains(p) {
        format!("{p} is not a PCI function libppt lists (its parent is not a PCI bus)")
    } else {
        let near = crate::matches::suggest_paths(p, paths.functions.iter().copied());
        if near.is_empty() {
            format!("no node of this host has the path {p}")
        } else {
            format!(
                "no node of this host has the path {p}; a bare last component matches only a node no driver has initialised, and this host has \"{}\"",
                near.join("\", \"")
            )
        }
    }
}

/// The note for a path rule that matches uninitialised nodes by the path
/// `di_devfs_path` gives them now (no unit address on the last level).
fn uninitialized_lint(rule: &str, nodes: &[&str]) -> Lint {
    let one = if nodes.len() > 1 {
        format!(
            "; libppt keys its list by path, so `pptadm list -a` shows only the last of these {} functions",
            nodes.len()
        )
    } else {
        String::new()
    };
    Lint::new(
        LintCode::UninitializedPath,
        format!(
            "{rule} is the path libppt sees for {} while no driver has initialised it; once one does, the path gains its unit address and this rule stops matching{one}",
            nodes.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_of_three_kinds_wins() {
        let m = PptMatches::parse(
            b"pci8086,1502\n/pci@0,0/pci1028,52c@19\npci8086\npci8086,1502\n",
            "/etc/ppt_matches",
        );
        let c = Matcher::compile(&m);
        let e1000g = NodeIds {
            path: "/pci@0,0/pci1028,52c@19",
            vendor: 0x8086,
            device: 0x1502,
        };
        assert_eq!(c.first_match(&e1000g), Some(1));
        assert_eq!(c.all_matches(&e1000g), [1, 2, 3, 4]);
        let other = NodeIds {
            path: "/pci@0,0/pci8086,151@1",
            vendor: 0x8086,
            device: 0x151,
        };
        assert_eq!(c.first_match(&other), Some(3));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn non_canonical_tokens_never_compile() {
        let m = PptMatches::parse(b"pci10DE,a65\npci10de,0a65\npciclass,0300\n", "f");
        assert!(Matcher::compile(&m).is_empty());
    }
}
