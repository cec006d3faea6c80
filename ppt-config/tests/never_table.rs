//! `reserve` refuses exactly the functions `check` fails with a
//! never-pass-through code (`bridge`, `host-critical`): both read
//! `pci_core::passthrough::never`. A table over every class code family,
//! every header layout (and an unknown one), with and without the boot
//! device below the function.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::{Address, Function, Host, Identity, IllumosNode, PathSource};
use ppt_config::boot_media::Layout;
use ppt_config::reserve::{self, Action, Options, ReserveError};
use ppt_config::session::NextBootPpt;
use ppt_config::viability::{evaluate, Plan, Severity};

const NEVER_CODES: [&str; 2] = ["bridge", "host-critical"];

fn host_with(class: u32, header: Option<u8>, boot_below: bool) -> Host {
    let address: Address = "0000:03:00.0".parse().unwrap();
    let ids = Identity {
        vendor: 0x1234,
        device: 0x5678,
        subsystem_vendor: None,
        subsystem: None,
        class,
        revision: 1,
        header_type: header,
    };
    let mut f = Function::new(address, ids, Vec::new());
    let path = "/pci@0,0/pci8086,151@1/pci1234,5678@0".to_string();
    f.illumos = Some(IllumosNode {
        path: path.clone(),
        path_source: Some(PathSource::Devinfo),
        node_name: "pci1234,5678".into(),
        unit_address: Some("0".into()),
        ..Default::default()
    });
    let mut host = Host::default();
    host.functions.push(f);
    if boot_below {
        host.facts.boot_devices = vec![format!("{path}/disk@0,0")];
    }
    host
}

fn class_families() -> Vec<u32> {
    let mut out = Vec::new();
    for base in (0x00..=0x13u32).chain([0x40, 0xff]) {
        for sub in [0x00u32, 0x01, 0x04, 0x80] {
            out.push((base << 16) | (sub << 8));
        }
    }
    for sub in (0x00..=0x0au32).chain([0x80]) {
        out.push(0x060000 | (sub << 8));
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn reserve_refuses_exactly_what_check_fails_as_never() {
    let media = tempfile::tempdir().unwrap();
    let layout = Layout::persistent(media.path());
    // Refusals do not depend on the next boot: nothing known about it.
    let next = NextBootPpt::default();
    let mut refused = 0;
    let mut passed = 0;
    for class in class_families() {
        for header in [Some(0u8), Some(1), Some(2), Some(0x7f), None] {
            for boot_below in [false, true] {
                let host = host_with(class, header, boot_below);
                let f = &host.functions[0];
                let report = evaluate(
                    &host,
                    &Plan {
                        selected: vec![f.address],
                        ..Default::default()
                    },
                );
                let fr = &report.functions[0];
                let never_fail = fr
                    .reasons
                    .iter()
                    .any(|r| r.severity == Severity::Fail && NEVER_CODES.contains(&r.code));
                let opts = Options {
                    single_function: true,
                    ..Default::default()
                };
                let res = reserve::plan(&host, &next, &[f], Action::Reserve, opts, &layout);
                let was_refused = matches!(res, Err(ReserveError::Refused(_)));
                assert_eq!(
                    was_refused, never_fail,
                    "class {class:06x} header {header:?} boot below {boot_below}: reserve {res:?}, check {:?}",
                    fr.reasons
                );
                if was_refused {
                    refused += 1;
                } else {
                    passed += 1;
                }
            }
        }
    }
    // The table is not trivially one-sided.
    assert!(
        refused > 50 && passed > 50,
        "{refused} refused, {passed} passed"
    );
}

/// The case: a class 0x0680 endpoint ("other bridge", header 0)
/// is neither refused nor failed; a PCI-to-PCI bridge is both.
#[test]
fn other_bridge_endpoint_and_pci_bridge() {
    let media = tempfile::tempdir().unwrap();
    let layout = Layout::persistent(media.path());
    // Refusals do not depend on the next boot: nothing known about it.
    let next = NextBootPpt::default();
    let host = host_with(0x068000, Some(0), false);
    let f = &host.functions[0];
    let opts = Options {
        single_function: true,
        ..Default::default()
    };
    assert!(reserve::plan(&host, &next, &[f], Action::Reserve, opts, &layout).is_ok());
    let host = host_with(0x060400, Some(1), false);
    let f = &host.functions[0];
    assert!(matches!(
        reserve::plan(&host, &next, &[f], Action::Reserve, opts, &layout),
        Err(ReserveError::Refused(_))
    ));
}
