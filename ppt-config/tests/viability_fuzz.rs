//! Random config bytes, BAR sizes and topologies never make the rules panic,
//! and the verdict invariants hold: a function without a capability list
//! is never `ok`, and neither is one whose config space is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::{Function, Host, Identity};
use ppt_config::viability::{evaluate, Plan, Verdict};
use proptest::prelude::*;

fn function(i: u8, bytes: Vec<u8>, sizes: [Option<u64>; 6]) -> Function {
    let ids = Identity {
        vendor: 0x1234,
        device: u16::from(i),
        subsystem_vendor: None,
        subsystem: None,
        class: bytes
            .get(9..12)
            .map(|c| u32::from(c[0]) | u32::from(c[1]) << 8 | u32::from(c[2]) << 16)
            .unwrap_or(0),
        revision: 0,
        header_type: bytes.get(0x0e).copied(),
    };
    let addr = format!("{:02x}:{:02x}.{}", i / 4, i % 4, 0)
        .parse()
        .unwrap();
    let mut f = Function::new(addr, ids, bytes);
    f.bar_sizes = sizes;
    f
}

fn config() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        proptest::collection::vec(any::<u8>(), 64),
        proptest::collection::vec(any::<u8>(), 256),
        proptest::collection::vec(any::<u8>(), 4096),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_hosts_never_panic(
        configs in proptest::collection::vec(config(), 1..8),
        sizes in proptest::collection::vec(proptest::array::uniform6(proptest::option::of(any::<u64>())), 8),
    ) {
        let functions: Vec<Function> = configs
            .into_iter()
            .enumerate()
            .map(|(i, c)| function(i as u8, c, sizes[i]))
            .collect();
        let host = Host { functions, ..Default::default() };
        let plan = Plan {
            selected: host.functions.iter().map(|f| f.address).collect(),
            ..Default::default()
        };
        let r = evaluate(&host, &plan);
        prop_assert_eq!(r.functions.len(), host.functions.len());
        for (f, rep) in host.functions.iter().zip(&r.functions) {
            if f.config.len() < 64 {
                prop_assert_ne!(rep.verdict, Verdict::Ok);
            } else if f.config[6] & 0x10 == 0 {
                prop_assert_eq!(rep.verdict, Verdict::Fail);
            }
        }
        let _ = serde_json::to_string(&r).unwrap();
    }
}
