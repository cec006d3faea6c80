//! Config space decoders and capability walks on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pci_core::config::ConfigSpace;

fuzz_target!(|data: &[u8]| {
    let cfg = ConfigSpace::new(data);
    assert!(cfg.capabilities().count() <= 65);
    assert!(cfg.extended_capabilities().count() <= 1025);
    let _ = (
        cfg.bars(&[None; 6]),
        cfg.bridge(),
        cfg.cardbus(),
        cfg.msi(),
        cfg.msix(),
    );
    let _ = (
        cfg.pci_express(),
        cfg.acs(),
        cfg.sriov(),
        cfg.aer(),
        cfg.resizable_bar(),
        cfg.flr(),
    );
});
