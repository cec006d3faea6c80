//! The report and its JSON over a two-function host with files written
//! here (the text rendering is tested in cli/src/cmd/matches.rs).

use pci_core::{Address, Function, Identity, IllumosNode, PathSource};
use pci_illumos::binding::{predict, KernelFiles};
use pci_illumos::root::HostRoot;

use super::*;
use crate::session::SessionError;

const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

/// Analyses `host` with the files found under `root`.
fn build(host: Host, root: &HostRoot) -> Result<MatchReport, SessionError> {
    let matches = PptMatches::load(root)?;
    let files = KernelFiles::load(root)?;
    Ok(from_parts(host, matches, &files))
}

/// Analyses already-read inputs.
fn from_parts(host: Host, matches: PptMatches, files: &KernelFiles) -> MatchReport {
    let binding = predict(&host, files);
    MatchReport::new(host, matches, binding)
}

fn func(f: u8, device: u16, class: u32, path: &str, driver: Option<&str>) -> Function {
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

fn host() -> Host {
    Host {
        functions: vec![
            func(0, 0xa65, 0x030000, GPU, Some("vgatext")),
            func(1, 0xbe3, 0x040300, AUDIO, Some("audiohd")),
        ],
        ..Host::default()
    }
}

fn root(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, text) in files {
        let p = d.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

const FILES: &[(&str, &str)] = &[
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

#[test]
fn json_report() {
    let r = root(FILES);
    let rep = build(host(), &HostRoot::new(r.path())).unwrap();
    let got = serde_json::to_string_pretty(&rep.to_json()).unwrap();
    let want = include_str!("../../tests/data/match-report.json");
    assert_eq!(got, want.trim_end());
    assert_eq!(rep.warning_count(), 3);
}

#[test]
fn clean_files_have_no_warnings_and_guessed_devs_are_null() {
    let r = root(&[
        ("system/boot/etc/ppt_matches", "pci10de\n"),
        ("etc/ppt_matches", "pci10DE\n"),
        ("system/boot/etc/ppt_aliases", &format!("ppt \"{AUDIO}\"\n")),
        ("etc/ppt_aliases", "garbage\n"),
        (
            "etc/driver_aliases",
            "audiohd \"pciclass,0403\"\nvgatext \"pciclass,0300\"\n",
        ),
    ]);
    let rep = build(host(), &HostRoot::new(r.path())).unwrap();
    assert_eq!(rep.warning_count(), 0, "{:?}", rep.to_json());
    let j = serde_json::to_value(rep.to_json()).unwrap();
    assert_eq!(j["ppt_matches"][0]["file"], "/system/boot/etc/ppt_matches");
    assert_eq!(j["ppt_matches"][0]["matches"].as_array().unwrap().len(), 2);
    assert_eq!(j["ppt_aliases"][0]["file"], "/system/boot/etc/ppt_aliases");
    // no path_to_inst: the number is a guess, so JSON gives null
    assert_eq!(j["after_reboot"][0]["path"], AUDIO);
    assert_eq!(j["after_reboot"][0]["dev"], serde_json::Value::Null);
}

#[test]
fn only_limits_the_changes_not_the_lines() {
    let r = root(FILES);
    let rep = build(host(), &HostRoot::new(r.path()))
        .unwrap()
        .with_only(Some(vec![AUDIO.to_string()]));
    assert_eq!(rep.changes().count(), 0);
    assert_eq!(rep.after_reboot().count(), 0);
    assert_eq!(rep.lines().count(), 4);
    assert_eq!(rep.to_json().ppt_aliases.len(), 2);
    let rep = rep.with_only(Some(vec![GPU.to_string()]));
    let paths: Vec<&str> = rep.changes().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, [GPU]);
}

#[test]
fn unreadable_input_is_an_error_naming_the_file() {
    let r = root(&[("etc/driver_aliases", "x \"y\"\n")]);
    std::fs::create_dir_all(r.path().join("system/boot/etc/ppt_matches")).unwrap();
    let e = build(host(), &HostRoot::new(r.path())).err().unwrap();
    assert!(matches!(e, SessionError::Matches(_)), "{e:?}");
    assert!(
        e.to_string().contains("/system/boot/etc/ppt_matches"),
        "{e}"
    );
}
