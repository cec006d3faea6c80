//! End-to-end reservation on the 2018 Levon how-to's boot media:
//! from a USB key with the how-to's menu.lst (one SmartOS entry, no overlay
//! files) and the how-to's host, reserving the NVIDIA card writes exactly the
//! how-to's overlay files — with the corrected `@0,1` path — and module lines;
//! doing it again changes nothing; unreserving restores the original bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use pci_core::{Address, Function, Host, Identity, IllumosNode, PathSource};
use ppt_config::boot_media::{BootStyle, Layout};
use ppt_config::reserve::{self, Action, Options, Plan, ReserveError};
use ppt_config::session::{Session, SessionOptions};
use ppt_config::vmadm;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/levon-2018");

/// Plans with the session's answer to "on ppt after the next boot?" for
/// `layout`: boot media with the how-to's root beside it, or a persistent
/// root on its own.
fn plan(
    host: &Host,
    selected: &[&Function],
    action: Action,
    opts: Options,
    layout: &Layout,
) -> Result<Plan, ReserveError> {
    let dir = layout.tree_root().to_path_buf();
    let mut o = SessionOptions::new(
        &format!("snapshot:{EXAMPLE}/host.json"),
        format!("{EXAMPLE}/root"),
    )
    .unwrap();
    if layout.style().is_some() {
        o.boot_media = Some(dir);
    } else {
        o.root = dir;
    }
    let session = Session::with_host(&o, host.clone()).unwrap();
    reserve::plan(host, session.next_ppt(), selected, action, opts, layout)
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn func(addr: &str, ids: (u16, u16), sub: Option<(u16, u16)>, class: u32, path: &str) -> Function {
    let a: Address = addr.parse().unwrap();
    let mut f = Function::new(
        a,
        Identity {
            vendor: ids.0,
            device: ids.1,
            subsystem_vendor: sub.map(|s| s.0),
            subsystem: sub.map(|s| s.1),
            class,
            revision: 0xa1,
            header_type: Some(if class >> 8 == 0x0604 { 0x01 } else { 0x80 }),
        },
        Vec::new(),
    );
    let (name, unit) = path.rsplit('/').next().unwrap().split_once('@').unwrap();
    // The drivers a SmartOS host binds them to now.
    let driver = match class >> 8 {
        0x0604 => "pcieb",
        0x0300 => "vgatext",
        _ => "audiohd",
    };
    f.illumos = Some(IllumosNode {
        path: path.into(),
        path_source: Some(PathSource::Devinfo),
        node_name: name.into(),
        unit_address: Some(unit.into()),
        driver: Some(driver.into()),
        compatible: vec![
            format!("pciex{:x},{:x}", ids.0, ids.1),
            format!("pciexclass,{class:06x}"),
            format!("pciexclass,{:04x}", class >> 8),
            format!("pci{:x},{:x}", ids.0, ids.1),
            format!("pciclass,{class:06x}"),
            format!("pciclass,{:04x}", class >> 8),
        ],
        parent_device_type: Some("pciex".into()),
        ..Default::default()
    });
    f
}

/// The how-to's host (Levon 2018): an NVIDIA GT 218-class card behind the
/// Intel root port 8086:0151 — VGA function 0 and HDMI audio function 1.
fn seed_host() -> Host {
    Host {
        functions: vec![
            func(
                "0000:00:01.0",
                (0x8086, 0x0151),
                None,
                0x060400,
                "/pci@0,0/pci8086,151@1",
            ),
            func(
                "0000:01:00.0",
                (0x10de, 0x0a65),
                None,
                0x030000,
                "/pci@0,0/pci8086,151@1/display@0",
            ),
            func(
                "0000:01:00.1",
                (0x10de, 0x0be3),
                Some((0x1462, 0x2291)),
                0x040300,
                "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
            ),
        ],
        ..Default::default()
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

#[test]
fn reserve_the_seed_card_on_the_seed_usb_key() {
    let host = seed_host();
    let key = tempfile::tempdir().unwrap();
    copy_tree(&data().join("seed-usbkey"), key.path());
    let layout = Layout::boot_media(key.path(), None).unwrap();
    assert_eq!(layout.style(), Some(BootStyle::Grub));
    let opts = Options {
        matches: true,
        ..Default::default()
    };
    let gpu: Vec<&Function> = vec![&host.functions[1]];

    let p = plan(&host, &gpu, Action::Reserve, opts, &layout).unwrap();
    assert_eq!(p.functions.len(), 2, "the audio function comes along");
    assert_eq!(
        p.functions[1].sibling_of,
        Some("0000:01:00.0".parse().unwrap())
    );
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("also reserving 0000:01:00.1")));
    let diff = p.diff();
    let k = key.path().display();
    assert!(
        diff.contains(&format!("+++ {k}/overlay/etc/ppt_aliases")),
        "{diff}"
    );
    assert!(
        diff.contains("+ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\""),
        "{diff}"
    );
    assert!(diff.contains("+    module /overlay/etc/ppt_matches type=file name=etc/ppt_matches"));
    // Planning wrote nothing.
    assert!(!key.path().join("overlay").exists());

    let done = p.apply().unwrap();
    assert_eq!(done.len(), 3);
    let want = data().join("seed-usbkey-reserved");
    for f in [
        "overlay/etc/ppt_aliases",
        "overlay/etc/ppt_matches",
        "boot/grub/menu.lst",
    ] {
        assert_eq!(read(&key.path().join(f)), read(&want.join(f)), "{f}");
    }

    // Again: nothing to do.
    let again = plan(&host, &gpu, Action::Reserve, opts, &layout).unwrap();
    assert!(again.is_noop(), "{}", again.diff());
    assert!(again.functions.iter().all(|f| f.already));

    // The pci_devices the next steps suggest: one guest device, fns 0 and 1.
    let funcs: Vec<&Function> = host.functions[1..].iter().collect();
    let devs = vmadm::pci_devices(&funcs, 0, None).unwrap();
    let json = serde_json::to_string_pretty(&devs).unwrap();
    let steps = again.next_steps(Some(&json)).join("\n");
    assert!(
        steps.contains("/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1"),
        "{steps}"
    );
    assert!(steps.contains("\"pci_slot\": \"0:8:1\""), "{steps}");

    // Unreserve restores the original bytes and removes the overlay files.
    let un = plan(&host, &gpu, Action::Unreserve, opts, &layout).unwrap();
    un.apply().unwrap();
    assert_eq!(
        read(&key.path().join("boot/grub/menu.lst")),
        read(&data().join("seed-usbkey/boot/grub/menu.lst"))
    );
    assert!(!key.path().join("overlay/etc/ppt_aliases").exists());
    assert!(!key.path().join("overlay/etc/ppt_matches").exists());
    // Backups of what was there, in the one backup directory; no lock
    // file stays on the media.
    assert_eq!(
        read(&key.path().join(".pptctl-backup/overlay/etc/ppt_aliases")),
        read(&want.join("overlay/etc/ppt_aliases"))
    );
    for dir in ["overlay/etc", "boot/grub"] {
        assert!(
            !key.path().join(dir).join(".pptctl.lock").exists(),
            "{dir}/.pptctl.lock left on the media"
        );
    }
}

#[test]
fn loader_media_and_persistent_root() {
    let host = seed_host();
    let gpu: Vec<&Function> = vec![&host.functions[1]];
    let opts = Options::default();

    let key = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(key.path().join("boot")).unwrap();
    std::fs::write(key.path().join("boot/loader.conf"), "# shipped\n").unwrap();
    let layout = Layout::boot_media(key.path(), None).unwrap();
    plan(&host, &gpu, Action::Reserve, opts, &layout)
        .unwrap()
        .apply()
        .unwrap();
    assert_eq!(
        read(&key.path().join("boot/loader.conf.local")).unwrap(),
        "ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n"
    );
    assert!(read(&key.path().join("boot/bootfs/etc/ppt_aliases")).is_some());
    assert!(!key.path().join("boot/bootfs/etc/ppt_matches").exists());
    plan(&host, &gpu, Action::Unreserve, opts, &layout)
        .unwrap()
        .apply()
        .unwrap();
    assert!(!key.path().join("boot/loader.conf.local").exists());
    assert!(!key.path().join("boot/bootfs/etc/ppt_aliases").exists());

    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let layout = Layout::persistent(root.path());
    let p = plan(
        &host,
        &gpu,
        Action::Reserve,
        Options {
            single_function: true,
            ..opts
        },
        &layout,
    )
    .unwrap();
    assert!(
        p.diff()
            .starts_with("--- /dev/null\n+++ /etc/ppt_aliases\n"),
        "{}",
        p.diff()
    );
    p.apply().unwrap();
    assert_eq!(
        read(&root.path().join("etc/ppt_aliases")).unwrap(),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n"
    );
    assert!(p
        .next_steps(None)
        .join("\n")
        .contains("bootadm update-archive"));
}

#[test]
fn refusals_and_by_id() {
    let mut host = seed_host();
    let root = tempfile::tempdir().unwrap();
    let layout = Layout::persistent(root.path());
    let bridge: Vec<&Function> = vec![&host.functions[0]];
    match plan(&host, &bridge, Action::Reserve, Options::default(), &layout) {
        Err(ReserveError::Refused(r)) => assert!(r[0].contains("is a PCI-to-PCI bridge"), "{r:?}"),
        other => panic!("{other:?}"),
    }
    let forced = Options {
        force: true,
        ..Default::default()
    };
    let p = plan(&host, &bridge, Action::Reserve, forced, &layout).unwrap();
    assert!(
        p.warnings[0].starts_with("--force: 0000:00:01.0 is a PCI-to-PCI bridge"),
        "{:?}",
        p.warnings
    );

    host.functions[1].boot_vga = Some(true);
    host.facts.boot_devices = vec!["/pci@0,0/pci8086,151@1/pci1462,2291@0,1/disk@0".into()];
    let gpu: Vec<&Function> = vec![&host.functions[1]];
    let Err(ReserveError::Refused(r)) =
        plan(&host, &gpu, Action::Reserve, Options::default(), &layout)
    else {
        panic!()
    };
    // The console VGA device is a caution (check warns console-vga), not
    // a refusal; the boot pool's controller is refused.
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].contains("boot pool"), "{r:?}");
    host.facts.boot_devices.clear();
    let p = plan(&host, &gpu, Action::Reserve, Options::default(), &layout).unwrap();
    assert!(
        p.warnings.iter().any(|w| w.contains("console VGA")),
        "{:?}",
        p.warnings
    );

    let host = seed_host();
    let gpu: Vec<&Function> = vec![&host.functions[1]];
    let by_id = Options {
        by_id: true,
        single_function: true,
        ..Default::default()
    };
    let p = plan(&host, &gpu, Action::Reserve, by_id, &layout).unwrap();
    assert!(p
        .warnings
        .iter()
        .any(|w| w.contains("binds EVERY device with id 10de:0a65")));
    assert!(p.diff().contains("+ppt \"pciex10de,a65\""), "{}", p.diff());

    p.apply().unwrap();
    // Unreserving by path leaves the id alias, and says so.
    let un = plan(
        &host,
        &gpu,
        Action::Unreserve,
        Options {
            single_function: true,
            ..Default::default()
        },
        &layout,
    )
    .unwrap();
    assert!(un.is_noop());
    assert!(
        un.warnings.iter().any(|w| w
            .contains("stays bound to ppt by the id alias \"pciex10de,a65\" (/etc/ppt_aliases:1)")),
        "{:?}",
        un.warnings
    );
    let un = plan(&host, &gpu, Action::Unreserve, by_id, &layout).unwrap();
    un.apply().unwrap();
    assert!(!root.path().join("etc/ppt_aliases").exists());
}

/// On the real OmniOS machine the MEI function 8086:1e3a is in state
/// linked (no driver claims it): a path alias would never take it, so
/// `reserve` writes the compatible alias and says why.
#[test]
fn unclaimed_function_gets_a_compatible_alias() {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/realdata/BartVanLooveren+omniosEindwerk/devices/snapshot_cache");
    if !d.is_file() {
        eprintln!("skipping: {} is absent", d.display());
        return;
    }
    let host = pci_illumos::devinfo::load_file(&d).unwrap();
    let mei: Address = "0000:00:16.0".parse().unwrap();
    let f = host.functions.iter().find(|f| f.address == mei).unwrap();
    assert!(pci_illumos::binding::unclaimed(f));
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let layout = Layout::persistent(root.path());
    let p = plan(&host, &[f], Action::Reserve, Options::default(), &layout).unwrap();
    assert_eq!(p.functions[0].alias, "pci8086,1e3a");
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("no driver claims") && w.contains("ppt \"pci8086,1e3a\"")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.warnings.iter().any(|w| w.contains("binds EVERY device")),
        "{:?}",
        p.warnings
    );
    // e1000g claims the NIC: it keeps its path alias.
    let nic: Address = "0000:00:19.0".parse().unwrap();
    let g = host.functions.iter().find(|f| f.address == nic).unwrap();
    let p = plan(&host, &[g], Action::Reserve, Options::default(), &layout).unwrap();
    assert_eq!(p.functions[0].alias, "/pci@0,0/pci1028,52c@19");
}

/// A root whose `/etc` holds the how-to's `driver_aliases`, its
/// `name_to_major` without the lines `drop` names, and `aliases` as
/// `ppt_aliases`.
fn root_with(aliases: &str, drop: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let ex = Path::new(EXAMPLE).join("root/etc");
    std::fs::copy(ex.join("driver_aliases"), etc.join("driver_aliases")).unwrap();
    let n2m = read(&ex.join("name_to_major")).unwrap();
    let kept: String = n2m
        .lines()
        .filter(|l| drop.is_empty() || !l.starts_with(drop))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(etc.join("name_to_major"), kept).unwrap();
    std::fs::write(etc.join("ppt_aliases"), aliases).unwrap();
    root
}

/// "Already reserved" is the session's answer, not the file's text: the
/// aliases in place but the ppt driver missing from name_to_major (it
/// was removed) leave the card with the host after the next boot, so
/// the plan changes nothing and yet reserves nothing, and says why; a
/// line the kernel rejects is replaced, never taken as reserved.
#[test]
fn already_reserved_is_the_next_boots_answer() {
    let host = seed_host();
    let gpu: Vec<&Function> = vec![&host.functions[1]];
    let both = "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n\
                ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n";

    let root = root_with(both, "");
    let layout = Layout::persistent(root.path());
    let p = plan(&host, &gpu, Action::Reserve, Options::default(), &layout).unwrap();
    assert!(p.is_noop(), "{}", p.diff());
    assert!(p.functions.iter().all(|f| f.already), "{:?}", p.functions);
    assert!(p.without_effect().is_empty());
    assert_eq!(
        p.functions[0].after.by.as_deref(),
        Some("/etc/ppt_aliases:1")
    );

    let root = root_with(both, "ppt ");
    let layout = Layout::persistent(root.path());
    let p = plan(&host, &gpu, Action::Reserve, Options::default(), &layout).unwrap();
    assert!(p.is_noop(), "{}", p.diff());
    assert!(p.functions.iter().all(|f| !f.already), "{:?}", p.functions);
    let stuck: Vec<String> = p
        .without_effect()
        .iter()
        .map(|f| f.address.to_string())
        .collect();
    assert_eq!(stuck, ["0000:01:00.0", "0000:01:00.1"]);
    assert_eq!(p.functions[0].after.on_ppt, Some(false));

    let broken = "ppt /pci@0,0/pci8086,151@1/display@0\n\
                  ppt \"/pci@0,0/pci8086,151@1/pci1462,2291@0,1\"\n";
    let root = root_with(broken, "");
    let layout = Layout::persistent(root.path());
    let p = plan(&host, &gpu, Action::Reserve, Options::default(), &layout).unwrap();
    assert!(!p.functions[0].already, "{:?}", p.functions[0]);
    assert!(p.functions[1].already, "{:?}", p.functions[1]);
    assert!(
        p.diff()
            .contains("+ppt \"/pci@0,0/pci8086,151@1/display@0\""),
        "{}",
        p.diff()
    );
}
