//! Golden round-trips and edits of real-world files for the lossless
//! editors: the 2018 Levon how-to's menu.lst entry, a SmartOS menu.lst
//! with several entries, loader.conf.local stanzas in the SmartOS docs'
//! form, and a driver_aliases-style file with comments.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ppt_config::aliases_file::AliasesFile;
use ppt_config::loader_conf::LoaderConf;
use ppt_config::matches_file::MatchesFile;
use ppt_config::menu_lst::MenuLst;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn unedited_files_round_trip_byte_for_byte() {
    for name in [
        "seed-usbkey/boot/grub/menu.lst",
        "seed-usbkey-reserved/boot/grub/menu.lst",
        "smartos-menu.lst",
    ] {
        let t = data(name);
        assert_eq!(MenuLst::parse(name, &t).to_string(), t, "{name}");
    }
    let t = data("loader.conf.local");
    assert_eq!(LoaderConf::parse("l", &t).to_string(), t);
    let t = data("driver_aliases");
    assert_eq!(AliasesFile::parse("a", &t).unwrap().to_string(), t);
    let t = data("seed-usbkey-reserved/overlay/etc/ppt_aliases");
    assert_eq!(AliasesFile::parse("a", &t).unwrap().to_string(), t);
    let t = data("seed-usbkey-reserved/overlay/etc/ppt_matches");
    assert_eq!(MatchesFile::parse("m", &t).to_string(), t);
    // Odd inputs too: CRLF, no final newline, trailing blanks.
    for t in [
        "title x\r\n  kernel$ /platform/i86pc/kernel/amd64/unix\r\n",
        "a=1",
        "  \n\t# x \n",
    ] {
        assert_eq!(MenuLst::parse("m", t).to_string(), t);
        assert_eq!(LoaderConf::parse("l", t).to_string(), t);
        assert_eq!(MatchesFile::parse("m", t).to_string(), t);
    }
}

#[test]
fn seed_menu_gets_the_seed_module_lines_once() {
    let before = data("seed-usbkey/boot/grub/menu.lst");
    let after = data("seed-usbkey-reserved/boot/grub/menu.lst");
    let mut m = MenuLst::parse("/mnt/boot/grub/menu.lst", &before);
    assert_eq!(
        m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases")
            .unwrap(),
        1
    );
    assert_eq!(
        m.ensure_module("/overlay/etc/ppt_matches", "etc/ppt_matches")
            .unwrap(),
        1
    );
    assert_eq!(m.to_string(), after);
    // Idempotent.
    assert_eq!(
        m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases")
            .unwrap(),
        0
    );
    assert_eq!(m.to_string(), after);
    // And back.
    assert_eq!(m.remove_module("/overlay/etc/ppt_matches"), 1);
    assert_eq!(m.remove_module("/overlay/etc/ppt_aliases"), 1);
    assert_eq!(m.to_string(), before);
}

#[test]
fn smartos_menu_changes_only_platform_entries() {
    let before = data("smartos-menu.lst");
    let mut m = MenuLst::parse("/mnt/boot/grub/menu.lst", &before);
    let e = m.entries();
    assert_eq!(e.len(), 3);
    assert_eq!(
        e.iter().map(|e| e.boots_platform).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(
        e[1].title,
        "SmartOS noinstall/recovery (login/pw: root/root)"
    );
    assert_eq!(
        m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases")
            .unwrap(),
        2
    );
    let expected = before
        .replace(
            "   module /platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk\n",
            "   module /platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk\n   module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases\n",
        );
    assert_eq!(m.to_string(), expected);
    assert_eq!(m.remove_module("/overlay/etc/ppt_aliases"), 2);
    assert_eq!(m.to_string(), before);
}

#[test]
fn menu_without_platform_entry_is_an_error_naming_the_file() {
    let mut m = MenuLst::parse("/mnt/boot/grub/menu.lst", "title x\n  chainloader +1\n");
    let e = m
        .ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases")
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/mnt/boot/grub/menu.lst: no menu entry boots"),
        "{e}"
    );
}

#[test]
fn loader_stanza_is_added_found_and_removed() {
    let before = data("loader.conf.local");
    let mut l = LoaderConf::parse("/mnt/boot/loader.conf.local", &before);
    assert_eq!(
        l.module_prefix("/etc/system").as_deref(),
        Some("etc_system")
    );
    assert!(l.ensure_module(
        "ppt_aliases",
        "/boot/bootfs/etc/ppt_aliases",
        "/etc/ppt_aliases"
    ));
    let expected = format!(
        "{before}ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n"
    );
    assert_eq!(l.to_string(), expected);
    assert!(!l.ensure_module(
        "ppt_aliases",
        "/boot/bootfs/etc/ppt_aliases",
        "/etc/ppt_aliases"
    ));
    assert_eq!(l.remove_module("/etc/ppt_aliases"), 4);
    assert_eq!(l.to_string(), before);
    // A hand-written stanza under another prefix is found, and re-enabled.
    let hand = "my_ppt_load=\"NO\"\nmy_ppt_type=file\nmy_ppt_name=/boot/bootfs/etc/ppt_aliases\nmy_ppt_flags=\"name=/etc/ppt_aliases\"\n";
    let mut l = LoaderConf::parse("l", hand);
    assert!(l.ensure_module(
        "ppt_aliases",
        "/boot/bootfs/etc/ppt_aliases",
        "/etc/ppt_aliases"
    ));
    assert_eq!(
        l.to_string(),
        hand.replace("my_ppt_load=\"NO\"", "my_ppt_load=YES")
    );
}

#[test]
fn driver_aliases_style_file_edits_touch_only_their_lines() {
    let before = data("driver_aliases");
    let mut f = AliasesFile::parse("/etc/ppt_aliases", &before).unwrap();
    assert!(f.diagnostics().is_empty(), "{:?}", f.diagnostics());
    assert!(f.has_alias("ppt", "/pci@0,0/pci8086,2f02@1/pci15d9,1528@0"));
    assert!(f.has_alias("e1000g", "pciex8086,10d3"));
    assert!(f
        .add_alias("ppt", "/pci@0,0/pci8086,151@1/display@0")
        .unwrap());
    assert_eq!(
        f.to_string(),
        format!("{before}ppt \"/pci@0,0/pci8086,151@1/display@0\"\n")
    );
    assert_eq!(f.remove_alias("ppt", "/pci@0,0/pci8086,151@1/display@0"), 1);
    assert_eq!(f.to_string(), before);
    // Removing one alias of a two-alias line keeps the rest of the line.
    assert_eq!(f.remove_alias("e1000g", "pciex8086,10d3"), 1);
    assert_eq!(
        f.to_string(),
        before.replace(
            "\"pci8086,1000\" \"pciex8086,10d3\"\t#",
            "\"pci8086,1000\"\t#"
        )
    );
    let lines: Vec<usize> = f.entries().map(|(n, _)| n).collect();
    assert_eq!(lines, [6, 7, 8, 9, 10]);
}
