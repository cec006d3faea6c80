//! Each pass-through device of a boot attempt joined with the host.
//!
//! A device is known to the log in up to three ways: the `-s B:D:F,passthru,
//! /dev/pptN` argument the brand built, the zone configuration variables it
//! read (`_ZONECFG_device_<match>_path=/dev/pptN`, `_pci_slot`, `_model`),
//! and zoneadmd's failure to resolve a `/devices` path. The `<match>` part
//! is zoneadmd's sanitized form of the configured `/devices` path
//! (`pci_illumos::platform_log::zonecfg::sanitize_env_name`), so the
//! configured function is found by sanitizing each host path the same way.

use std::collections::BTreeSet;

use pci_core::{Address, Function, Host};
use pci_illumos::platform_log::argv::GuestSlot;
use pci_illumos::platform_log::zonecfg::sanitize_env_name;
use pci_illumos::platform_log::Attempt;
use serde::Serialize;

use crate::viability::{Reason, Report, Severity, Verdict};
use crate::zones::ZoneDevice;

/// What the host says about the `/dev/pptN` bhyve was given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HostView {
    /// A host was read to fill this view; `false` when the log is read
    /// alone (nothing below is known then).
    pub judged: bool,
    /// The `/dev/pptN` link exists on the host now.
    pub dev_exists: bool,
    /// The devfs path the link leads to.
    pub path: Option<String>,
    /// The function at that path (`DDDD:BB:DD.F`), if the host has one.
    pub slot: Option<String>,
    /// `vvvv:dddd` of that function.
    pub ids: Option<String>,
    /// Its driver now.
    pub driver: Option<String>,
    /// Bound to ppt now.
    pub bound_to_ppt: bool,
    /// `pptctl check` verdict of the function.
    pub verdict: Option<Verdict>,
    /// The check's warn and fail reasons.
    pub reasons: Vec<Reason>,
}

/// Another function of the same PCI device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiblingView {
    /// `DDDD:BB:DD.F`.
    pub slot: String,
    /// devfs path, when known.
    pub path: Option<String>,
    /// Driver now.
    pub driver: Option<String>,
    /// Passed to the same VM.
    pub in_vm: bool,
    /// `pptctl check` verdict.
    pub verdict: Option<Verdict>,
}

/// One pass-through device of the attempt.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DeviceReport {
    /// Guest slot `B:D:F` bhyve was given (or the configured `pci_slot`).
    pub guest_slot: Option<String>,
    /// The device path bhyve was given (`/dev/pptN`), or zoneadmd's
    /// resolved `path` variable.
    pub dev: Option<String>,
    /// argv index of the `-s` value.
    pub argv_index: Option<usize>,
    /// Log line of the `-s` value (or of the configuration / message).
    pub line: Option<usize>,
    /// The sanitized zone configuration `match` this device came from.
    pub config_resource: Option<String>,
    /// The configured device: a `/devices/...` path, or `/dev/pptN` when
    /// the configuration names one directly.
    pub configured_path: Option<String>,
    /// The host function at the configured path.
    pub configured_slot: Option<String>,
    /// The driver of that function now.
    pub configured_driver: Option<String>,
    /// The `/dev/pptN` the configured path has on the host now.
    pub configured_dev_now: Option<String>,
    /// Whether the configured path and the `/dev/pptN` bhyve was given are
    /// the same function on the host now (`None` when either is unknown).
    pub resolves_to_config: Option<bool>,
    /// The device is in the zone's configuration file (`--vm`).
    pub in_zone_config: bool,
    /// Its `pci_slot` there.
    pub zone_pci_slot: Option<String>,
    /// The host's view of `dev`.
    pub now: HostView,
    /// The other functions of the same PCI device.
    pub siblings: Vec<SiblingView>,
}

/// The driver bound now: the devinfo node's, else the OS's.
fn driver_of(f: &Function) -> Option<String> {
    f.illumos
        .as_ref()
        .and_then(|n| n.driver.clone())
        .or_else(|| f.driver.clone())
}

fn function_at<'h>(host: &'h Host, path: &str) -> Option<&'h Function> {
    host.functions
        .iter()
        .find(|f| f.illumos.as_ref().is_some_and(|n| n.path == path))
}

/// The configured device behind a sanitized `match`: a host function whose
/// `/devices` path sanitizes to it, or `/dev/pptN` written directly
/// (the only one known without a host).
fn recover_configured(resource: &str, host: Option<&Host>) -> Option<String> {
    if let Some(n) = resource.strip_prefix("_dev_ppt") {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!("/dev/ppt{n}"));
        }
    }
    host?
        .functions
        .iter()
        .filter_map(|f| f.illumos.as_ref())
        .map(|n| format!("/devices{}", n.path))
        .find(|p| sanitize_env_name(p) == resource)
}

/// The devfs path of a configured `/devices/...[:ppt]` path.
fn devfs_of(configured: &str) -> Option<String> {
    // zoneadmd hands the path to libppt, which strips only `:ppt`
    // (pci_illumos::pptdev::link_devfs_path owns that rule).
    if !configured.starts_with("/devices/") {
        return None;
    }
    pci_illumos::pptdev::link_devfs_path(configured)
        .ok()
        .map(|p| p.as_str().to_string())
}

fn is_passthru_config(model: Option<&str>, path: Option<&str>) -> bool {
    model == Some("passthru")
        || (model.is_none() && path.is_some_and(|p| p.starts_with("/dev/ppt")))
}

fn same_slot(a: Option<&str>, b: Option<&str>) -> bool {
    match (a.and_then(GuestSlot::parse), b.and_then(GuestSlot::parse)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The `check` verdicts for a set of functions: [`crate::session::Session::check`]
/// in a session, or [`crate::viability::evaluate()`] over a bare host.
pub type Checker<'a> = &'a dyn Fn(&[Address]) -> Result<Report, String>;

/// Collects the pass-through devices of the attempt and of the zone's
/// configuration file, and joins each with `host`. A check that cannot
/// run is returned as the error text beside the devices (their verdicts
/// left empty).
pub fn join(
    attempt: Option<&Attempt>,
    zone: &[ZoneDevice],
    host: Option<&Host>,
    check: Checker,
) -> (Vec<DeviceReport>, Option<String>) {
    let mut out = match attempt {
        Some(a) => from_attempt(a, host),
        None => Vec::new(),
    };
    // crate::zones lists only the zone's pass-through devices.
    for z in zone {
        let res = sanitize_env_name(&z.path);
        match out
            .iter_mut()
            .find(|r| r.config_resource.as_deref() == Some(res.as_str()))
        {
            Some(r) => {
                r.in_zone_config = true;
                r.zone_pci_slot = z.pci_slot.clone();
                r.configured_path = Some(z.path.clone());
            }
            None => out.push(DeviceReport {
                guest_slot: z.pci_slot.clone(),
                config_resource: Some(res),
                configured_path: Some(z.path.clone()),
                in_zone_config: true,
                zone_pci_slot: z.pci_slot.clone(),
                ..Default::default()
            }),
        }
    }
    let Some(host) = host else {
        return (out, None);
    };
    let error = fill_host(&mut out, host, check);
    (out, error)
}

fn from_attempt(attempt: &Attempt, host: Option<&Host>) -> Vec<DeviceReport> {
    let mut out: Vec<DeviceReport> = attempt
        .passthru()
        .map(|s| DeviceReport {
            guest_slot: Some(s.slot.map_or(s.slot_text.clone(), |g| g.to_string())),
            dev: s.passthru_path().map(str::to_string),
            argv_index: Some(s.argv_index),
            line: Some(s.line),
            ..Default::default()
        })
        .collect();
    for d in &attempt.devices {
        if !is_passthru_config(d.model.as_deref(), d.path.as_deref()) {
            continue;
        }
        let slot = d.pci_slot.as_deref();
        let found = out
            .iter()
            .position(|r| {
                r.config_resource.is_none()
                    && r.dev.as_deref() == d.path.as_deref()
                    && same_slot(r.guest_slot.as_deref(), slot)
            })
            .or_else(|| {
                out.iter().position(|r| {
                    r.config_resource.is_none()
                        && r.dev.is_some()
                        && r.dev.as_deref() == d.path.as_deref()
                })
            });
        let r = match found {
            Some(i) => &mut out[i],
            None => {
                out.push(DeviceReport {
                    guest_slot: d.pci_slot.clone(),
                    dev: d.path.clone(),
                    line: Some(d.line),
                    ..Default::default()
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        r.config_resource = Some(d.resource.clone());
        r.configured_path = recover_configured(&d.resource, host);
    }
    // zoneadmd failed to resolve a configured path: the device never got
    // as far as the brand.
    for m in &attempt.messages {
        if m.code != "passthru-unresolved" && m.code != "passthru-match-invalid" {
            continue;
        }
        let Some(p) = &m.device else { continue };
        let known = out.iter().any(|r| {
            r.configured_path.as_deref() == Some(p.as_str())
                || r.config_resource.as_deref() == Some(sanitize_env_name(p).as_str())
        });
        if !known {
            out.push(DeviceReport {
                line: Some(m.line),
                config_resource: Some(sanitize_env_name(p)),
                configured_path: Some(p.clone()),
                ..Default::default()
            });
        }
    }
    out
}

/// What the host says about the `/dev/pptN` bhyve was given.
fn fill_now(r: &mut DeviceReport, host: &Host, passed: &mut BTreeSet<Address>) {
    r.now.judged = true;
    if let Some(dev) = &r.dev {
        if let Some(link) = host.ppt_links.iter().find(|l| &l.dev == dev) {
            r.now.dev_exists = true;
            r.now.path = link.path.clone();
        }
    }
    if let Some(f) = r.now.path.as_deref().and_then(|p| function_at(host, p)) {
        passed.insert(f.address);
        r.now.slot = Some(f.address.to_string());
        r.now.ids = Some(f.ids_string());
        r.now.driver = driver_of(f);
        r.now.bound_to_ppt = r.now.driver.as_deref() == Some("ppt");
    }
}

/// What the host says about the configured device.
fn fill_configured(r: &mut DeviceReport, host: &Host, passed: &mut BTreeSet<Address>) {
    let configured_devfs = match r.configured_path.as_deref() {
        Some(p) if p.starts_with("/dev/ppt") => host
            .ppt_links
            .iter()
            .find(|l| l.dev == p)
            .and_then(|l| l.path.clone()),
        Some(p) => devfs_of(p),
        None => None,
    };
    let Some(cp) = &configured_devfs else { return };
    if let Some(f) = function_at(host, cp) {
        passed.insert(f.address);
        r.configured_slot = Some(f.address.to_string());
        r.configured_driver = driver_of(f);
    }
    r.configured_dev_now = host
        .ppt_links
        .iter()
        .find(|l| l.path.as_deref() == Some(cp.as_str()))
        .map(|l| l.dev.clone());
    if let Some(now) = &r.now.path {
        r.resolves_to_config = Some(now == cp);
    }
}

fn fill_host(out: &mut [DeviceReport], host: &Host, check: Checker) -> Option<String> {
    let mut passed: BTreeSet<Address> = BTreeSet::new();
    for r in out.iter_mut() {
        fill_now(r, host, &mut passed);
        fill_configured(r, host, &mut passed);
    }
    // One check over every function involved and its siblings.
    let mut selected: BTreeSet<Address> = passed.clone();
    for f in &host.functions {
        if passed.iter().any(|a| a.same_device(&f.address)) {
            selected.insert(f.address);
        }
    }
    if selected.is_empty() {
        return None;
    }
    let selected: Vec<Address> = selected.into_iter().collect();
    let (report, error) = match check(&selected) {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    for r in out.iter_mut() {
        fill_verdicts(r, host, report.as_ref(), &passed);
    }
    error
}

/// The check's verdict of the device and its siblings.
fn fill_verdicts(
    r: &mut DeviceReport,
    host: &Host,
    report: Option<&Report>,
    passed: &BTreeSet<Address>,
) {
    let verdict_of = |slot: &str| report.and_then(|r| r.functions.iter().find(|f| f.slot == slot));
    let Some(slot) = r.now.slot.clone().or_else(|| r.configured_slot.clone()) else {
        return;
    };
    if let Some(fr) = verdict_of(&slot) {
        if r.now.slot.is_some() {
            r.now.verdict = Some(fr.verdict);
            r.now.reasons = fr
                .reasons
                .iter()
                .filter(|x| x.severity >= Severity::Warn)
                .cloned()
                .collect();
        }
    }
    let Some(me) = host
        .functions
        .iter()
        .find(|f| f.address.to_string() == slot)
    else {
        return;
    };
    r.siblings = host
        .functions
        .iter()
        .filter(|f| f.address != me.address && f.address.same_device(&me.address))
        .map(|f| SiblingView {
            slot: f.address.to_string(),
            path: f.illumos.as_ref().map(|n| n.path.clone()),
            driver: driver_of(f),
            in_vm: passed.contains(&f.address),
            verdict: verdict_of(&f.address.to_string()).map(|x| x.verdict),
        })
        .collect();
}
