//! illumos devinfo snapshots (snapshot_cache), then the host model.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = pci_illumos::devinfo::Snapshot::parse(data) {
        let _ = pci_illumos::devinfo::to_host(&s, "fuzz");
    }
});
