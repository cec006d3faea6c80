//! What the session captures for the binding rules beyond the alias files:
//! the boot options that disable drivers are recorded in a version 2
//! snapshot and replayed from it, never read from the machine
//! replaying it; libppt's node fields survive the snapshot; and node names
//! predicted for functions no device tree describes follow the alias files
//! (an IDE controller is `pci-ide` only when nothing binds it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use pci_core::sources::snapshot::Snapshot;
use pci_core::{Address, Function, Host, IllumosNode, PathSource};
use ppt_config::session::{Session, SessionOptions};
use ppt_config::snapshot::SnapshotV2;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A GPU no driver claims now (DS_LINKED, libppt sees no unit address).
fn gpu() -> Function {
    let ids = pci_core::Identity {
        vendor: 0x10de,
        device: 0x0a65,
        subsystem_vendor: None,
        subsystem: None,
        class: 0x030000,
        revision: 0xa2,
        header_type: Some(0),
    };
    let mut f = Function::new("0000:01:00.0".parse::<Address>().unwrap(), ids, Vec::new());
    f.illumos = Some(IllumosNode {
        path: "/pci@0,0/pci8086,151@1/display@0".into(),
        devfs_path: Some("/pci@0,0/pci8086,151@1/display".into()),
        walk_index: Some(7),
        node_state: Some(1),
        path_source: Some(PathSource::Devinfo),
        node_name: "display".into(),
        compatible: vec!["pciex10de,a65".into(), "pciclass,030000".into()],
        ..IllumosNode::default()
    });
    f
}

/// An IDE controller no device tree describes (its node is predicted).
fn ide() -> Function {
    let ids = pci_core::Identity {
        vendor: 0x8086,
        device: 0x1e00,
        subsystem_vendor: Some(0x1028),
        subsystem: Some(0x0577),
        class: 0x01018f,
        revision: 4,
        header_type: Some(0x80),
    };
    Function::new("0000:00:1f.2".parse::<Address>().unwrap(), ids, Vec::new())
}

fn snapshot_v1(dir: &Path, functions: Vec<Function>) -> String {
    let host = Host {
        functions,
        ..Host::default()
    };
    let file = dir.join("host.json");
    std::fs::write(&file, Snapshot::new(host, None).to_json().unwrap()).unwrap();
    format!("snapshot:{}", file.display())
}

fn driver_after(s: &Session, path: &str) -> Option<String> {
    let report = s.binding().unwrap();
    let p = report.predictions.iter().find(|p| p.path == path).unwrap();
    p.driver_after().map(str::to_string)
}

#[test]
fn boot_option_disable_is_captured_and_replayed() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    write(&root, "etc/name_to_major", "vgatext 1\nppt 2\n");
    write(&root, "etc/driver_aliases", "vgatext \"pciclass,030000\"\n");
    // Module files do not decide activity: only ppt has one, and vgatext
    // still binds unless a boot option disables it.
    write(&root, "kernel/drv/amd64/ppt", "");
    write(
        &root,
        "boot/solaris/bootenv.rc",
        "setprop console 'text'\nsetprop disable-vgatext 'true'\n",
    );
    let from = snapshot_v1(t.path(), vec![gpu()]);
    let s = Session::open(&SessionOptions::new(&from, &root).unwrap()).unwrap();
    let path = "/pci@0,0/pci8086,151@1/display@0";
    assert_eq!(driver_after(&s, path), None);

    let snap = s.snapshot();
    let text = snap.to_json().unwrap();
    // The root is gone: the replay can only use what the snapshot holds.
    std::fs::remove_dir_all(&root).unwrap();
    let replay_opts = SessionOptions::new("snapshot:s.json", &root).unwrap();
    let back = SnapshotV2::parse(text.as_bytes(), "s.json").unwrap();
    let r = ppt_config::session::Session::replay(&replay_opts, back, "s.json").unwrap();
    assert_eq!(r.captured(), s.captured());
    assert_eq!(driver_after(&r, path), None);
    // libppt's path, walk position and node state come back.
    assert_eq!(r.host(), s.host());
    let n = r.host().functions[0].illumos.as_ref().unwrap();
    assert_eq!(n.current_path(), "/pci@0,0/pci8086,151@1/display");
    assert_eq!((n.walk_index, n.node_state), (Some(7), Some(1)));

    // Without bootenv.rc vgatext binds: the recorded option decided above.
    let mut without = SnapshotV2::parse(text.as_bytes(), "s.json").unwrap();
    without
        .config_files
        .retain(|f| !f.path.ends_with("bootenv.rc"));
    let w = ppt_config::session::Session::replay(&replay_opts, without, "s.json").unwrap();
    assert_eq!(driver_after(&w, path).as_deref(), Some("vgatext"));
}

#[test]
fn predicted_ide_names_follow_the_roots_alias_files() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    write(&root, "etc/name_to_major", "ahci 100\nata 101\n");
    write(&root, "etc/driver_aliases", "ata \"pci-ide\"\n");
    let from = snapshot_v1(t.path(), vec![ide()]);
    let name = |root: &Path| {
        let s = Session::open(&SessionOptions::new(&from, root).unwrap()).unwrap();
        s.host().functions[0].illumos.clone().unwrap().node_name
    };
    // Nothing claims the controller by its compatible list: pci-ide.
    assert_eq!(name(&root), "pci-ide");
    // A compatible alias to an active driver claims it first.
    write(
        &root,
        "etc/driver_aliases",
        "ata \"pci-ide\"\nahci \"pciclass,0101\"\n",
    );
    assert_eq!(name(&root), "pci1028,577");
}
