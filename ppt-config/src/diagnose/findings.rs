//! Findings: each recognised message and each disagreement between the log
//! and the host, with the device, the likely cause and what to do.

use std::collections::BTreeMap;

use pci_core::Host;
use pci_illumos::platform_log::catalogue::errno_hint;
use pci_illumos::platform_log::{Analysis, Attempt, Message};
use serde::Serialize;

use super::devices::DeviceReport;
use crate::viability::facts::FunctionFacts;
use crate::viability::Severity;

/// One conclusion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case code (docs/diagnose.md lists them).
    pub code: &'static str,
    /// `fail` (the VM did not or will not start as configured), `warn` or
    /// `info`.
    pub severity: Severity,
    /// The log line it comes from, when it comes from one.
    pub line: Option<usize>,
    /// The log message, quoted.
    pub quote: Option<String>,
    /// What happened.
    pub what: String,
    /// Which device, as the log names it and as the host knows it.
    pub device: Option<String>,
    /// The likely cause.
    pub cause: String,
    /// What to do.
    pub action: String,
    /// The source that writes the message or decides the rule.
    pub source: Option<&'static str>,
}

fn finding(
    code: &'static str,
    severity: Severity,
    what: impl Into<String>,
    cause: impl Into<String>,
    action: impl Into<String>,
) -> Finding {
    Finding {
        code,
        severity,
        line: None,
        quote: None,
        what: what.into(),
        device: None,
        cause: cause.into(),
        action: action.into(),
        source: None,
    }
}

/// `f` with the source that decides the rule.
fn sourced(mut f: Finding, source: &'static str) -> Finding {
    f.source = Some(source);
    f
}

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
        _ if r.dev.is_some() && !r.now.dev_exists => s.push_str(" (not on this host)"),
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

fn message_device(m: &Message, devices: &[DeviceReport], host: &Host) -> Option<String> {
    if let Some(d) = &m.device {
        if let Some(r) = devices.iter().find(|r| {
            r.dev.as_deref() == Some(d.as_str())
                || r.configured_path.as_deref() == Some(d.as_str())
                || r.guest_slot.as_deref() == Some(d.as_str())
        }) {
            return Some(describe(r));
        }
        if let Some(p) = d.strip_prefix("/devices") {
            let p = pci_illumos::pptdev::link_devfs_path(&format!("/devices{p}"))
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            if let Some(f) = host
                .functions
                .iter()
                .find(|f| f.illumos.as_ref().is_some_and(|n| n.path == p))
            {
                return Some(format!("{d} = {}", f.address));
            }
            return Some(format!("{d} (no such device on this host)"));
        }
        return Some(d.clone());
    }
    // The message names no device: say which of the VM's devices it can be.
    let suspects: Vec<&DeviceReport> = match m.code {
        "ppt-open-failed" | "ppt-assign-failed" => {
            let bad: Vec<_> = devices
                .iter()
                .filter(|r| r.dev.is_some() && !(r.now.dev_exists && r.now.bound_to_ppt))
                .collect();
            if bad.is_empty() {
                devices.iter().filter(|r| r.dev.is_some()).collect()
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
                .filter(|r| memory_bars(r, host) > 1)
                .collect();
            if many.is_empty() {
                devices.iter().filter(|r| r.dev.is_some()).collect()
            } else {
                many
            }
        }
        _ if m.pattern.origin == pci_illumos::platform_log::catalogue::Origin::Bhyve => {
            devices.iter().filter(|r| r.dev.is_some()).collect()
        }
        _ => Vec::new(),
    };
    match suspects.as_slice() {
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

/// How many memory BARs the host function behind `r` has.
fn memory_bars(r: &DeviceReport, host: &Host) -> usize {
    let Some(slot) = &r.now.slot else { return 0 };
    host.functions
        .iter()
        .find(|f| &f.address.to_string() == slot)
        .map(|f| {
            FunctionFacts::extract(f)
                .bars
                .iter()
                .filter(|b| b.kind != crate::viability::facts::BarKind::Io)
                .count()
        })
        .unwrap_or(0)
}

fn from_message(m: &Message, devices: &[DeviceReport], host: &Host) -> Finding {
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
        if let Some(i) = &host.facts.iommu {
            if !i.present {
                cause = format!("this host has no IOMMU enabled ({}); {cause}", i.evidence);
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
        device: message_device(m, devices, host),
        cause,
        action: p.action.to_string(),
        source: Some(p.source),
    }
}

fn device_findings(r: &DeviceReport, out: &mut Vec<Finding>) {
    let dev_text = describe(r);
    let with = |mut f: Finding| {
        f.device = Some(dev_text.clone());
        f.line = r.line;
        f
    };
    if let Some(dev) = &r.dev {
        if !r.now.dev_exists {
            let configured = match (&r.configured_path, &r.configured_dev_now) {
                (Some(c), Some(now)) => format!("; the configured {c} is {now} now"),
                (Some(c), None) => format!("; the configured {c} has no /dev/ppt link now"),
                _ => String::new(),
            };
            out.push(with(sourced(finding(
                "ppt-missing",
                Severity::Fail,
                format!("bhyve was given {dev}, which does not exist on this host{configured}"),
                "the device is not attached to ppt now (not reserved at the last boot, or its attach failed), or the /dev/pptN numbering changed since that boot",
                "pptctl list -a shows the ppt devices; reserve the device (pptctl reserve) and reboot; configure pci_devices by /devices path so zoneadmd resolves the number at each start",
            ), "devfsadm ppt links: /dev/pptN = ppt instance (docs/illumos.md)")));
        } else if r.now.slot.is_none() {
            out.push(with(sourced(finding(
                "ppt-stale",
                Severity::Fail,
                format!(
                    "{dev} leads to {}, which is no device of this host",
                    r.now.path.as_deref().unwrap_or("nothing")
                ),
                "a stale /dev/ppt link: the device is gone or was renamed; libppt then fails for every VM",
                "remove the stale link (devfsadm -C) and reserve the device again",
            ), "libppt ppt_list_assigned (docs/illumos.md)")));
        } else if !r.now.bound_to_ppt {
            out.push(with(finding(
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
    if r.dev.is_none() {
        // zoneadmd stopped before bhyve: what is the configured device now?
        match (&r.configured_slot, r.configured_driver.as_deref(), &r.configured_dev_now) {
            (Some(slot), Some("ppt"), Some(dev)) => out.push(with(finding(
                "resolves-now",
                Severity::Info,
                format!("{slot} is on ppt as {dev} now: zoneadmd would resolve it at the next start"),
                "the device was not on ppt, or a /dev/ppt link was stale, when the VM was started",
                "start the VM again; if it fails the same way, pptctl list -a shows what libppt sees",
            ))),
            (Some(slot), driver, _) if driver != Some("ppt") => out.push(with(finding(
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
    match (&r.config_resource, &r.configured_path) {
        (Some(res), None) => out.push(with(sourced(finding(
            "configured-device-unknown",
            Severity::Fail,
            format!("the zone configuration names a device ({res}) that matches no device of this host"),
            "the device was removed or moved to another slot, or the configuration is from another host",
            "update the VM's pci_devices with the device's current /devices path (pptctl vm-json)",
        ), "zoneadmd.c set_zonecfg_env, sanitize_env_var_name"))),
        (_, Some(c)) if c.starts_with("/dev/ppt") => out.push(with(sourced(finding(
            "config-names-ppt",
            Severity::Warn,
            format!("the zone configuration names {c} directly instead of a /devices path"),
            "/dev/pptN numbers are ppt instance numbers, assigned at attach and not stable across boots; illumos-joyent's zoneadmd rejects such a match (resolve_device_match)",
            "configure the device by its /devices path (pptctl vm-json prints it)",
        ), "zoneadmd.c resolve_device_match"))),
        (_, Some(c)) if r.configured_slot.is_none() => out.push(with(finding(
            "configured-device-absent",
            Severity::Fail,
            format!("the configured {c} is no device of this host"),
            "the device is gone, moved, or the path is mistyped",
            "pptctl show -d VENDOR:DEVICE finds the device's path now",
        ))),
        _ => {}
    }
    if r.in_zone_config
        && r.dev.is_some()
        && !same_guest_slot(r.guest_slot.as_deref(), r.zone_pci_slot.as_deref())
    {
        out.push(with(finding(
            "config-changed",
            Severity::Warn,
            format!(
                "the zone configuration now gives pci_slot {}, the logged start used {}",
                r.zone_pci_slot.as_deref().unwrap_or("none"),
                r.guest_slot.as_deref().unwrap_or("none")
            ),
            "the VM was updated after the logged start",
            "start the VM again to see the current configuration at work",
        )));
    }
    if r.resolves_to_config == Some(false) {
        out.push(with(sourced(finding(
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
            out.push(with(finding(
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
            )));
        }
    }
    for s in &r.siblings {
        if !s.in_vm && s.driver.as_deref() != Some("ppt") {
            out.push(with(finding(
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

fn slot_findings(a: &Attempt, out: &mut Vec<Finding>) {
    let mut by_slot: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for s in &a.slots {
        if let Some(g) = s.slot {
            by_slot.entry(g).or_default().push(s);
        }
    }
    for (g, uses) in &by_slot {
        if uses.len() > 1 {
            let mut f = finding(
                "guest-slot-conflict",
                Severity::Fail,
                format!(
                    "guest slot {g} is given to {} devices: {}",
                    uses.len(),
                    uses.iter()
                        .map(|s| format!("argv[{}] {},{}", s.argv_index, s.emulation, s.config))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                "two devices in the VM configuration have the same pci_slot (bhyve refuses: pci_emul.c pci_parse_slot)",
                "give each device its own slot; pptctl vm-json --check validates a payload",
            );
            f.line = Some(uses[1].line);
            f.source = Some("bhyve pci_emul.c pci_parse_slot");
            out.push(f);
        }
    }
    for s in a.passthru() {
        let Some(g) = s.slot else { continue };
        if g.function != 0
            && !by_slot
                .keys()
                .any(|o| o.bus == g.bus && o.device == g.device && o.function == 0)
        {
            let mut f = finding(
                "no-function-0",
                Severity::Warn,
                format!("guest slot {g} has no function 0 on {}:{}", g.bus, g.device),
                "guests look for the other functions of a slot only when function 0 exists",
                "put the device's function 0 (or the single function) at function 0 of the slot",
            );
            f.line = Some(s.line);
            out.push(f);
        }
    }
}

/// The check could not run (its configuration files are unreadable).
pub fn check_unavailable(error: &str) -> Finding {
    finding(
        "check-unavailable",
        Severity::Warn,
        "the devices' check verdicts are missing: the check could not run",
        error.to_string(),
        "pptctl check shows the same error",
    )
}

/// All findings for the analysis and the joined devices.
pub fn build(analysis: &Analysis, devices: &[DeviceReport], host: &Host) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(a) = &analysis.last else {
        for r in devices {
            device_findings(r, &mut out);
        }
        out.push(finding(
            "no-boot-attempt",
            Severity::Fail,
            format!(
                "the log ({} lines) shows no boot attempt: no add_arg line and no recognised message",
                analysis.lines.total
            ),
            "zoneadmd logs the bhyve arguments only with debug logging, or this is not a bhyve zone's platform.log",
            "boot the VM once more and read /zones/UUID/logs/platform.log again",
        ));
        push_log_notes(analysis, &mut out);
        return out;
    };
    for m in &a.messages {
        out.push(from_message(m, devices, host));
    }
    if a.messages_dropped > 0 {
        out.push(finding(
            "more-messages",
            Severity::Info,
            format!(
                "{} more recognised messages are not shown",
                a.messages_dropped
            ),
            "the attempt repeats the same failures",
            "",
        ));
    }
    for r in devices {
        device_findings(r, &mut out);
    }
    slot_findings(a, &mut out);
    if devices.is_empty() && a.messages.is_empty() {
        out.push(finding(
            "no-passthru",
            Severity::Info,
            "the attempt passes no device through",
            "the VM has no pci_devices",
            "",
        ));
    }
    // The brand adds the VM name last (boot.c add_vmname: SYSbhyve-<id>):
    // without it the command line was never finished.
    if let Some((i, last)) = a.argv.iter().next_back() {
        if !last.starts_with("SYSbhyve-") && !a.has_problem() {
            let mut f = finding(
                "argv-incomplete",
                Severity::Fail,
                format!(
                    "the log stops before the brand finished bhyve's command line: the last argument is argv[{i}]='{last}', not the VM name (SYSbhyve-…)"
                ),
                "the brand's boot program stopped without a message pptctl knows, or the log is cut",
                "read the lines quoted below; boot the VM again and read the end of its platform.log",
            );
            f.line = a.argv_line(*i);
            f.source = Some("bhyve brand boot.c main, add_vmname");
            out.push(f);
        }
    }
    if a.argv.is_empty() && !a.has_problem() {
        out.push(finding(
            "no-bhyve-arguments",
            Severity::Fail,
            "the last attempt has no bhyve arguments: the brand never built a command line",
            "zoneadmd stopped before the brand's boot program ran, or the log is cut",
            "read the lines quoted below",
        ));
    }
    push_log_notes(analysis, &mut out);
    out
}

fn push_log_notes(analysis: &Analysis, out: &mut Vec<Finding>) {
    let l = &analysis.lines;
    if analysis.earlier_problems > 0 {
        out.push(finding(
            "earlier-attempts",
            Severity::Info,
            format!(
                "{} earlier boot attempts in the log had {} recognised problems; only the last attempt is diagnosed",
                analysis.attempts.saturating_sub(1),
                analysis.earlier_problems
            ),
            "",
            "",
        ));
    }
    if l.unrecognised > 0 {
        out.push(finding(
            "unrecognised-messages",
            Severity::Info,
            format!(
                "{} lines carry messages pptctl does not recognise (quoted below)",
                l.unrecognised
            ),
            "",
            "read them: pptctl reports only what it knows",
        ));
    }
    let damaged = l.truncated + l.invalid_utf8 + l.binary + l.malformed_json;
    if damaged > 0 {
        out.push(finding(
            "log-damaged",
            Severity::Info,
            format!(
                "{} lines cut at {} bytes, {} not UTF-8, {} with binary data, {} unbalanced JSON",
                l.truncated,
                pci_illumos::platform_log::lines::MAX_LINE_BYTES,
                l.invalid_utf8,
                l.binary,
                l.malformed_json
            ),
            "a log written while the disk filled, cut by rotation, or concatenated with other data",
            "",
        ));
    }
}
