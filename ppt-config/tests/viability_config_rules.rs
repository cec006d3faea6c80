//! The host rules and every configuration rule (pending aliases,
//! reservations, VM payloads, guest slots, ppt_matches), evaluated end to
//! end on hosts built by hand.

// Test helpers may unwrap: a panic is a test failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "viability/fixture.rs"]
mod fixture;

use pci_core::{CpuVendor, HostFacts};
use pci_illumos::matches::{Lint, LintCode};
use ppt_config::viability::pending::{AliasReport, Pending, VmPlan};
use ppt_config::viability::{Plan, Verdict};

use fixture::*;

#[test]
fn host_rules_from_facts() {
    let mut h = host(vec![func("01:00.0", &Cfg::good(), SIZES_16K)]);
    h.facts.iommu.as_mut().unwrap().present = false;
    let r = report(&h, &Plan::default());
    assert_eq!(r.host.verdict, Verdict::Fail);
    assert_eq!(r.host.reasons[0].code, "no-iommu");
    assert!(r.has_failure());
    h.facts = HostFacts {
        cpu_vendor: Some(CpuVendor::Amd),
        ..good_host_facts()
    };
    let r = report(&h, &Plan::default());
    assert_eq!(r.host.reasons[0].code, "iommu-unsupported");
}

#[test]
fn ppt_not_bound_and_vm_device_missing() {
    let f = with_path(
        func("01:00.0", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/display@0",
        "nvidia",
    );
    let h = host(vec![f]);
    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[
        ("/devices/pci@0,0/pci8086,151@1/display@0", "0:8:0"),
        ("/devices/pci@0,0/pci8086,151@1/display@9", "0:9:0"),
    ]));
    let got = config_codes(&h, &plan);
    assert!(got.contains(&"ppt-not-bound"), "{got:?}");
    assert!(got.contains(&"vm-device-missing"), "{got:?}");
    plan.next_boot.insert("01:00.0".parse().unwrap(), to_ppt());
    let got = config_codes(&h, &plan);
    assert!(!got.contains(&"ppt-not-bound"), "{got:?}");
    assert!(got.contains(&"pending-change"), "{got:?}");
}

#[test]
fn guest_slot_rules() {
    let f = with_path(
        func("01:00.0", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/display@0",
        "ppt",
    );
    let g = with_path(
        func("01:00.1", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
        "ppt",
    );
    let h = host(vec![f, g]);
    let p0 = "/devices/pci@0,0/pci8086,151@1/display@0";
    let p1 = "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1";
    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[(p0, "0:8:0"), (p1, "0:8:1")]));
    assert!(
        config_codes(&h, &plan).is_empty(),
        "{:?}",
        config_codes(&h, &plan)
    );

    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[(p0, "0:4:0"), (p1, "0:4:0")]));
    let got = config_codes(&h, &plan);
    assert!(got.contains(&"guest-slot-reserved"), "{got:?}");
    assert!(got.contains(&"guest-slot-conflict"), "{got:?}");

    let mut plan = Plan::default();
    plan.pending.vms.push(vm(&[(p0, "0:8:1")]));
    plan.pending.vms.push(VmPlan {
        file: "other.json".into(),
        ..vm(&[(p0, "0:9:0")])
    });
    let got = config_codes(&h, &plan);
    assert!(got.contains(&"guest-slot-no-function-0"), "{got:?}");
    assert!(got.contains(&"vm-device-shared"), "{got:?}");
}

#[test]
fn alias_rules_and_reserved_fails() {
    let mut bad = Cfg::endpoint();
    bad.bar32(0, 0xf000_0000);
    let h = host(vec![
        with_path(
            func("01:00.0", &Cfg::good(), SIZES_16K),
            "/pci@0,0/pci8086,10d3@1",
            "e1000g",
        ),
        with_path(
            func("02:00.0", &Cfg::good(), SIZES_16K),
            "/pci@0,0/pci8086,10d3@2",
            "e1000g",
        ),
        func("03:00.0", &bad, SIZES_16K),
    ]);
    let mut plan = Plan::default();
    plan.pending.aliases = vec![
        AliasReport {
            alias: "pciex8086,10d3".into(),
            file: "/etc/ppt_aliases".into(),
            line: 1,
            as_written: false,
            kind: "compatible",
            matches: vec![
                "/pci@0,0/pci8086,10d3@1".into(),
                "/pci@0,0/pci8086,10d3@2".into(),
            ],
            lints: vec![],
        },
        AliasReport {
            alias: "/pci@0,0/nothing@1".into(),
            file: "/etc/ppt_aliases".into(),
            line: 2,
            as_written: false,
            kind: "path",
            matches: vec![],
            lints: vec![Lint {
                code: LintCode::MissingUnitAddress,
                message: "a function-1 node needs its unit address".into(),
            }],
        },
    ];
    plan.next_boot.insert("03:00.0".parse().unwrap(), to_ppt());
    let r = report(&h, &plan);
    let got: Vec<&str> = r.config.reasons.iter().map(|r| r.code).collect();
    assert!(got.contains(&"alias-takes-more"), "{got:?}");
    assert!(got.contains(&"alias-binds-nothing"), "{got:?}");
    let nothing = r
        .config
        .reasons
        .iter()
        .find(|x| x.code == "alias-binds-nothing")
        .unwrap();
    assert!(
        nothing.message.contains("/etc/ppt_aliases:2"),
        "{}",
        nothing.message
    );
    assert!(
        nothing.message.contains("unit address"),
        "{}",
        nothing.message
    );
    assert!(got.contains(&"reserved-fails"), "{got:?}");
    assert_eq!(r.config.verdict, Verdict::Fail);
    // A single-function path alias that binds is fine.
    let mut plan = Plan::default();
    plan.pending.aliases = vec![AliasReport {
        alias: "/pci@0,0/pci8086,10d3@1".into(),
        file: "/etc/ppt_aliases".into(),
        line: 1,
        as_written: false,
        kind: "path",
        matches: vec!["/pci@0,0/pci8086,10d3@1".into()],
        lints: vec![],
    }];
    assert!(config_codes(&h, &plan).is_empty());
}

#[test]
fn matches_only_warns() {
    let h = host(vec![with_path(
        func("01:00.0", &Cfg::good(), SIZES_16K),
        "/pci@0,0/pci8086,151@1/display@0",
        "nvidia",
    )]);
    let mut plan = Plan {
        pending: Pending::default(),
        ..Default::default()
    };
    plan.pending
        .matches_listed
        .insert("01:00.0".parse().unwrap());
    assert!(config_codes(&h, &plan).contains(&"matches-only"));
}
