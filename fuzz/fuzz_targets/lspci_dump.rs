//! lspci -x/-xxx/-xxxx text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = pci_core::sources::dump::parse_dump_bytes(data, "fuzz") {
        for f in &h.functions {
            let _ = f.config_space().capabilities().count();
            let _ = f.bars();
        }
    }
});
