//! Property tests: no byte string makes the config-space view, the chain
//! iterators or any decoder panic, and the walks always end within the
//! number of slots there are (64 standard, 1024 extended).

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::caps::{
    Acs, AdvancedFeatures, Aer, Ari, CapError, ExtCapabilityIter, Msi, MsiX, PciExpress,
    PowerManagement, ResizableBar, SrIov, SubsystemIds, VendorSpecific, VendorSpecificExt,
};
use pci_core::config::ConfigSpace;
use pci_core::Identity;
use proptest::prelude::*;

fn exercise(bytes: &[u8]) {
    let cfg = ConfigSpace::new(bytes);
    let _ = (
        cfg.vendor_id(),
        cfg.device_id(),
        cfg.command(),
        cfg.status(),
        cfg.class_code(),
        cfg.header_type(),
        cfg.multifunction(),
        cfg.bist(),
        cfg.interrupt_pin(),
        cfg.subsystem(),
        cfg.bridge(),
        cfg.cardbus(),
        cfg.expansion_rom(Some(4096)),
        Identity::from_config(bytes),
    );
    let _ = cfg.bars(&[Some(1 << 20); 6]);
    let _ = cfg.bars(&[]);
    let std: Vec<_> = cfg.capabilities().collect();
    assert!(std.len() <= 65, "standard walk did not end: {}", std.len());
    assert!(std
        .iter()
        .take(std.len().saturating_sub(1))
        .all(Result::is_ok));
    let ext: Vec<_> = ExtCapabilityIter::new(cfg).collect();
    assert!(
        ext.len() <= 1025,
        "extended walk did not end: {}",
        ext.len()
    );
    let _ = cfg.extended_capabilities().count();
    let _ = (
        cfg.power_management(),
        cfg.msi(),
        cfg.msix(),
        cfg.pci_express(),
        cfg.advanced_features(),
        cfg.acs(),
        cfg.sriov(),
        cfg.ari(),
        cfg.aer(),
        cfg.resizable_bar(),
        cfg.flr(),
        cfg.vendor_capabilities(),
    );
    // Every decoder at many offsets: the standard space, every byte near
    // the end of the bytes (where partial registers are), and past it.
    let end = bytes.len();
    let offsets = (0..end.min(0x100))
        .step_by(4)
        .chain(end.saturating_sub(0x40)..end + 8)
        .chain([usize::MAX - 1, usize::MAX]);
    for off in offsets {
        let _ = PowerManagement::decode(&cfg, off);
        let _ = Msi::decode(&cfg, off);
        let _ = MsiX::decode(&cfg, off);
        let _ = PciExpress::decode(&cfg, off);
        let _ = AdvancedFeatures::decode(&cfg, off);
        let _ = SubsystemIds::decode(&cfg, off);
        let _ = VendorSpecific::decode(&cfg, off);
        let _ = VendorSpecificExt::decode(&cfg, off);
        let _ = Acs::decode(&cfg, off);
        let _ = SrIov::decode(&cfg, off);
        let _ = Ari::decode(&cfg, off);
        let _ = Aer::decode(&cfg, off);
        let _ = ResizableBar::decode(&cfg, off);
    }
}

/// Deterministic filler so a case is a few numbers, not 4096 shrinkable
/// bytes (much faster to generate in debug builds).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A config space of a usual size with a plausible chain, then mutated.
fn structured() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(64usize), Just(256), Just(4096), 0usize..4200],
        any::<u64>(),
        proptest::collection::vec((0usize..4096, any::<u8>()), 0..32),
        any::<u8>(),
    )
        .prop_map(|(len, seed, muts, ptr)| {
            let noise = noise(seed, 4096);
            let mut b = vec![0u8; 4096];
            b[0x06] = 0x10;
            b[0x0e] = noise[0] % 3;
            b[0x34] = ptr;
            b[0x14] = ptr;
            // A chain through PCIe so the extended walk runs.
            b[0x40] = 0x10;
            b[0x41] = ptr;
            for (i, v) in noise.iter().enumerate().skip(0x44) {
                if i % 7 == 0 {
                    b[i] = *v;
                }
            }
            b[0x100..0x104].copy_from_slice(&[0x01, 0x00, 0x01, (noise[1] & 0xf0) | 0x01]);
            for (at, v) in muts {
                b[at] = v;
            }
            b.truncate(len);
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise(&bytes);
    }

    #[test]
    fn random_long_bytes_never_panic(seed in any::<u64>(), len in 0usize..4200) {
        exercise(&noise(seed, len));
    }

    #[test]
    fn mutated_chains_never_panic(bytes in structured()) {
        exercise(&bytes);
    }
}

/// Every 4-byte-aligned self loop in both chains ends with `Loop`.
#[test]
fn every_self_loop_is_caught() {
    for at in (0x40..0x100).step_by(4) {
        let mut b = vec![0u8; 256];
        b[0x06] = 0x10;
        b[0x34] = at as u8;
        b[at] = 0x01;
        b[at + 1] = at as u8;
        let r: Vec<_> = ConfigSpace::new(&b).capabilities().collect();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1], Err(CapError::Loop { offset: at as u16 }));
    }
    for at in (0x100..0x1000).step_by(4) {
        let mut b = vec![0u8; 4096];
        b[0x100..0x104].copy_from_slice(&(0x0001_0001u32 | (at as u32) << 20).to_le_bytes());
        b[at..at + 4].copy_from_slice(&(0x0001_0002u32 | (at as u32) << 20).to_le_bytes());
        let r: Vec<_> = ExtCapabilityIter::new(ConfigSpace::new(&b)).collect();
        let last = r.last().unwrap();
        assert_eq!(
            *last,
            Err(CapError::Loop { offset: at as u16 }),
            "at {at:#x}"
        );
        assert!(r.len() <= 3);
    }
}

/// A 64-byte dump never yields a capability, only a truncation.
#[test]
fn header_only_dump_cuts_every_chain() {
    for ptr in 0x40..=0xffu8 {
        let mut b = vec![0u8; 64];
        b[0x06] = 0x10;
        b[0x34] = ptr;
        let r: Vec<_> = ConfigSpace::new(&b).capabilities().collect();
        assert_eq!(r.len(), 1);
        assert!(matches!(r[0], Err(CapError::Truncated { len: 64, .. })));
    }
}
