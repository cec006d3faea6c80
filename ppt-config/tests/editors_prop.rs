//! Property tests for the lossless editors: any text comes back byte for
//! byte, and an add followed by a remove gives the original back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ppt_config::aliases_file::AliasesFile;
use ppt_config::loader_conf::LoaderConf;
use ppt_config::matches_file::MatchesFile;
use ppt_config::menu_lst::MenuLst;
use proptest::prelude::*;

const TEXT: &str = "(title|module|kernel\\$|ppt|pci|pciex|[a-z0-9 \t#\"/,@=:_.\\\\\r\n]){0,60}";

proptest! {
    #[test]
    fn every_editor_keeps_any_text(s in TEXT) {
        prop_assert_eq!(MenuLst::parse("m", &s).to_string(), s.clone());
        prop_assert_eq!(LoaderConf::parse("l", &s).to_string(), s.clone());
        prop_assert_eq!(MatchesFile::parse("m", &s).to_string(), s.clone());
        if let Ok(a) = AliasesFile::parse("a", &s) {
            prop_assert_eq!(a.to_string(), s.clone());
        }
    }

    #[test]
    fn add_then_remove_is_the_identity(s in TEXT, dev in 0u16..0x40) {
        let s = if s.is_empty() || s.ends_with('\n') { s } else { format!("{s}\n") };
        let path = format!("/pci@0,0/pci8086,151@1/display@{dev:x}");
        if let Ok(mut a) = AliasesFile::parse("a", &s) {
            if !a.has_alias("ppt", &path) {
                // An add the kernel would not read back (a last line whose
                // `\` escapes the newline swallows the new line) is refused
                // and leaves the file as it was.
                match a.add_alias("ppt", &path) {
                    Ok(changed) => {
                        prop_assert!(changed);
                        prop_assert!(a.has_alias("ppt", &path));
                        prop_assert_eq!(a.remove_alias("ppt", &path), 1);
                        prop_assert_eq!(a.to_string(), s.clone());
                    }
                    Err(_) => prop_assert_eq!(a.to_string(), s.clone()),
                }
            }
        }
        let mut m = MatchesFile::parse("m", &s);
        if !m.covers(0x10de, 0x1000 + dev) {
            prop_assert!(m.add_id(0x10de, 0x1000 + dev, true));
            prop_assert!(m.covers(0x10de, 0x1000 + dev));
            prop_assert_eq!(m.remove_id(0x10de, 0x1000 + dev), 1);
            prop_assert_eq!(m.to_string(), s.clone());
        }
        let mut l = LoaderConf::parse("l", &s);
        if l.module_prefix("/etc/ppt_aliases").is_none() {
            prop_assert!(l.ensure_module("ppt_aliases", "/boot/bootfs/etc/ppt_aliases", "/etc/ppt_aliases"));
            prop_assert!(l.module_prefix("/etc/ppt_aliases").is_some());
            prop_assert_eq!(l.remove_module("/etc/ppt_aliases"), 4);
            prop_assert_eq!(l.to_string(), s.clone());
        }
        let mut menu = MenuLst::parse("m", &s);
        let entries = menu.entries();
        if entries.iter().any(|e| e.boots_platform)
            && !entries.iter().any(|e| e.modules.iter().any(|p| p == "/overlay/etc/ppt_aliases"))
        {
            let n = menu.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases").unwrap();
            prop_assert_eq!(n, entries.iter().filter(|e| e.boots_platform).count());
            prop_assert_eq!(menu.remove_module("/overlay/etc/ppt_aliases"), n);
            prop_assert_eq!(menu.to_string(), s.clone());
        }
    }
}

fn menu_line() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "title SmartOS",
        "title=other",
        "   kernel$ /platform/i86pc/kernel/amd64/unix -B smartos=true",
        "\tkernel /os/x/platform/i86pc/kernel/amd64/unix",
        "   module /platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk",
        "   module$ /platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk",
        "   chainloader +1",
        "# module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases",
        "",
        "default 0",
    ])
}

proptest! {
    #[test]
    fn menus_gain_one_module_per_platform_entry_and_lose_it_again(
        lines in prop::collection::vec(menu_line(), 0..16),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let term = if crlf { "\r\n" } else { "\n" };
        let mut s = lines.join(term);
        if final_newline && !s.is_empty() {
            s.push_str(term);
        }
        let mut m = MenuLst::parse("m", &s);
        let platform = m.entries().iter().filter(|e| e.boots_platform).count();
        match m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases") {
            Err(_) => prop_assert_eq!(platform, 0),
            Ok(n) => {
                prop_assert_eq!(n, platform);
                let text = m.to_string();
                prop_assert_eq!(
                    text.matches("module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases").count(),
                    platform + s.matches("# module /overlay").count()
                );
                for e in m.entries().iter().filter(|e| e.boots_platform) {
                    prop_assert!(e.modules.iter().any(|p| p == "/overlay/etc/ppt_aliases"));
                }
                // Idempotent.
                prop_assert_eq!(m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases").unwrap(), 0);
                prop_assert_eq!(m.remove_module("/overlay/etc/ppt_aliases"), n);
                // Removal gives the original back, except that an
                // unterminated last line it had to terminate stays so.
                let back = m.to_string();
                if final_newline || s.is_empty() || n == 0 {
                    prop_assert_eq!(back, s.clone());
                } else {
                    let terminated = format!("{}{}", s, term);
                    prop_assert!(back == s || back == terminated);
                }
            }
        }
    }
}
