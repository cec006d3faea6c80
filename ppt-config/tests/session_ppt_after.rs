//! `Session::ppt_after`, the one answer to "on ppt after the next boot",
//! on the 2018 how-to's host: answered with the line that decides it, "no"
//! for a line the kernel misreads, and unknown (with why) on a SmartOS
//! root whose boot media is not given.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ppt_config::session::{Session, SessionOptions};

const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";

fn example() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018"
    ))
}

/// A session on the example host with `etc/` files under a fresh root.
fn session(root: &Path, files: &[(&str, &str)]) -> Session {
    for (p, text) in files {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let from = format!("snapshot:{}", example().join("host.json").display());
    Session::open(&SessionOptions::new(&from, root).unwrap()).unwrap()
}

fn gpu(s: &Session) -> &pci_core::Function {
    s.host()
        .functions
        .iter()
        .find(|f| f.devfs_path() == Some(GPU))
        .unwrap()
}

#[test]
fn answered_with_the_line_that_decides() {
    let d = tempfile::tempdir().unwrap();
    let s = session(
        d.path(),
        &[("etc/ppt_aliases", &format!("# gpu\nppt \"{GPU}\"\n"))],
    );
    assert_eq!(s.ppt_after(gpu(&s)), Some(true));
    let why = s.next_ppt().why(gpu(&s));
    assert_eq!(why.by.as_deref(), Some("/etc/ppt_aliases:2"));
    assert!(why.reason.contains("path alias"), "{why:?}");
}

#[test]
fn a_misread_line_reserves_nothing() {
    let d = tempfile::tempdir().unwrap();
    // the missing closing quote: the kernel binds "\n", not the path
    let s = session(d.path(), &[("etc/ppt_aliases", &format!("ppt \"{GPU}\n"))]);
    assert_eq!(s.ppt_after(gpu(&s)), Some(false));
}

#[test]
fn unknown_on_smartos_without_its_boot_media() {
    let d = tempfile::tempdir().unwrap();
    let s = session(
        d.path(),
        &[
            ("etc/ppt_aliases", &format!("ppt \"{GPU}\"\n")),
            ("etc/release", "SmartOS 20181011T004530Z x86_64\n"),
        ],
    );
    assert_eq!(s.ppt_after(gpu(&s)), None);
    let why = s.next_ppt().why(gpu(&s));
    assert!(
        why.reason.starts_with("the next boot is not known"),
        "{why:?}"
    );
    assert!(s.next_ppt().read_from().contains("--boot-media"));
}
