//! Every function rule from hand-made config bytes: one case that triggers
//! it and one that does not, evaluated end to end (`FunctionFacts::extract`
//! through pci-core's decoders, then `viability::evaluate`); the report's
//! JSON shape and the rule list in docs/check.md. Host and configuration
//! rules: `viability_config_rules.rs`.

// Test helpers may unwrap: a panic is a test failure with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "viability/fixture.rs"]
mod fixture;

use pci_core::IllumosNode;
use pci_core::{PathSource, PropValue};
use ppt_config::viability::{Plan, Verdict};

use fixture::*;

#[test]
fn good_endpoint_is_ok() {
    let h = host(vec![func("01:00.0", &Cfg::good(), SIZES_16K)]);
    let r = report(&h, &Plan::default());
    assert_eq!(r.functions[0].verdict, Verdict::Ok, "{:?}", r.functions[0]);
    assert_eq!(r.host.verdict, Verdict::Ok);
    assert_eq!(r.config.verdict, Verdict::Ok);
    assert!(!r.has_failure());
}

#[test]
fn no_msi_fires_without_msi_and_msix() {
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000).pm(false).pcie(0, true);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"no-msi"), "{got:?}");
    // MSI-X only is enough.
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000).msix().pcie(0, true);
    assert!(!codes(func("01:00.0", &c, SIZES_16K)).contains(&"no-msi"));
    // No capability list at all (Status bit 4 clear).
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"no-msi"), "{got:?}");
}

#[test]
fn bar_not_page_aligned_fires_on_small_or_misaligned_bars() {
    let mut c = Cfg::good();
    c.bar32(2, 0xf100_0000);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 256]));
    assert!(got.contains(&"bar-not-page-aligned"), "{got:?}");
    let mut c = Cfg::good();
    c.bar32(2, 0xf100_0800);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 0]));
    assert!(got.contains(&"bar-not-page-aligned"), "{got:?}");
    let mut c = Cfg::good();
    c.bar32(2, 0xf100_1000);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 0x1000]));
    assert!(!got.contains(&"bar-not-page-aligned"), "{got:?}");
}

#[test]
fn bar_size_unknown_fires_without_sizes() {
    let got = codes(func("01:00.0", &Cfg::good(), &[]));
    assert!(got.contains(&"bar-size-unknown"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"bar-size-unknown"));
}

#[test]
fn io_bar_fires_on_io_bars() {
    let mut c = Cfg::good();
    c.bar32(2, 0xe001);
    let got = codes(func("01:00.0", &c, &[0x4000, 0, 32]));
    assert!(got.contains(&"io-bar"), "{got:?}");
    assert!(!got.contains(&"bar-not-page-aligned"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"io-bar"));
}

#[test]
fn large_bar_fires_on_4g_bars_and_rebar() {
    let got = codes(func("01:00.0", &Cfg::good(), &[8 << 30]));
    assert!(got.contains(&"large-bar"), "{got:?}");
    let mut c = Cfg::good();
    c.rebar();
    assert!(codes(func("01:00.0", &c, SIZES_16K)).contains(&"large-bar"));
    assert!(!codes(func("01:00.0", &Cfg::good(), &[256 << 20])).contains(&"large-bar"));
}

#[test]
fn no_reset_fires_without_pcie_flr() {
    let mut c = Cfg::endpoint();
    c.bar64(0, 0xf000_0000).pm(false).msi().pcie(0, false);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(
        got.contains(&"no-reset") && got.contains(&"other-reset"),
        "{got:?}"
    );
    // AF FLR does not help ppt (ppt_flr reads only PCIe DevCap).
    let mut c = Cfg::endpoint();
    c.bar64(0, 0xf000_0000).msi().af(true);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"no-reset"), "{got:?}");
    // PM with NoSoftRst set: no other reset either.
    let mut c = Cfg::endpoint();
    c.bar64(0, 0xf000_0000).pm(true).msi().pcie(0, false);
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(
        got.contains(&"no-reset") && !got.contains(&"other-reset"),
        "{got:?}"
    );
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"no-reset"));
}

#[test]
fn bridge_fires_on_type_1_headers() {
    let mut c = Cfg::new(0x8086, 0x1901, 0x060400, 1);
    c.msi().pcie(4, false).bridge_buses(0, 1, 1);
    let got = codes_for(
        &host(vec![func("00:01.0", &c, &[])]),
        &Plan {
            selected: vec!["00:01.0".parse().unwrap()],
            ..Default::default()
        },
        "00:01.0",
    );
    assert!(got.contains(&"bridge"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"bridge"));
}

#[test]
fn bridges_are_not_listed_by_default() {
    let mut c = Cfg::new(0x8086, 0x1901, 0x060400, 1);
    c.msi().pcie(4, false).bridge_buses(0, 1, 1);
    let h = host(vec![
        func("00:01.0", &c, &[]),
        func("01:00.0", &Cfg::good(), SIZES_16K),
    ]);
    let r = report(&h, &Plan::default());
    let slots: Vec<&str> = r.functions.iter().map(|f| f.slot.as_str()).collect();
    assert_eq!(slots, ["0000:01:00.0"]);
}

/// A plain check leaves infrastructure out: host bridges, ISA bridges and
/// "other bridge" housekeeping functions are judged only with `all`.
#[test]
fn infrastructure_only_with_all() {
    let hb = func("00:00.0", &Cfg::new(0x8086, 0x29c0, 0x060000, 0), &[]);
    let other = func("00:14.0", &Cfg::new(0x1022, 0x790b, 0x068000, 0), &[]);
    let nic = func("01:00.0", &Cfg::good(), SIZES_16K);
    let h = host(vec![hb, other, nic]);
    let plain = report(&h, &Plan::default());
    let slots: Vec<&str> = plain.functions.iter().map(|f| f.slot.as_str()).collect();
    assert_eq!(slots, ["0000:01:00.0"]);
    assert!(!plain.has_failure());
    let all = report(
        &h,
        &Plan {
            all: true,
            ..Default::default()
        },
    );
    assert_eq!(all.functions.len(), 3);
    assert!(all.has_failure());
}

#[test]
fn host_critical_fires_on_host_and_isa_bridges() {
    let mut c = Cfg::new(0x8086, 0x29c0, 0x060000, 0);
    c.bar32(0, 0);
    assert!(codes(func("00:00.0", &c, &[])).contains(&"host-critical"));
    let c = Cfg::new(0x8086, 0x2918, 0x060100, 0x80);
    assert!(codes(func("00:1f.0", &c, &[])).contains(&"host-critical"));
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"host-critical"));
}

#[test]
fn console_vga_fires_on_boot_vga() {
    let mut c = Cfg::good();
    c.b[0x0b] = 0x03;
    c.b[0x0a] = 0x00;
    let mut f = func("00:02.0", &c, SIZES_16K);
    f.boot_vga = Some(true);
    assert!(codes(f.clone()).contains(&"console-vga"));
    f.boot_vga = Some(false);
    assert!(!codes(f).contains(&"console-vga"));
}

#[test]
fn sriov_pf_with_vfs() {
    let mut c = Cfg::good();
    c.sriov(8, 4);
    assert!(codes(func("01:00.0", &c, SIZES_16K)).contains(&"sriov-pf-with-vfs"));
    let mut c = Cfg::good();
    c.sriov(8, 0);
    assert!(!codes(func("01:00.0", &c, SIZES_16K)).contains(&"sriov-pf-with-vfs"));
}

#[test]
fn no_assigned_addresses_on_devinfo_nodes() {
    let mut f = func("01:00.0", &Cfg::good(), SIZES_16K);
    f.illumos = Some(IllumosNode {
        path: "/pci@0,0/pci8086,151@1/display@0".into(),
        path_source: Some(PathSource::Devinfo),
        ..Default::default()
    });
    assert!(codes(f.clone()).contains(&"no-assigned-addresses"));
    f.illumos.as_mut().unwrap().props.insert(
        "assigned-addresses".into(),
        PropValue::Ints(vec![1, 2, 3, 4, 5]),
    );
    assert!(!codes(f).contains(&"no-assigned-addresses"));
}

#[test]
fn config_unknown_for_missing_or_64_byte_config() {
    let mut f = func("01:00.0", &Cfg::good(), SIZES_16K);
    f.config.clear();
    let got = codes(f);
    assert_eq!(got, ["config-unknown"]);
    let mut f = func("01:00.0", &Cfg::good(), SIZES_16K);
    f.config.truncate(64);
    let got = codes(f);
    assert!(got.contains(&"config-unknown"), "{got:?}");
    assert!(!got.contains(&"no-msi"), "unknown is not absent: {got:?}");
}

#[test]
fn config_broken_on_a_looping_chain() {
    let mut c = Cfg::good();
    let last = c.last_cap.unwrap();
    c.b[last + 1] = 0x40; // points back to the first capability
    let got = codes(func("01:00.0", &c, SIZES_16K));
    assert!(got.contains(&"config-broken"), "{got:?}");
    assert!(!codes(func("01:00.0", &Cfg::good(), SIZES_16K)).contains(&"config-broken"));
}

#[test]
fn siblings_left_behind_when_only_function_0_is_reserved() {
    let h = host(gpu_pair());
    let mut plan = Plan::default();
    plan.next_boot.insert("01:00.0".parse().unwrap(), to_ppt());
    let got = codes_for(&h, &plan, "01:00.0");
    assert!(got.contains(&"siblings-left-behind"), "{got:?}");
    plan.next_boot.insert("01:00.1".parse().unwrap(), to_ppt());
    let got = codes_for(&h, &plan, "01:00.0");
    assert!(!got.contains(&"siblings-left-behind"), "{got:?}");
}

#[test]
fn shared_isolation_behind_a_root_port_without_acs() {
    let mk = |acs: bool| {
        let mut rp = Cfg::new(0x8086, 0x1901, 0x060400, 1);
        rp.msi().pcie(4, false).bridge_buses(0, 1, 1);
        if acs {
            rp.acs(0x1f, 0x1d);
        }
        host(vec![
            func("00:01.0", &rp, &[]),
            func("01:00.0", &Cfg::good(), SIZES_16K),
            func("01:01.0", &Cfg::good(), SIZES_16K),
        ])
    };
    let got = codes_for(&mk(false), &Plan::default(), "01:00.0");
    assert!(got.contains(&"shared-isolation"), "{got:?}");
    let got = codes_for(&mk(true), &Plan::default(), "01:00.0");
    assert!(!got.contains(&"shared-isolation"), "{got:?}");
}

#[test]
fn json_document_shape() {
    let h = host(vec![func("01:00.0", &Cfg::good(), &[])]);
    let r = report(&h, &Plan::default());
    let v = serde_json::to_value(&r).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["host", "functions", "config"]);
    let f = &v["functions"][0];
    let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "slot",
            "path",
            "ids",
            "verdict",
            "reasons",
            "now",
            "next_boot"
        ]
    );
    assert_eq!(
        f["next_boot"],
        serde_json::json!({"driver": null, "dev": null, "by": null})
    );
    assert_eq!(f["slot"], "0000:01:00.0");
    assert_eq!(f["ids"], "8086:10d3");
    assert_eq!(f["verdict"], "warn");
    let reason = &f["reasons"][0];
    let keys: Vec<&str> = reason
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "severity", "message", "hint"]);
    assert_eq!(reason["code"], "bar-size-unknown");
    assert_eq!(reason["severity"], "warn");
    assert_eq!(v["host"]["verdict"], "ok");
    assert_eq!(v["config"]["reasons"], serde_json::json!([]));
}

#[test]
fn docs_list_every_rule_with_its_severity() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/check.md")).unwrap();
    for r in ppt_config::viability::rules::ALL {
        let row = format!("| `{}` | {} |", r.code, r.severity);
        assert!(doc.contains(&row), "docs/check.md lacks {row}");
    }
}

#[test]
fn header_only_config_without_capability_list_is_known_no_msi() {
    let mut c = Cfg::endpoint();
    c.bar32(0, 0xf000_0000);
    let mut f = func("01:00.0", &c, SIZES_16K);
    f.config.truncate(64);
    let got = codes(f);
    assert!(got.contains(&"no-msi"), "{got:?}");
    assert!(!got.contains(&"config-unknown"), "{got:?}");
}
