//! ppt_aliases / driver_aliases as the kernel reads them, path_to_inst, name_to_major.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pci_illumos::aliases::{AliasFile, NameToMajor, PathToInst};

fuzz_target!(|data: &[u8]| {
    let n2m = NameToMajor::parse(data, "/etc/name_to_major");
    let _ = AliasFile::parse(data, "/etc/ppt_aliases", Some(&n2m));
    let _ = AliasFile::parse(data, "/etc/driver_aliases", None);
    let _ = PathToInst::parse(data, "/etc/path_to_inst").next_free("ppt");
});
