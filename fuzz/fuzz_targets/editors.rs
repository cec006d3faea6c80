//! The lossless editors: a file that parses prints back byte for byte and
//! survives an edit and its undo.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ppt_config::{
    aliases_file::AliasesFile, loader_conf::LoaderConf, matches_file::MatchesFile,
    menu_lst::MenuLst,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut f) = AliasesFile::parse_bytes("f", data) {
        assert_eq!(f.to_string().as_bytes(), data);
        if f.add_alias("ppt", "/pci@0,0/x@1").is_ok() {
            assert!(f.remove_alias("ppt", "/pci@0,0/x@1") >= 1);
        }
    }
    if let Ok(mut f) = MatchesFile::parse_bytes("f", data) {
        assert_eq!(f.to_string().as_bytes(), data);
        f.add_id(0x10de, 0xa65, true);
        assert!(f.covers(0x10de, 0xa65));
    }
    if let Ok(mut m) = MenuLst::parse_bytes("f", data) {
        assert_eq!(m.to_string().as_bytes(), data);
        let _ = m.ensure_module("/overlay/etc/ppt_aliases", "etc/ppt_aliases");
    }
    if let Ok(mut c) = LoaderConf::parse_bytes("f", data) {
        assert_eq!(c.to_string().as_bytes(), data);
        c.ensure_module(
            "ppt_aliases",
            "/boot/bootfs/etc/ppt_aliases",
            "/etc/ppt_aliases",
        );
    }
});
