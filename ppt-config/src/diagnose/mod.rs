//! `pptctl diagnose`: a bhyve zone's platform.log joined with the host.
//!
//! [`pci_illumos::platform_log`] reconstructs what zoneadmd asked for (the
//! bhyve argument vector, the pass-through devices and their guest slots,
//! the zone configuration) and recognises the failure messages. Here each
//! pass-through device is joined with the host ([`devices`]: which function
//! its `/dev/pptN` is now, whether it exists and is bound to ppt, whether
//! the configured `/devices` path resolves to it, the `check` verdict of it
//! and its siblings), and every message and disagreement becomes a
//! [`Finding`] saying what happened, on which device, the likely cause and
//! what to do ([`findings`], [`messages`], [`device_findings`]). Without a
//! host the log is read alone and the findings say what it cannot tell.
//! [`zone_log`] finds a zone's log under the root. docs/diagnose.md
//! documents the JSON.

pub mod device_findings;
pub mod devices;
pub mod finding;
pub mod findings;
pub mod messages;
pub mod zone_log;

use pci_core::Address;
use pci_illumos::platform_log::analysis::{LineCounts, Quote};
use pci_illumos::platform_log::Analysis;
use serde::Serialize;

use crate::viability::Severity;
use crate::zones::ZoneDevice;

pub use devices::{Checker, DeviceReport, HostView, SiblingView};
pub use finding::{Finding, JudgedHost};

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The last boot attempt shows no failure and the host agrees with it.
    Clean,
    /// At least one finding of severity `fail`.
    Problem,
}

/// Unrecognised messages: how many, and the first and last ones quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnrecognisedView {
    /// How many lines carried a message pptctl does not recognise.
    pub total: usize,
    /// Quoted lines (first ones, then last ones; none repeated).
    pub quoted: Vec<Quote>,
}

/// The last boot attempt as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptView {
    /// First and last log line of the attempt.
    pub lines: (usize, usize),
    /// Time of its first line, when the log has times.
    pub time: Option<String>,
    /// The VM's UUID (bhyve `-U`), when logged.
    pub uuid: Option<String>,
    /// The VM's name in vmm (the brand's last argument, `SYSbhyve-<did>`
    /// or `SYSbhyve-unknown`), when logged.
    pub vm_name: Option<String>,
    /// bhyve's arguments in order, as logged (the brand logs from index 2).
    pub argv: Vec<ArgvEntry>,
}

/// One logged bhyve argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgvEntry {
    /// `N` of `argv[N]`.
    pub index: usize,
    /// The argument.
    pub value: String,
    /// Log line.
    pub line: Option<usize>,
}

/// Everything `pptctl diagnose` reports; serializes to the documented JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// `clean` or `problem`.
    pub outcome: Outcome,
    /// The host the log was judged against (how findings name it); `null`
    /// when the log was read alone.
    pub host: Option<String>,
    /// What the lines of the log were.
    pub log: LineCounts,
    /// How many boot attempts the log shows (the last one is diagnosed).
    pub attempts: usize,
    /// Problems recognised in earlier attempts (not diagnosed).
    pub earlier_problems: usize,
    /// The diagnosed attempt, if the log has one.
    pub attempt: Option<AttemptView>,
    /// One entry per pass-through device of the attempt.
    pub devices: Vec<DeviceReport>,
    /// What pptctl concluded, worst first.
    pub findings: Vec<Finding>,
    /// Messages pptctl does not recognise, quoted.
    pub unrecognised: UnrecognisedView,
}

/// Why there is nothing to diagnose.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiagnoseError {
    /// Binary data with no line a platform.log holds.
    #[error("not a platform.log: {lines} lines, {binary} with binary data, {invalid} not UTF-8, and not one zoneadmd or bhyve message")]
    NotALog {
        /// Lines read.
        lines: usize,
        /// Lines with control bytes.
        binary: usize,
        /// Lines not valid UTF-8.
        invalid: usize,
    },
}

/// Joins `analysis` and the zone's configured devices (`zone`, from
/// `/etc/zones/NAME.xml`; empty when unknown) with the session's host,
/// named `label` in the findings; verdicts come from
/// [`Session::check`](crate::session::Session::check), so the pending
/// configuration (`--root`, `--boot-media`) is part of them.
pub fn diagnose(
    analysis: &Analysis,
    zone: &[ZoneDevice],
    session: &crate::session::Session,
    label: &str,
) -> Result<Diagnosis, DiagnoseError> {
    let check = |functions: &[Address]| {
        let sels: Vec<crate::selector::Selector> = functions
            .iter()
            .map(|a| crate::selector::Selector::Slot(*a))
            .collect();
        session
            .check(&sels, Vec::new())
            .map(|answer| answer.report)
            .map_err(|e| e.to_string())
    };
    let host = JudgedHost {
        host: session.host(),
        label,
    };
    diagnose_judged(analysis, zone, Some(host), &check)
}

/// Joins `analysis` with `host`, asking `check` for verdicts.
pub fn diagnose_host(
    analysis: &Analysis,
    zone: &[ZoneDevice],
    host: JudgedHost<'_>,
    check: Checker,
) -> Result<Diagnosis, DiagnoseError> {
    diagnose_judged(analysis, zone, Some(host), check)
}

/// The log read alone: what zoneadmd, the brand and bhyve wrote, and a
/// finding (`host-not-judged`) that says what only the host can tell.
pub fn diagnose_log(analysis: &Analysis, zone: &[ZoneDevice]) -> Result<Diagnosis, DiagnoseError> {
    diagnose_judged(analysis, zone, None, &|_| {
        Err("no host was given".to_string())
    })
}

fn diagnose_judged(
    analysis: &Analysis,
    zone: &[ZoneDevice],
    judged: Option<JudgedHost<'_>>,
    check: Checker,
) -> Result<Diagnosis, DiagnoseError> {
    if analysis.is_not_a_log() {
        return Err(DiagnoseError::NotALog {
            lines: analysis.lines.total,
            binary: analysis.lines.binary,
            invalid: analysis.lines.invalid_utf8,
        });
    }
    let (devices, check_error) =
        devices::join(analysis.last.as_ref(), zone, judged.map(|j| j.host), check);
    let mut findings = findings::build(analysis, &devices, judged);
    if let Some(e) = check_error {
        findings.push(finding::check_unavailable(&e));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let outcome = if findings.iter().any(|f| f.severity == Severity::Fail) {
        Outcome::Problem
    } else {
        Outcome::Clean
    };
    let u = &analysis.unrecognised;
    Ok(Diagnosis {
        outcome,
        host: judged.map(|j| j.label.to_string()),
        log: analysis.lines.clone(),
        attempts: analysis.attempts,
        earlier_problems: analysis.earlier_problems,
        attempt: analysis.last.as_ref().map(attempt_view),
        devices,
        findings,
        unrecognised: UnrecognisedView {
            total: analysis.lines.unrecognised,
            quoted: u.first.iter().chain(u.last.iter()).cloned().collect(),
        },
    })
}

fn attempt_view(a: &pci_illumos::platform_log::Attempt) -> AttemptView {
    AttemptView {
        lines: (a.first_line, a.last_line),
        time: a.time.clone(),
        uuid: a.uuid().map(str::to_string),
        vm_name: a.vm_name().map(str::to_string),
        argv: a
            .argv
            .iter()
            .map(|(i, v)| ArgvEntry {
                index: *i,
                value: v.clone(),
                line: a.argv_line(*i),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
