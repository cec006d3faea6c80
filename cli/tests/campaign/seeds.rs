//! The seed inputs of the fuzz campaign: the real samples in
//! `../shared/realdata` and the project's own, read once.

use std::path::PathBuf;

use pci_core::sources::dump::parse_dump_bytes;
use pci_core::sources::snapshot::Snapshot;

use super::{realdata, repo};

/// The seed inputs of every parser, read once.
pub struct Seeds {
    pub omnios: PathBuf,
    pub configs: Vec<Vec<u8>>,
    pub dumps: Vec<Vec<u8>>,
    pub small_dump_snapshot: Vec<Vec<u8>>,
    pub devinfo: Vec<Vec<u8>>,
    pub matches: Vec<Vec<u8>>,
    pub aliases: Vec<Vec<u8>>,
    pub menus: Vec<Vec<u8>>,
    pub loaders: Vec<Vec<u8>>,
    pub payloads: Vec<Vec<u8>>,
    pub words: Vec<Vec<u8>>,
    pub pciids: Vec<Vec<u8>>,
    pub levon: pci_core::Host,
}

pub fn seeds() -> Seeds {
    let omnios = realdata().join("BartVanLooveren+omniosEindwerk");
    let dumps = lspci_seeds();
    let configs: Vec<Vec<u8>> = dumps
        .iter()
        .filter_map(|d| parse_dump_bytes(d, "seed").ok())
        .flat_map(|h| h.functions.into_iter().map(|f| f.config))
        .filter(|c| !c.is_empty())
        .take(400)
        .collect();
    let snapshot_seed = std::fs::read(repo("examples/levon-2018/host.json")).unwrap();
    let small_dump_snapshot: Vec<Vec<u8>> = dumps
        .iter()
        .filter_map(|d| parse_dump_bytes(&d[..d.len().min(6000)], "s").ok())
        .take(3)
        .map(|h| Snapshot::new(h, None).to_json().unwrap().into_bytes())
        .chain([snapshot_seed])
        .collect();
    let aliases = {
        let mut v = read_all(&[
            omnios.join("driver_aliases"),
            repo("ppt-config/tests/data/driver_aliases"),
            repo("examples/levon-2018/root/etc/ppt_aliases"),
        ]);
        v.push(
            b"ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt pciex10de,a65\n\"ppt\" \"\\163\"\r\n"
                .to_vec(),
        );
        v
    };
    let matches = vec![
        std::fs::read(repo("examples/levon-2018/root/etc/ppt_matches")).unwrap(),
        b"# c\npciex10de,a65\npci8086\n/pci@0,0/pci8086,151@1/display@0\n pci10de,0A65 \r\n"
            .to_vec(),
    ];
    let menus = read_all(&[
        repo("ppt-config/tests/data/smartos-menu.lst"),
        repo("ppt-config/tests/data/seed-usbkey/boot/grub/menu.lst"),
        repo("ppt-config/tests/data/seed-usbkey-reserved/boot/grub/menu.lst"),
    ]);
    let loaders = vec![
        std::fs::read(repo("ppt-config/tests/data/loader.conf.local")).unwrap(),
        b"ppt_aliases_load=\"YES\"\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n".to_vec(),
    ];
    let payloads = vec![
        br#"{"brand": "bhyve", "pci_devices": [{"path": "/devices/pci@0,0/pci8086,151@1/display@0", "pci_slot": "0:8:0"}, {"path": "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1:ppt", "pci_slot": "0:8:1", "model": "passthru"}]}"#.to_vec(),
        br#"{"add_pci_devices": [{"path": "/devices/pci@0,0/x@1", "pci_slot": "255:31:7"}], "update_pci_devices": [{}], "remove_pci_devices": ["/devices/a"]}"#.to_vec(),
    ];
    let words = vec![
        b"0000:03:00.0\n03:00.0\n/devices/pci@0,0/pci8086,151@1/display@0:ppt\n/dev/ppt0\n10de:0a65\n0:8:1\n1af4::0200\n00-01-00.pci\n".to_vec(),
    ];
    let pciids: Vec<Vec<u8>> = pci_core::names::SYSTEM_PATHS
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .take(1)
        .collect();
    let devinfo = read_all(&[omnios.join("devices/snapshot_cache")]);
    let levon =
        pci_core::sources::snapshot::load_snapshot_file(&repo("examples/levon-2018/host.json"))
            .unwrap();

    Seeds {
        omnios,
        configs,
        dumps,
        small_dump_snapshot,
        devinfo,
        matches,
        aliases,
        menus,
        loaders,
        payloads,
        words,
        pciids,
        levon,
    }
}

fn lspci_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![realdata()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let n = p.to_string_lossy();
            if p.is_dir() && !n.contains("_generated_") {
                stack.push(p);
            } else if n.contains("lspci") || n.contains("pciutils+pciutils/tests") {
                out.extend(std::fs::read(&p).ok());
            }
        }
    }
    out
}

pub fn read_all(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}
