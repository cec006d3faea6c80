//! Findings from each device of the VM: what the log says it was given or
//! configured with, against what the host has now.

use super::devices::DeviceReport;
use super::finding::{finding, sourced, Finding};
use crate::viability::Severity;

/// `guest 0:8:0 /dev/ppt0 = 0000:01:00.0 /pci@0,0/... (ppt)`.
pub fn describe(r: &DeviceReport) -> String {
    let mut s = String::new();
    if let Some(g) = &r.guest_slot {
        s.push_str(&format!("guest {g} "));
    }
    match (&r.dev, &r.configured_path) {
        (Some(d), _) => s.push_str(d),
        (None, Some(c)) => s.push_str(c),
        (None, None) => s.push_str("(no path)"),
    }
    match (&r.now.slot, &r.now.path) {
        (Some(slot), Some(path)) => s.push_str(&format!(
            " = {slot} {path} ({})",
            r.now.driver.as_deref().unwrap_or("no driver")
        )),
        (None, Some(path)) => s.push_str(&format!(" -> {path} (no such device)")),
        _ if r.dev.is_some() && r.now.judged && !r.now.dev_exists => {
            s.push_str(" (no such link on the host)")
        }
        _ => {
            if let (None, Some(slot)) = (&r.dev, &r.configured_slot) {
                s.push_str(&format!(
                    " = {slot} ({}), {} now",
                    r.configured_driver.as_deref().unwrap_or("no driver"),
                    r.configured_dev_now
                        .as_deref()
                        .unwrap_or("no /dev/ppt link")
                ));
            }
        }
    }
    s
}

/// `f` about device `r`: its description and log line.
fn on(r: &DeviceReport, mut f: Finding) -> Finding {
    f.device = Some(describe(r));
    f.line = r.line;
    f
}

/// The findings for one device; `label` names the host it was joined with
/// (`None`: the log is read alone, and only what the log itself shows is
/// judged).
pub fn device_findings(r: &DeviceReport, label: Option<&str>, out: &mut Vec<Finding>) {
    if let Some(label) = label {
        given_device(r, label, out);
        unresolved_device(r, out);
    }
    configured_device(r, label, out);
    config_changed(r, out);
    if label.is_some() {
        renumbered(r, out);
        verdicts(r, out);
    }
}

/// The `/dev/pptN` bhyve was given, on the host now.
fn given_device(r: &DeviceReport, label: &str, out: &mut Vec<Finding>) {
    if let Some(dev) = &r.dev {
        if !r.now.dev_exists {
            let configured = match (&r.configured_path, &r.configured_dev_now) {
                (Some(c), Some(now)) => format!("; the configured {c} is {now} now"),
                (Some(c), None) => format!("; the configured {c} has no /dev/ppt link now"),
                _ => String::new(),
            };
            out.push(on(r, sourced(finding(
                "ppt-missing",
                Severity::Fail,
                format!("bhyve was given {dev}, which does not exist on {label}{configured}"),
                "the device is not attached to ppt now (not reserved at the last boot, or its attach failed), or the /dev/pptN numbering changed since that boot",
                "pptctl list -a shows the ppt devices; reserve the device (pptctl reserve) and reboot; configure pci_devices by /devices path so zoneadmd resolves the number at each start",
            ), "devfsadm ppt links: /dev/pptN = ppt instance (docs/illumos.md)")));
        } else if r.now.slot.is_none() {
            out.push(on(r, sourced(finding(
                "ppt-stale",
                Severity::Fail,
                format!(
                    "{dev} leads to {}, which is no device of {label}",
                    r.now.path.as_deref().unwrap_or("nothing")
                ),
                "a stale /dev/ppt link: the device is gone or was renamed; libppt then fails for every VM",
                "remove the stale link (devfsadm -C) and reserve the device again",
            ), "libppt ppt_list_assigned (docs/illumos.md)")));
        } else if !r.now.bound_to_ppt {
            out.push(on(r, finding(
                "not-on-ppt",
                Severity::Fail,
                format!(
                    "{dev} is {} but it is bound to {} now, not ppt",
                    r.now.slot.as_deref().unwrap_or("?"),
                    r.now.driver.as_deref().unwrap_or("no driver")
                ),
                "the ppt attach failed or another driver took the device",
                "pptctl check and pptctl match show why; reserve it (pptctl reserve) and reboot",
            )));
        }
    }
}

/// A configured device zoneadmd never resolved, on the host now.
fn unresolved_device(r: &DeviceReport, out: &mut Vec<Finding>) {
    if r.dev.is_none() {
        // zoneadmd stopped before bhyve: what is the configured device now?
        match (&r.configured_slot, r.configured_driver.as_deref(), &r.configured_dev_now) {
            (Some(slot), Some("ppt"), Some(dev)) => out.push(on(r, finding(
                "resolves-now",
                Severity::Info,
                format!("{slot} is on ppt as {dev} now: zoneadmd would resolve it at the next start"),
                "the device was not on ppt, or a /dev/ppt link was stale, when the VM was started",
                "start the VM again; if it fails the same way, pptctl list -a shows what libppt sees",
            ))),
            (Some(slot), driver, _) if driver != Some("ppt") => out.push(on(r, finding(
                "not-on-ppt",
                Severity::Fail,
                format!(
                    "the configured {} ({slot}) is bound to {} now, not ppt",
                    r.configured_path.as_deref().unwrap_or("?"),
                    driver.unwrap_or("no driver")
                ),
                "no ppt_aliases entry for it at the last boot, or the ppt attach failed",
                "reserve it (pptctl reserve) and reboot; pptctl check shows why an attach would fail",
            ))),
            _ => {}
        }
    }
}

/// The configured device: named by `/dev/pptN`, or not on the host.
fn configured_device(r: &DeviceReport, label: Option<&str>, out: &mut Vec<Finding>) {
    if let (_, Some(c)) = (&r.config_resource, &r.configured_path) {
        if c.starts_with("/dev/ppt") {
            out.push(on(r, sourced(finding(
                "config-names-ppt",
                Severity::Warn,
                format!("the zone configuration names {c} directly instead of a /devices path"),
                "/dev/pptN numbers are ppt instance numbers, assigned at attach and not stable across boots; illumos-joyent's zoneadmd rejects such a match (resolve_device_match)",
                "configure the device by its /devices path (pptctl vm-json prints it)",
            ), "zoneadmd.c resolve_device_match")));
            return;
        }
    }
    let Some(label) = label else { return };
    match (&r.config_resource, &r.configured_path) {
        (Some(res), None) => out.push(on(r, sourced(finding(
            "configured-device-unknown",
            Severity::Fail,
            format!("the zone configuration names a device ({res}) that matches no device of {label}"),
            "the device was removed or moved to another slot, or the configuration is from another host",
            "update the VM's pci_devices with the device's current /devices path (pptctl vm-json)",
        ), "zoneadmd.c set_zonecfg_env, sanitize_env_var_name"))),
        (_, Some(c)) if r.configured_slot.is_none() => out.push(on(r, finding(
            "configured-device-absent",
            Severity::Fail,
            format!("the configured {c} is no device of {label}"),
            "the device is gone, moved, or the path is mistyped",
            "pptctl show -d VENDOR:DEVICE finds the device's path now",
        ))),
        _ => {}
    }
}

/// The zone configuration now differs from the logged start.
fn config_changed(r: &DeviceReport, out: &mut Vec<Finding>) {
    if r.in_zone_config
        && r.dev.is_some()
        && !same_guest_slot(r.guest_slot.as_deref(), r.zone_pci_slot.as_deref())
    {
        out.push(on(
            r,
            finding(
                "config-changed",
                Severity::Warn,
                format!(
                    "the zone configuration now gives pci_slot {}, the logged start used {}",
                    r.zone_pci_slot.as_deref().unwrap_or("none"),
                    r.guest_slot.as_deref().unwrap_or("none")
                ),
                "the VM was updated after the logged start",
                "start the VM again to see the current configuration at work",
            ),
        ));
    }
}

/// The configured path and bhyve's `/dev/pptN` are different functions now.
fn renumbered(r: &DeviceReport, out: &mut Vec<Finding>) {
    if r.resolves_to_config == Some(false) {
        out.push(on(r, sourced(finding(
            "ppt-renumbered",
            Severity::Warn,
            format!(
                "the configured {} is {} now, but bhyve was given {}, which is {} now",
                r.configured_path.as_deref().unwrap_or("?"),
                r.configured_dev_now.as_deref().unwrap_or("no /dev/ppt link"),
                r.dev.as_deref().unwrap_or("?"),
                r.now.slot.as_deref().unwrap_or("?"),
            ),
            "ppt instance numbers changed since that boot (or the log is from another host)",
            "nothing if the VM starts now: zoneadmd resolves the path at each start; otherwise reserve the device again",
        ), "zoneadmd.c resolve_device_match (at each start)")));
    }
}

/// The check's verdict and the siblings left with the host.
fn verdicts(r: &DeviceReport, out: &mut Vec<Finding>) {
    if let Some(v) = r.now.verdict {
        if v != crate::viability::Verdict::Ok {
            let reasons: Vec<String> = r
                .now
                .reasons
                .iter()
                .map(|x| format!("{} {}: {}", x.severity, x.code, x.message))
                .collect();
            let severity = if v == crate::viability::Verdict::Fail {
                Severity::Fail
            } else {
                Severity::Info
            };
            out.push(on(
                r,
                finding(
                    if severity == Severity::Fail {
                        "check-fail"
                    } else {
                        "check-warn"
                    },
                    severity,
                    format!(
                        "pptctl check says {v} for {}",
                        r.now.slot.as_deref().unwrap_or("?")
                    ),
                    reasons.join("; "),
                    "pptctl check shows each reason with its hint",
                ),
            ));
        }
    }
    for s in &r.siblings {
        if !s.in_vm && s.driver.as_deref() != Some("ppt") {
            out.push(on(r, finding(
                "sibling-on-host",
                Severity::Warn,
                format!(
                    "{} of the same device stays with the host ({})",
                    s.slot,
                    s.driver.as_deref().unwrap_or("no driver")
                ),
                "functions of one device share reset and often the IOMMU's view; a GPU's audio function is the usual case",
                "pass every function of the device to the same VM (pptctl vm-json SLOT does)",
            )));
        }
    }
}

fn same_guest_slot(a: Option<&str>, b: Option<&str>) -> bool {
    use pci_illumos::platform_log::argv::GuestSlot;
    match (a, b) {
        (Some(a), Some(b)) => match (GuestSlot::parse(a), GuestSlot::parse(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        (None, None) => true,
        _ => false,
    }
}
