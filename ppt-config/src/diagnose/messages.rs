//! Findings from recognised messages: what the message means, and which of
//! the VM's devices it is about when it names none.

use pci_core::Host;
use pci_illumos::platform_log::catalogue::{errno_hint, Origin};
use pci_illumos::platform_log::Message;

use super::device_findings::describe;
use super::devices::DeviceReport;
use super::finding::{Finding, JudgedHost};
use crate::viability::facts::FunctionFacts;
use crate::viability::Severity;

fn message_device(
    m: &Message,
    devices: &[DeviceReport],
    judged: Option<JudgedHost<'_>>,
) -> Option<String> {
    if let Some(d) = &m.device {
        if let Some(r) = devices.iter().find(|r| {
            r.dev.as_deref() == Some(d.as_str())
                || r.configured_path.as_deref() == Some(d.as_str())
                || r.guest_slot.as_deref() == Some(d.as_str())
        }) {
            return Some(describe(r));
        }
        if let (Some(p), Some(j)) = (d.strip_prefix("/devices"), judged) {
            let p = pci_illumos::pptdev::link_devfs_path(&format!("/devices{p}"))
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            if let Some(f) = j
                .host
                .functions
                .iter()
                .find(|f| f.illumos.as_ref().is_some_and(|n| n.path == p))
            {
                return Some(format!("{d} = {}", f.address));
            }
            return Some(format!("{d} (no such device on {})", j.label));
        }
        return Some(d.clone());
    }
    suspects_text(&suspects(m, devices, judged.map(|j| j.host)))
}

/// The VM's devices a message that names none can be about.
fn suspects<'r>(
    m: &Message,
    devices: &'r [DeviceReport],
    host: Option<&Host>,
) -> Vec<&'r DeviceReport> {
    let given = || {
        devices
            .iter()
            .filter(|r| r.dev.is_some())
            .collect::<Vec<_>>()
    };
    match m.code {
        "ppt-open-failed" | "ppt-assign-failed" => {
            let bad: Vec<_> = devices
                .iter()
                .filter(|r| r.dev.is_some() && !(r.now.dev_exists && r.now.bound_to_ppt))
                .collect();
            if bad.is_empty() {
                given()
            } else {
                bad
            }
        }
        "bar-registration-assert"
        | "mmio-map-failed"
        | "bar-init-failed"
        | "bar-not-page-aligned" => {
            let many: Vec<_> = devices
                .iter()
                .filter(|r| host.is_some_and(|h| memory_bars(r, h) > 1))
                .collect();
            if many.is_empty() {
                given()
            } else {
                many
            }
        }
        // cfginitmsi fails only for a device without a capability list.
        "msi-init-failed" => {
            let bare: Vec<_> = devices
                .iter()
                .filter(|r| host.and_then(|h| cap_list(r, h)) == Some(false))
                .collect();
            if bare.is_empty() {
                given()
            } else {
                bare
            }
        }
        _ if m.pattern.origin == Origin::Bhyve => given(),
        _ => Vec::new(),
    }
}

/// The device text for the suspects of a message that names none.
fn suspects_text(suspects: &[&DeviceReport]) -> Option<String> {
    match suspects {
        [] => None,
        [one] => Some(format!(
            "likely {} (the message names no device)",
            describe(one)
        )),
        many => Some(format!(
            "the message names no device; one of: {}",
            many.iter()
                .map(|r| describe(r))
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

/// The facts of the host function behind `r`.
fn facts_of(r: &DeviceReport, host: &Host) -> Option<FunctionFacts> {
    let slot = r.now.slot.as_ref()?;
    host.functions
        .iter()
        .find(|f| &f.address.to_string() == slot)
        .map(FunctionFacts::extract)
}

/// How many memory BARs the host function behind `r` has.
fn memory_bars(r: &DeviceReport, host: &Host) -> usize {
    facts_of(r, host).map_or(0, |f| {
        f.bars
            .iter()
            .filter(|b| b.kind != crate::viability::facts::BarKind::Io)
            .count()
    })
}

/// Whether the host function behind `r` has a capability list (status
/// register bit 4), when its config space was read.
fn cap_list(r: &DeviceReport, host: &Host) -> Option<bool> {
    facts_of(r, host).and_then(|f| f.cap_list)
}

/// The finding for one recognised message; `vm_name` is the VM's name in
/// vmm, for the actions that name it.
pub fn from_message(
    m: &Message,
    devices: &[DeviceReport],
    judged: Option<JudgedHost<'_>>,
    vm_name: Option<&str>,
) -> Finding {
    let p = m.pattern;
    let mut cause = p.cause.to_string();
    if m.code == "passthru-unresolved" {
        // libppt's ppt_devpath_to_dev returns its error without setting
        // errno, so zoneadmd's strerror text can be stale (illumos-joyent
        // zoneadmd.c `setup_subproc_env`).
        if let Some(e) = &m.errno {
            cause = format!("{cause} (the error text \"{e}\" may be stale: libppt returns its code without setting errno)");
        }
    } else if let Some(hint) = m.errno.as_deref().and_then(errno_hint) {
        cause = format!("{hint}; {cause}");
    }
    if m.code == "ppt-assign-failed" {
        if let Some((i, label)) =
            judged.and_then(|j| j.host.facts.iommu.as_ref().map(|i| (i, j.label)))
        {
            if !i.present {
                cause = format!("{label} has no IOMMU enabled ({}); {cause}", i.evidence);
            }
        }
    }
    Finding {
        code: p.code,
        severity: if p.problem {
            Severity::Fail
        } else {
            Severity::Info
        },
        line: Some(m.line),
        quote: Some(m.text.clone()),
        what: p.what.to_string(),
        device: message_device(m, devices, judged),
        cause,
        action: match vm_name {
            Some(name) => p.action.replace("--vm=NAME", &format!("--vm={name}")),
            None => p.action.to_string(),
        },
        source: Some(p.source),
    }
}
