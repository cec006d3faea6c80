//! The join and the findings over the example host (examples/levon-2018),
//! with logs written here line by line.

use pci_core::{Address, Host, PptLink};
use pci_illumos::platform_log::analyze;

use crate::zones::ZoneDevice;

use super::*;
use crate::viability::{self, Plan, Report};

fn levon() -> Host {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018/host.json"
    );
    pci_core::sources::snapshot::load_snapshot_file(std::path::Path::new(p)).unwrap()
}

fn plain_check(host: &Host) -> impl Fn(&[Address]) -> Result<Report, String> + '_ {
    move |sel: &[Address]| {
        Ok(viability::evaluate(
            host,
            &Plan {
                selected: sel.to_vec(),
                ..Default::default()
            },
        ))
    }
}

const D0: &str = "_devices_pci_0_0_pci8086_151_1_display_0";

fn run(log: &str, host: &Host, zone: &[ZoneDevice]) -> Diagnosis {
    let a = analyze(log.as_bytes()).unwrap();
    diagnose_host(&a, zone, host, &plain_check(host)).unwrap()
}

fn codes(d: &Diagnosis) -> Vec<&str> {
    d.findings.iter().map(|f| f.code).collect()
}

#[test]
fn two_devices_on_one_guest_slot_conflict() {
    let log = "\
add_arg: argv[2]='-S'
add_arg: argv[3]='-s'
add_arg: argv[4]='0:8:0,passthru,/dev/ppt0'
add_arg: argv[5]='-s'
add_arg: argv[6]='0:8:0,passthru,/dev/ppt1'
";
    let d = run(log, &levon(), &[]);
    assert_eq!(d.outcome, Outcome::Problem);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "guest-slot-conflict")
        .unwrap();
    assert_eq!(f.line, Some(5));
    assert!(
        f.what.contains("argv[4]") && f.what.contains("argv[6]"),
        "{}",
        f.what
    );
}

#[test]
fn function_1_without_function_0_is_a_warning() {
    let log = "add_arg: argv[2]='-s'\nadd_arg: argv[3]='0:9:1,passthru,/dev/ppt1'\nadd_arg: argv[4]='SYSbhyve-7'\n";
    let d = run(log, &levon(), &[]);
    assert!(codes(&d).contains(&"no-function-0"));
    assert_eq!(d.outcome, Outcome::Clean, "{:?}", codes(&d));
}

#[test]
fn a_command_line_without_the_vm_name_is_unfinished() {
    let log = "add_arg: argv[2]='-s'\nadd_arg: argv[3]='0:8:0,passthru,/dev/ppt0'\n";
    let d = run(log, &levon(), &[]);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "argv-incomplete")
        .unwrap();
    assert_eq!(f.line, Some(2));
    assert_eq!(d.outcome, Outcome::Problem);
}

#[test]
fn a_check_that_cannot_run_is_a_warning_not_a_failure() {
    let host = levon();
    let log = "add_arg: argv[2]='-s'\nadd_arg: argv[3]='0:8:0,passthru,/dev/ppt0'\n";
    let a = analyze(log.as_bytes()).unwrap();
    let broken =
        |_: &[Address]| -> Result<Report, String> { Err("/etc/ppt_matches: unreadable".into()) };
    let d = diagnose_host(&a, &[], &host, &broken).unwrap();
    assert!(codes(&d).contains(&"check-unavailable"));
    assert_eq!(d.devices[0].now.verdict, None);
    assert_eq!(d.devices[0].now.slot.as_deref(), Some("0000:01:00.0"));
}

#[test]
fn stale_link_and_unknown_configuration_are_failures() {
    let mut host = levon();
    host.ppt_links.push(PptLink {
        dev: "/dev/ppt7".into(),
        target: Some("../devices/pci@0,0/gone@9:ppt".into()),
        path: Some("/pci@0,0/gone@9".into()),
    });
    let log = "\
get_zcfg_var: '_ZONECFG_device__devices_pci_0_0_gone_9_path=/dev/ppt7'
get_zcfg_var: '_ZONECFG_device__devices_pci_0_0_gone_9_model=passthru'
add_arg: argv[2]='-s'
add_arg: argv[3]='0:8:0,passthru,/dev/ppt7'
";
    let d = run(log, &host, &[]);
    let c = codes(&d);
    assert!(c.contains(&"ppt-stale"), "{c:?}");
    assert!(c.contains(&"configured-device-unknown"), "{c:?}");
    assert_eq!(d.devices.len(), 1, "{:#?}", d.devices);
}

#[test]
fn a_device_bound_elsewhere_is_not_on_ppt() {
    let mut host = levon();
    for f in &mut host.functions {
        if let Some(n) = f.illumos.as_mut() {
            if n.path.ends_with("display@0") {
                n.driver = Some("vgatext".into());
            }
        }
    }
    let log = format!(
        "get_zcfg_var: '_ZONECFG_device_{D0}_path=/dev/ppt0'\nadd_arg: argv[2]='-s'\nadd_arg: argv[3]='0:8:0,passthru,/dev/ppt0'\n"
    );
    let d = run(&log, &host, &[]);
    let f = d.findings.iter().find(|f| f.code == "not-on-ppt").unwrap();
    assert!(f.what.contains("vgatext"), "{}", f.what);
}

#[test]
fn zone_configuration_alone_is_joined_when_the_log_has_no_boot() {
    let zone = [ZoneDevice {
        path: "/devices/pci@0,0/pci8086,151@1/display@0".into(),
        pci_slot: Some("0:8:0".into()),
    }];
    let d = run("nothing here\n", &levon(), &zone);
    assert!(codes(&d).contains(&"no-boot-attempt"));
    assert_eq!(d.devices.len(), 1);
    assert_eq!(
        d.devices[0].configured_slot.as_deref(),
        Some("0000:01:00.0")
    );
    assert_eq!(
        d.devices[0].configured_dev_now.as_deref(),
        Some("/dev/ppt0")
    );
    assert_eq!(d.unrecognised.total, 1);
}

#[test]
fn not_a_log_is_an_error() {
    let a = analyze(&b"\x00\x01\x02\x03\n\xff\xfe"[..]).unwrap();
    let host = levon();
    assert!(matches!(
        diagnose_host(&a, &[], &host, &plain_check(&host)),
        Err(DiagnoseError::NotALog { .. })
    ));
}
