//! vmadm payloads, selectors and guest slots.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = ppt_config::vmadm::validate_payload(&v);
    }
    let s = String::from_utf8_lossy(data);
    let _ = s.parse::<ppt_config::selector::Selector>();
    let _ = ppt_config::vmadm::parse_pci_slot(&s);
});
