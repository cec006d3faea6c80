//! A bhyve zone's platform.log, read back and joined with an empty host.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pci_illumos::platform_log::analyze;

fuzz_target!(|data: &[u8]| {
    let Ok(a) = analyze(data) else { return };
    let zone = ppt_config::zones::parse_zone(&String::from_utf8_lossy(data), "/etc/zones/z.xml")
        .map(|z| z.pci_devices)
        .unwrap_or_default();
    let host = pci_core::Host::default();
    let check = |sel: &[pci_core::Address]| {
        Ok(ppt_config::viability::evaluate(
            &host,
            &ppt_config::viability::Plan {
                selected: sel.to_vec(),
                ..Default::default()
            },
        ))
    };
    let judged = ppt_config::diagnose::JudgedHost {
        host: &host,
        label: "the empty host",
    };
    let _ = ppt_config::diagnose::diagnose_host(&a, &zone, judged, &check);
    let _ = ppt_config::diagnose::diagnose_log(&a, &zone);
});
