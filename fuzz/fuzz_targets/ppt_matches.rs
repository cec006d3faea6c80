//! ppt_matches as libppt reads it; the compiled matcher must agree.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pci_illumos::matcher::Matcher;
use pci_illumos::matches::{NodeIds, PptMatches};

fuzz_target!(|data: &[u8]| {
    let m = PptMatches::parse(data, "/etc/ppt_matches");
    let node = NodeIds {
        path: "/pci@0,0/pci8086,151@1/display@0",
        vendor: 0x10de,
        device: 0xa65,
    };
    assert_eq!(
        Matcher::compile(&m).first_match(&node),
        m.first_match(&node).map(|l| l.number)
    );
});
