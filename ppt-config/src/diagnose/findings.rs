//! Findings: each recognised message and each disagreement between the log
//! and the host, with the device, the likely cause and what to do. The
//! findings about messages are [`super::messages`]', about each device
//! [`super::device_findings`]'.

use std::collections::BTreeMap;

use pci_illumos::platform_log::analysis::VM_NAME_UNKNOWN;
use pci_illumos::platform_log::{Analysis, Attempt};

use super::device_findings::device_findings;
use super::devices::DeviceReport;
use super::finding::{finding, Finding, JudgedHost};
use super::messages::from_message;
use crate::viability::Severity;

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

/// All findings for the analysis and the joined devices.
pub fn build(
    analysis: &Analysis,
    devices: &[DeviceReport],
    judged: Option<JudgedHost<'_>>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(a) = &analysis.last else {
        for r in devices {
            device_findings(r, judged.map(|j| j.label), &mut out);
        }
        push_not_judged(judged, devices, &mut out);
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
        out.push(from_message(m, devices, judged, a.vm_name()));
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
        device_findings(r, judged.map(|j| j.label), &mut out);
    }
    push_not_judged(judged, devices, &mut out);
    slot_findings(a, &mut out);
    push_attempt_notes(a, devices, &mut out);
    push_log_notes(analysis, &mut out);
    out
}

/// Notes about the attempt as a whole: no device, an unfinished command
/// line, the VM's name.
fn push_attempt_notes(a: &Attempt, devices: &[DeviceReport], out: &mut Vec<Finding>) {
    if devices.is_empty() && a.messages.is_empty() {
        out.push(finding(
            "no-passthru",
            Severity::Info,
            "the attempt passes no device through",
            "the VM has no pci_devices",
            "",
        ));
    }
    // The brand adds the VM name last (boot.c add_vmname: SYSbhyve-<did>):
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
    if a.vm_name() == Some(VM_NAME_UNKNOWN) {
        let mut f = finding(
            "vm-name-unknown",
            Severity::Warn,
            format!("the brand named the VM {VM_NAME_UNKNOWN}: zoneadmd gave it no _ZONECFG_did"),
            format!("the brand names a VM SYSbhyve-<did> from the _ZONECFG_did zoneadmd exports, and {VM_NAME_UNKNOWN} when that is unset or empty; every such VM gets the same name, so while one runs another fails to create its vmm instance (vm_create)"),
            format!("look for a leftover instance (bhyvectl --vm={VM_NAME_UNKNOWN} --destroy in the global zone) and check the zone's debug ID (zoneadm list -p shows it)"),
        );
        f.line = a.argv.keys().next_back().and_then(|i| a.argv_line(*i));
        f.source = Some("bhyve brand boot.c add_vmname");
        out.push(f);
    }
}

/// Without a host, say what the log alone cannot tell.
fn push_not_judged(
    judged: Option<JudgedHost<'_>>,
    devices: &[DeviceReport],
    out: &mut Vec<Finding>,
) {
    if judged.is_some() {
        return;
    }
    out.push(finding(
        "host-not-judged",
        Severity::Info,
        format!(
            "the log is read alone: no host was given, so for {} device{} it is not known whether its /dev/pptN exists now, which function it is, whether it is on ppt, whether the configured path resolves to it, or what pptctl check says",
            devices.len(),
            if devices.len() == 1 { "" } else { "s" }
        ),
        "a log read away from its host (a copy on a workstation) says only what zoneadmd, the brand and bhyve wrote",
        "run pptctl diagnose on the VM's host, or give the host: --from snapshot:FILE (pptctl snapshot on the host) or --from devinfo:FILE with --root DIR",
    ));
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
