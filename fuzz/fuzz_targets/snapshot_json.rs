//! pptctl-snapshot/1 JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pci_core::sources::snapshot::parse_snapshot(data, "fuzz");
});
