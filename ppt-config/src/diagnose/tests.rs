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
    diagnose_host(&a, zone, judged(host), &plain_check(host)).unwrap()
}

/// The example host, as findings name it.
fn judged(host: &Host) -> JudgedHost<'_> {
    JudgedHost {
        host,
        label: "the example host",
    }
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
    let d = diagnose_host(&a, &[], judged(&host), &broken).unwrap();
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
        diagnose_host(&a, &[], judged(&host), &plain_check(&host)),
        Err(DiagnoseError::NotALog { .. })
    ));
}

/// The how-to's VM as the brand logs it (boot.c `add_arg`), with `extra`
/// lines from bhyve after it.
fn levon_attempt(vm_name: &str, extra: &str) -> String {
    format!(
        "\
add_arg: argv[2]='-U'
add_arg: argv[3]='b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f'
add_arg: argv[4]='-S'
add_arg: argv[5]='-s'
add_arg: argv[6]='0:8:0,passthru,/dev/ppt0'
add_arg: argv[7]='-s'
add_arg: argv[8]='0:8:1,passthru,/dev/ppt1'
add_arg: argv[9]='{vm_name}'
{extra}"
    )
}

/// pci_passthru.c init_msix_table: `warn("Failed to unmap MSI-X table BAR
/// region")` after a failed mprotect, and the function still succeeds.
#[test]
fn the_msix_unmap_warning_leaves_a_clean_start_clean() {
    let log = levon_attempt(
        "SYSbhyve-12",
        "bhyve: Failed to unmap MSI-X table BAR region: Not enough space\n",
    );
    let d = run(&log, &levon(), &[]);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "msix-unmap-warning")
        .unwrap();
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(d.outcome, Outcome::Clean, "{:?}", codes(&d));
    assert_eq!(
        d.attempt.as_ref().unwrap().vm_name.as_deref(),
        Some("SYSbhyve-12")
    );
}

/// cfginitmsi fails only for a device without a capability list: the
/// message is pinned on the VM's function whose status register says so.
#[test]
fn msi_init_failure_is_pinned_on_the_device_without_a_capability_list() {
    let mut host = levon();
    let audio = host
        .functions
        .iter_mut()
        .find(|f| f.address.to_string() == "0000:01:00.1")
        .unwrap();
    assert!(audio.config.len() > 6, "the example has config space");
    audio.config[6] &= !0x10;
    let log = levon_attempt(
        "SYSbhyve-12",
        "bhyve: failed to initialize MSI for PCI 6\nDevice emulation initialization error: Invalid argument\n",
    );
    let d = run(&log, &host, &[]);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "msi-init-failed")
        .unwrap();
    let dev = f.device.as_deref().unwrap();
    assert!(
        dev.starts_with("likely ") && dev.contains("0000:01:00.1"),
        "{dev}"
    );
    assert!(f.what.contains("no capability list"), "{}", f.what);
}

/// boot.c parse_pcislot prints the device number it parsed, then the slot
/// text: the text names the configured device.
#[test]
fn an_illegal_pci_slot_names_the_configured_device() {
    let log = format!(
        "\
get_zcfg_var: '_ZONECFG_device_resources={D0}'
get_zcfg_var: '_ZONECFG_device_{D0}_path=/dev/ppt0'
get_zcfg_var: '_ZONECFG_device_{D0}_model=passthru'
get_zcfg_var: '_ZONECFG_device_{D0}_pci_slot=0:8:9'
Error: device 8 has illegal PCI slot: 0:8:9
"
    );
    let d = run(&log, &levon(), &[]);
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "brand-illegal-pci-slot")
        .unwrap();
    let dev = f.device.as_deref().unwrap();
    assert!(dev.starts_with("guest 0:8:9 /dev/ppt0"), "{dev}");
}

/// boot.c add_vmname: no `_ZONECFG_did` names the VM SYSbhyve-unknown;
/// the vm_create failure's action names that instance.
#[test]
fn a_vm_named_unknown_is_a_warning_and_named_in_the_actions() {
    let log = levon_attempt("SYSbhyve-unknown", "vm_create: File exists\n");
    let d = run(&log, &levon(), &[]);
    let w = d
        .findings
        .iter()
        .find(|f| f.code == "vm-name-unknown")
        .unwrap();
    assert_eq!(w.severity, Severity::Warn);
    assert_eq!(w.line, Some(8));
    let f = d
        .findings
        .iter()
        .find(|f| f.code == "vm-create-failed")
        .unwrap();
    assert!(
        f.action
            .contains("bhyvectl --vm=SYSbhyve-unknown --destroy"),
        "{}",
        f.action
    );
}

/// With no host the log is read alone: nothing is said about /dev/pptN on
/// any host, and one finding says what cannot be judged.
#[test]
fn the_log_alone_says_what_it_cannot_judge() {
    let a = analyze(levon_attempt("SYSbhyve-12", "").as_bytes()).unwrap();
    let d = diagnose_log(&a, &[]).unwrap();
    assert_eq!(d.host, None);
    assert_eq!(codes(&d), ["host-not-judged"]);
    assert_eq!(d.outcome, Outcome::Clean);
    assert!(
        d.findings[0].what.contains("2 devices"),
        "{}",
        d.findings[0].what
    );
    assert!(!d.devices[0].now.judged);
    assert_eq!(
        device_findings::describe(&d.devices[0]),
        "guest 0:8:0 /dev/ppt0"
    );
    // Against a host, a missing link names that host.
    let mut host = levon();
    host.ppt_links.retain(|l| l.dev != "/dev/ppt1");
    let d = run(&levon_attempt("SYSbhyve-12", ""), &host, &[]);
    let f = d.findings.iter().find(|f| f.code == "ppt-missing").unwrap();
    assert!(
        f.what.contains("does not exist on the example host"),
        "{}",
        f.what
    );
    assert_eq!(d.host.as_deref(), Some("the example host"));
}
