//! Predicted illumos names for every real `lspci` dump in the shared
//! data: every function that answers gets a unique path, functions behind
//! a bridge sit under that bridge's path, and names follow the x86 rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pci_core::sources::{DumpSource, Source};
use pci_core::PathSource;
use pci_illumos::naming::predict;

fn dumps(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() && !p.ends_with("_generated_lspci-3.9.0") {
            dumps(&p, out);
        } else if p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("lspci"))
        {
            out.push(p);
        }
    }
}

#[test]
fn every_real_dump_gets_consistent_paths() {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ));
    if !root.is_dir() {
        eprintln!("skipping: {} is absent", root.display());
        return;
    }
    let mut files = Vec::new();
    dumps(&root, &mut files);
    let mut hosts = 0;
    let mut named = 0;
    for file in files {
        let Ok(mut host) = DumpSource::file(&file).load() else {
            continue;
        };
        if host.functions.is_empty() {
            continue;
        }
        hosts += 1;
        predict(&mut host);
        let mut seen = HashSet::new();
        let paths: HashSet<String> = host
            .functions
            .iter()
            .filter_map(|f| f.illumos.as_ref().map(|n| n.path.clone()))
            .collect();
        for f in &host.functions {
            let real = f.address.domain == 0 && f.ids.vendor != 0xffff && f.ids.vendor != 0;
            let Some(n) = &f.illumos else {
                assert!(
                    !real || !host.warnings.is_empty(),
                    "{}: {} has no node",
                    file.display(),
                    f.address
                );
                continue;
            };
            named += 1;
            assert_eq!(n.path_source, Some(PathSource::Predicted));
            assert!(
                seen.insert(n.path.clone()),
                "{}: duplicate {}",
                file.display(),
                n.path
            );
            assert!(n.path.starts_with("/pci@"), "{}", n.path);
            let (parent, last) = n.path.rsplit_once('/').unwrap();
            assert_eq!(
                last,
                format!("{}@{}", n.node_name, n.unit_address.as_deref().unwrap())
            );
            // Below a root complex, the parent is a bridge of this host.
            if parent.matches('/').count() > 1 {
                assert!(
                    paths.contains(parent),
                    "{}: parent of {} missing",
                    file.display(),
                    n.path
                );
            }
            if f.ids.vendor == 0x10de && f.ids.class >> 8 == 0x0300 {
                assert_eq!(n.node_name, "display");
                assert!(!n.compatible.iter().any(|c| c.ends_with(",s")));
            }
            assert_eq!(
                n.compatible.last().unwrap(),
                &format!("pciclass,{:04x}", f.ids.class >> 8)
            );
        }
    }
    assert!(hosts >= 10, "only {hosts} dumps loaded");
    assert!(named > 200, "only {named} functions named");
}
