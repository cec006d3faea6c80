//! Binding prediction on the real OmniOS machine: its devinfo snapshot
//! cache, its real `driver_aliases` and `path_to_inst`, and hand-written
//! `ppt_aliases` that exercise each rule of docs/illumos.md.
//! Skips when the shared real data is absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use pci_core::Host;
use pci_illumos::binding::{predict, BindingReport, KernelFiles};
use pci_illumos::devinfo::{to_host, Snapshot};
use pci_illumos::matches::LintCode;
use pci_illumos::root::HostRoot;

fn dir() -> Option<PathBuf> {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk"
    ));
    if d.join("devices/snapshot_cache").is_file() && d.join("driver_aliases").is_file() {
        Some(d)
    } else {
        eprintln!("skipping: {} is absent", d.display());
        None
    }
}

const E1000G: &str = "/pci@0,0/pci1028,52c@19";
const RGE0: &str = "/pci@0,0/pci8086,151@1/pci7470,3468@0";
const RGE1: &str = "/pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0";
const VGA: &str = "/pci@0,0/display@2";

fn host(d: &Path) -> Host {
    let bytes = std::fs::read(d.join("devices/snapshot_cache")).unwrap();
    to_host(
        &Snapshot::parse(&bytes).unwrap(),
        "/etc/devices/snapshot_cache",
    )
}

/// A root with the machine's real driver_aliases and path_to_inst, and
/// the given ppt_aliases.
fn run(d: &Path, ppt_aliases: &str) -> (Host, BindingReport) {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::copy(d.join("driver_aliases"), etc.join("driver_aliases")).unwrap();
    std::fs::copy(d.join("path_to_inst"), etc.join("path_to_inst")).unwrap();
    std::fs::write(etc.join("ppt_aliases"), ppt_aliases).unwrap();
    let files = KernelFiles::load(&HostRoot::new(root.path())).unwrap();
    let h = host(d);
    let r = predict(&h, &files);
    (h, r)
}

fn after<'a>(r: &'a BindingReport, path: &str) -> (Option<&'a str>, Option<&'a str>, String) {
    let p = r.predictions.iter().find(|p| p.path == path).unwrap();
    let by = p
        .after
        .as_ref()
        .map(|d| format!("{}:{}", d.binding.file, d.binding.line))
        .unwrap_or_default();
    (p.driver_now.as_deref(), p.driver_after(), by)
}

fn codes(r: &BindingReport, line: usize) -> Vec<LintCode> {
    r.ppt_aliases
        .iter()
        .filter(|a| a.line == line)
        .flat_map(|a| a.lints.iter().map(|l| l.code))
        .collect()
}

#[test]
fn nothing_changes_without_ppt_aliases() {
    let Some(d) = dir() else { return };
    let (_, r) = run(&d, "# empty\n");
    // the real driver_aliases reproduces every binding the snapshot shows
    let changed: Vec<(String, Option<String>, Option<String>)> = r
        .predictions
        .iter()
        .filter(|p| p.changes())
        .map(|p| {
            (
                p.path.clone(),
                p.driver_now.clone(),
                p.driver_after().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(changed, vec![], "unexpected changes");
    assert_eq!(
        after(&r, E1000G),
        (
            Some("e1000g"),
            Some("e1000g"),
            "/etc/driver_aliases:366".to_string()
        )
    );
}

#[test]
fn id_alias_steals_from_e1000g() {
    let Some(d) = dir() else { return };
    let (_, r) = run(&d, "ppt \"pci8086,1502\"\n");
    assert_eq!(
        after(&r, E1000G),
        (
            Some("e1000g"),
            Some("ppt"),
            "/etc/ppt_aliases:1".to_string()
        )
    );
    let a = &r.ppt_aliases[0];
    assert_eq!(a.alias, "pci8086,1502");
    assert_eq!(a.kind, "compatible");
    assert_eq!(a.matches, [E1000G]);
    assert_eq!(codes(&r, 1), [LintCode::StealsDevice]);
    assert!(a.lints[0].message.contains("from e1000g"), "{:?}", a.lints);
    // no ppt instance recorded for it: a guess after the highest recorded (none)
    let p = r.predictions.iter().find(|p| p.path == E1000G).unwrap();
    let dev = p.dev.as_ref().unwrap();
    assert_eq!(dev.dev, "/dev/ppt0");
    assert!(!dev.certain);
    // only that node changes
    assert_eq!(r.predictions.iter().filter(|p| p.changes()).count(), 1);
}

#[test]
fn id_alias_takes_both_functions_with_that_id() {
    let Some(d) = dir() else { return };
    let (_, r) = run(&d, "ppt \"pciex10ec,8168\"\n");
    assert_eq!(after(&r, RGE0).1, Some("ppt"));
    assert_eq!(after(&r, RGE1).1, Some("ppt"));
    let a = &r.ppt_aliases[0];
    let mut m = a.matches.clone();
    m.sort();
    assert_eq!(m, [RGE0, RGE1]);
    let c = codes(&r, 1);
    assert!(c.contains(&LintCode::BindsSeveral), "{c:?}");
    assert_eq!(
        c.iter().filter(|c| **c == LintCode::StealsDevice).count(),
        2
    );
    let devs: Vec<String> = r
        .predictions
        .iter()
        .filter_map(|p| p.dev.as_ref().map(|d| d.dev.clone()))
        .collect();
    assert_eq!(devs, ["/dev/ppt0", "/dev/ppt1"]);
}

#[test]
fn path_alias_takes_one_function() {
    let Some(d) = dir() else { return };
    let (_, r) = run(&d, &format!("ppt \"{RGE1}\"\n"));
    assert_eq!(after(&r, RGE1).1, Some("ppt"));
    assert_eq!(after(&r, RGE0).1, Some("rge"));
    let a = &r.ppt_aliases[0];
    assert_eq!(a.kind, "path");
    assert_eq!(a.matches, [RGE1]);
    assert_eq!(codes(&r, 1), []);
    assert_eq!(r.predictions.iter().filter(|p| p.changes()).count(), 1);
}

#[test]
fn path_alias_without_unit_address_binds_nothing() {
    let Some(d) = dir() else { return };
    let (_, r) = run(
        &d,
        "ppt \"/pci@0,0/pci8086,1e18@1c,4/pci7470,3468\"\nppt \"/pci@0,0/display@2\"\n",
    );
    assert_eq!(after(&r, RGE1).1, Some("rge"));
    let a = &r.ppt_aliases[0];
    assert!(a.matches.is_empty());
    assert_eq!(codes(&r, 1), [LintCode::MissingUnitAddress]);
    assert!(a.lints[0].message.contains(RGE1), "{:?}", a.lints);
    // the second line is a correct path alias for the Intel display
    assert_eq!(
        after(&r, VGA),
        (Some("vgatext"), Some("ppt"), "/etc/ppt_aliases:2".into())
    );
}

#[test]
fn kernel_lexer_traps() {
    let Some(d) = dir() else { return };
    let text = "ppt /pci@0,0/display@2\nppt pci8086,1502\nppt pci10ec,8168 # 8168 is a number too\nppt \"pciex10ec,8168\n";
    let (_, r) = run(&d, text);
    // unquoted path: a junk alias is bound, the path is not
    assert_eq!(after(&r, VGA).1, Some("vgatext"));
    assert!(codes(&r, 1).contains(&LintCode::UnquotedPath));
    // unquoted ID with a digit after the comma: "Missing alias", nothing bound
    assert_eq!(after(&r, E1000G).1, Some("e1000g"));
    assert!(codes(&r, 2).contains(&LintCode::AliasSyntax));
    assert_eq!(after(&r, RGE0).1, Some("rge"));
    assert_eq!(after(&r, RGE1).1, Some("rge"));
    assert!(codes(&r, 3).contains(&LintCode::AliasSyntax));
    // missing closing quote: warned, binds "\n" only
    assert!(codes(&r, 4).contains(&LintCode::AliasSyntax));
}

#[test]
fn shadowed_and_nothing() {
    let Some(d) = dir() else { return };
    // pciclass,0200 comes after pci8086,1502 in e1000g's compatible list, so
    // driver_aliases binds it first; pci10de,1 is on no function.
    let (_, r) = run(&d, "ppt \"pciclass,0200\" \"pci10de,1\"\n");
    assert_eq!(after(&r, E1000G).1, Some("e1000g"));
    let c = codes(&r, 1);
    assert!(c.contains(&LintCode::Shadowed), "{c:?}");
    assert!(c.contains(&LintCode::MatchesNothing), "{c:?}");
}

/// The MEI function 8086:1e3a, which no driver claims (state linked).
const MEI: &str = "/pci@0,0/pci1028,577@16";

#[test]
fn path_alias_to_an_unclaimed_node_binds_nothing() {
    let Some(d) = dir() else { return };
    let (h, r) = run(&d, &format!("ppt \"{MEI}\"\n"));
    // no driver binds it by compatible or node name, so the kernel never
    // names it and never looks the path up
    assert_eq!(after(&r, MEI), (None, None, String::new()));
    let p = r.predictions.iter().find(|p| p.path == MEI).unwrap();
    assert_eq!(
        p.blocked_path_alias.as_ref().map(|b| b.line),
        Some(1),
        "{p:?}"
    );
    assert!(p.dev.is_none());
    let a = &r.ppt_aliases[0];
    assert!(a.matches.is_empty());
    assert_eq!(codes(&r, 1), [LintCode::PathAliasUnclaimed]);
    // the fix names the compatible alias and what else it takes
    assert!(
        a.lints[0].message.contains("ppt \"pci8086,1e3a\""),
        "{:?}",
        a.lints
    );
    // the node is the uninitialised one
    let n = h
        .functions
        .iter()
        .find_map(|f| f.illumos.as_ref().filter(|n| n.path == MEI))
        .unwrap();
    assert!(n.uninitialized());
    assert_eq!(n.current_path(), "/pci@0,0/pci1028,577");
}

#[test]
fn path_alias_to_a_node_bound_by_compatible_rebinds() {
    let Some(d) = dir() else { return };
    let (_, r) = run(&d, &format!("ppt \"{E1000G}\"\n"));
    assert_eq!(
        after(&r, E1000G),
        (
            Some("e1000g"),
            Some("ppt"),
            "/etc/ppt_aliases:1".to_string()
        )
    );
    let p = r.predictions.iter().find(|p| p.path == E1000G).unwrap();
    assert!(p.blocked_path_alias.is_none());
    assert_eq!(codes(&r, 1), []);
}

#[test]
fn compatible_alias_binds_the_unclaimed_node() {
    let Some(d) = dir() else { return };
    let (_, r) = run(&d, "ppt \"pci8086,1e3a\"\n");
    assert_eq!(
        after(&r, MEI),
        (None, Some("ppt"), "/etc/ppt_aliases:1".to_string())
    );
    assert_eq!(r.ppt_aliases[0].matches, [MEI]);
}

#[test]
fn uninstalled_driver_binds_nothing() {
    let Some(d) = dir() else { return };
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::copy(d.join("driver_aliases"), etc.join("driver_aliases")).unwrap();
    std::fs::write(etc.join("ppt_aliases"), format!("ppt \"{E1000G}\"\n")).unwrap();
    // name_to_major names e1000g but not ppt (never added, or rem_drv):
    // the kernel binds nothing to ppt (devcfg.c ddi_compatible_driver_major).
    std::fs::write(etc.join("name_to_major"), "e1000g 73\npcieb 197\n").unwrap();
    let files = KernelFiles::load(&HostRoot::new(root.path())).unwrap();
    assert!(files.driver_active("e1000g"));
    assert!(!files.driver_active("ppt"));
    let r = predict(&host(&d), &files);
    assert_eq!(after(&r, E1000G).1, Some("e1000g"));
    // the alias file's own lint says the driver is unknown
    assert_eq!(codes(&r, 1), [LintCode::UnknownDriver]);
    // rge is not installed either: its functions stay unbound
    assert_eq!(after(&r, RGE0).1, None);
}

#[test]
fn disabled_driver_binds_nothing() {
    let Some(d) = dir() else { return };
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::copy(d.join("driver_aliases"), etc.join("driver_aliases")).unwrap();
    std::fs::write(etc.join("ppt_aliases"), format!("ppt \"{E1000G}\"\n")).unwrap();
    // no module directory at all: module files do not decide activity
    let mut files = KernelFiles::load(&HostRoot::new(root.path())).unwrap();
    assert!(files.driver_active("ppt"), "installed, not disabled");
    let r = predict(&host(&d), &files);
    assert_eq!(after(&r, E1000G).1, Some("ppt"));
    files
        .disabled
        .insert("ppt".into(), "/boot/grub/menu.lst:7".into());
    let r = predict(&host(&d), &files);
    assert_eq!(after(&r, E1000G).1, Some("e1000g"));
    let m = &r.ppt_aliases[0].lints[0].message;
    assert!(
        m.contains("disable-ppt=true (/boot/grub/menu.lst:7)"),
        "{m}"
    );
}
