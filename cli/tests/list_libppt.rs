//! `pptctl list -a` on the real OmniOS devinfo cache against libppt's
//! `ppt_list` written out again here, independently of pci-illumos:
//! the children-first walk over the tree, `di_devfs_path` (a node without
//! an address gets none), `is_pci`, `get_matches`' sscanf rules,
//! `match_ppt`, `dev_getinfo`'s required properties and the nvlist that
//! keeps one entry per path (a repeated path replaces the earlier entry
//! and moves to the end). illumos-gate `usr/src/lib/libppt/common/libppt.c`
//! and `usr/src/lib/libdevinfo/devinfo.c` (`di_walk_node`, `di_devfs_path`).
//! Skips when the shared real data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use pci_illumos::devinfo::{PropData, Snapshot};
use support::{omnios_cache, pptctl_at};

/// `%Ns` of sscanf: skips white space, then takes up to `n` non-space
/// bytes (at least one). Returns the token and the rest.
fn scan_s(s: &str, n: usize) -> Option<(String, &str)> {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let end = s
        .char_indices()
        .take(n)
        .take_while(|(_, c)| !c.is_ascii_whitespace())
        .map(|(i, c)| i + c.len_utf8())
        .last()?;
    Some((s[..end].to_string(), &s[end..]))
}

/// One sscanf of `PREFIX%4s,%4s` (`two`) or `PREFIX%4s`: the conversions.
fn scan(line: &str, prefix: &str, two: bool) -> (u8, String, String) {
    let Some(rest) = line.strip_prefix(prefix) else {
        return (0, String::new(), String::new());
    };
    let Some((v, rest)) = scan_s(rest, 4) else {
        return (0, String::new(), String::new());
    };
    if !two {
        return (1, v, String::new());
    }
    let Some(rest) = rest.strip_prefix(',') else {
        return (1, v, String::new());
    };
    match scan_s(rest, 4) {
        Some((d, _)) => (2, v, d),
        None => (1, v, String::new()),
    }
}

/// A `ppt_matches` entry: (path, vendor, device), empty when unset.
type Rule = (String, String, String);

/// `get_matches`: the four sscanf forms in libppt's order, else a path.
fn rules(text: &str) -> Vec<Rule> {
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let tries = [
            ("pciex", true, 2),
            ("pci", true, 2),
            ("pciex", false, 1),
            ("pci", false, 1),
        ];
        if let Some((_, v, d)) = tries
            .iter()
            .map(|(p, two, want)| (want, scan(line, p, *two)))
            .find(|(want, (n, _, _))| n == *want)
            .map(|(_, r)| r)
        {
            out.push((String::new(), v, d));
        } else if line.starts_with('/') {
            out.push((line.to_string(), String::new(), String::new()));
        }
    }
    out
}

/// `di_prop_lookup_ints` for the cases this cache has: the first int
/// property of that name.
fn int(s: &Snapshot, i: usize, name: &str) -> Option<i32> {
    s.nodes[i].props.iter().find_map(|p| match &p.value {
        PropData::Ints(v) if p.name == name => v.first().copied(),
        _ => None,
    })
}

/// `di_devfs_path`: `/name@addr` per level, `@addr` only when the node has
/// an address.
fn devfs_path(s: &Snapshot, mut i: usize) -> String {
    let mut parts = Vec::new();
    while let Some(p) = s.nodes[i].parent {
        let n = &s.nodes[i];
        match &n.address {
            Some(a) if !a.is_empty() => parts.push(format!("{}@{a}", n.name)),
            _ => parts.push(n.name.clone()),
        }
        i = p;
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

/// `ppt_list` as `-p -o path,vendor,device` lines.
fn libppt_list(s: &Snapshot, matches: &[Rule]) -> Vec<String> {
    // nvlist with NV_UNIQUE_NAME: (name, value) in insertion order.
    let mut nvl: Vec<(String, String)> = Vec::new();
    // di_walk_node, DI_WALK_CLDFIRST: pop the head, put its children in
    // front of the rest.
    let mut todo = vec![0usize];
    while !todo.is_empty() {
        let i = todo.remove(0);
        let kids = s.nodes[i].children.clone();
        for (k, c) in kids.into_iter().enumerate() {
            todo.insert(k, c);
        }
        let n = &s.nodes[i];
        let parent_type = n.parent.and_then(|p| {
            s.nodes[p].props.iter().find_map(|pr| match &pr.value {
                PropData::Strings(v) if pr.name == "device_type" => v.first().cloned(),
                _ => None,
            })
        });
        if !matches!(parent_type.as_deref(), Some("pci") | Some("pciex")) {
            continue;
        }
        let path = devfs_path(s, i);
        let (Some(v), Some(d), Some(_)) = (
            int(s, i, "vendor-id"),
            int(s, i, "device-id"),
            int(s, i, "revision-id"),
        ) else {
            continue;
        };
        let (v, d) = (format!("{:x}", v as u32), format!("{:x}", d as u32));
        let bound = n.driver.as_deref() == Some("ppt");
        let hit = matches.iter().any(|(p, mv, md)| {
            (!p.is_empty() && *p == path)
                || (!mv.is_empty() && *mv == v && (md.is_empty() || *md == d))
        });
        if !bound && !hit {
            continue;
        }
        nvl.retain(|(name, _)| *name != path);
        nvl.push((path.clone(), format!("{path}:{v}:{d}")));
    }
    nvl.into_iter().map(|(_, line)| line).collect()
}

fn pptctl_list(root: &Path, cache: &Path) -> Vec<String> {
    let out = pptctl_at(root, format!("devinfo:{}", cache.display()))
        .args(["list", "-a", "-p", "-o", "path,vendor,device"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn list_a_follows_libppt_on_the_omnios_cache() {
    let Some(cache) = omnios_cache() else { return };
    let snap = Snapshot::parse(&std::fs::read(&cache).unwrap()).unwrap();
    let cases = [
        // every Intel function: four uninitialised ones share one path
        "pci8086\n",
        // a path rule without the unit address: the form libppt sees for
        // the uninitialised functions
        "/pci@0,0/pci1028,577\n",
        // the same function with its address: libppt never sees it so
        "/pci@0,0/pci1028,577@16\n",
        "pciex10ec,8168\n/pci@0,0/pci8086,1e10\npci8086,1e3a\n/pci@0,0/display@2\n",
        "pci8086,1e3a\npci8086,1e20\npci8086,1e3a\n",
    ];
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    let mut sizes = Vec::new();
    for text in cases {
        std::fs::write(t.path().join("etc/ppt_matches"), text).unwrap();
        let want = libppt_list(&snap, &rules(text));
        assert_eq!(pptctl_list(t.path(), &cache), want, "ppt_matches: {text:?}");
        sizes.push(want.len());
    }
    // The cases are not vacuous: 14 Intel functions make 11 rows, the
    // bare path selects the shared entry, the addressed one nothing.
    assert_eq!(sizes, [11, 1, 0, 5, 1]);
}
