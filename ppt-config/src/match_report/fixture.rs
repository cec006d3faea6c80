//! A small host for tests of match reports and of their renderers (the
//! `cli` crate's text): two NVIDIA functions of one device with devinfo
//! nodes, and the illumos files of a reservation written under a temporary
//! root. Built for this crate's tests and, with the `test-support`
//! feature, for other crates' tests; panics are those tests failing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::{Address, Function, Host, Identity, IllumosNode, PathSource};
use pci_illumos::binding::{predict, KernelFiles};
use pci_illumos::matches::PptMatches;
use pci_illumos::root::HostRoot;

use super::MatchReport;
use crate::session::SessionError;

/// The display function's devfs path.
pub const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
/// The audio function's devfs path.
pub const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

/// Analyses `host` with the files found under `root`.
pub fn build(host: Host, root: &HostRoot) -> Result<MatchReport, SessionError> {
    let matches = PptMatches::load(root)?;
    let files = KernelFiles::load(root)?;
    Ok(from_parts(host, matches, &files))
}

/// Analyses already-read inputs.
pub fn from_parts(host: Host, matches: PptMatches, files: &KernelFiles) -> MatchReport {
    let binding = predict(&host, files);
    MatchReport::new(host, matches, binding)
}

/// Function `f` of device 01:00 with a devinfo node at `path`.
pub fn func(f: u8, device: u16, class: u32, path: &str, driver: Option<&str>) -> Function {
    let ids = Identity {
        vendor: 0x10de,
        device,
        subsystem_vendor: Some(0x1462),
        subsystem: Some(0x2291),
        class,
        revision: 0xa1,
        header_type: Some(0x80),
    };
    let mut func = Function::new(Address::new(0, 1, 0, f).unwrap(), ids, Vec::new());
    let cc = format!("{:06x}", class);
    func.illumos = Some(IllumosNode {
        path: path.to_string(),
        path_source: Some(PathSource::Devinfo),
        node_name: path
            .rsplit('/')
            .next()
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_string(),
        driver: driver.map(str::to_string),
        compatible: vec![
            format!("pciex10de,{device:x}.1462.2291.a1"),
            format!("pciex10de,{device:x}"),
            format!("pciexclass,{cc}"),
            format!("pciexclass,{}", &cc[..4]),
            format!("pci10de,{device:x}"),
            format!("pciclass,{cc}"),
            format!("pciclass,{}", &cc[..4]),
        ],
        parent_device_type: Some("pciex".to_string()),
        ..IllumosNode::default()
    });
    func
}

/// The display ([`GPU`], vgatext) and audio ([`AUDIO`], audiohd) functions.
pub fn host() -> Host {
    Host {
        functions: vec![
            func(0, 0xa65, 0x030000, GPU, Some("vgatext")),
            func(1, 0xbe3, 0x040300, AUDIO, Some("audiohd")),
        ],
        ..Host::default()
    }
}

/// A temporary root holding `files` (path under the root, text).
pub fn root(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = d.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

/// A reservation of both functions with an upper-case ID and a comment.
pub const FILES: &[(&str, &str)] = &[
    (
        "etc/ppt_matches",
        "pciex10de,a65\npci10DE,be3\n# comment\n/pci@0,0/pci8086,151@1/pci1462,2291\n",
    ),
    (
        "etc/ppt_aliases",
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt \"/pci@0,0/pci8086,151@1/pci1462,2291\"\n",
    ),
    (
        "etc/driver_aliases",
        "audiohd \"pciclass,0403\"\nvgatext \"pciclass,0300\"\n",
    ),
    ("etc/name_to_major", "ppt 1\naudiohd 2\nvgatext 3\n"),
    (
        "etc/path_to_inst",
        "\"/pci@0,0/pci8086,151@1/display@0\" 0 \"ppt\"\n",
    ),
];

/// A root whose files have no problem (the boot archive's copies win over
/// /etc's) and whose next ppt instance is not recorded, so it is guessed.
pub fn clean_root() -> tempfile::TempDir {
    root(&[
        ("system/boot/etc/ppt_matches", "pci10de\n"),
        ("etc/ppt_matches", "pci10DE\n"),
        ("system/boot/etc/ppt_aliases", &format!("ppt \"{AUDIO}\"\n")),
        ("etc/ppt_aliases", "garbage\n"),
        (
            "etc/driver_aliases",
            "audiohd \"pciclass,0403\"\nvgatext \"pciclass,0300\"\n",
        ),
    ])
}
