//! Pass-through viability: per function, for the host, and for the pending
//! configuration (what the next boot will do).
//!
//! The hard gates come from illumos ppt and bhyve (docs/check.md names
//! each one's source); the rest are the advisories the Linux/KVM/VFIO
//! world computes (docs/viability.md), which illumos does not enforce and `pptctl` computes
//! itself. Every rule is data ([`Rule`], listed in [`rules::ALL`]) with a
//! stable kebab-case code, a severity, the fact it reads, and a hint; the
//! code that evaluates it cites its source.
//!
//! Flow: [`facts::FunctionFacts`] are extracted from each
//! [`pci_core::Function`] (config space through pci-core's decoders plus OS
//! facts), [`isolation`] predicts Linux IOMMU groups from ACS, then
//! [`evaluate()`] applies the per-function, host and configuration rules and
//! returns a [`Report`].

pub mod evaluate;
pub mod facts;
mod facts_config;
pub mod function_rules;
pub mod host_rules;
pub mod isolation;
pub mod pending;
pub mod rules;

use std::fmt;

use serde::{Serialize, Serializer};

pub use evaluate::{evaluate, Plan};
pub use facts::FunctionFacts;
pub use rules::Rule;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; does not change the verdict.
    Info,
    /// Pass-through may work but something needs attention.
    Warn,
    /// ppt or bhyve will refuse, or the configuration cannot do what it says.
    Fail,
}

impl Severity {
    /// `info`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The overall answer for a function, the host or the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Nothing found that stops or degrades pass-through.
    Ok,
    /// At least one warning, no failure.
    Warn,
    /// At least one failure.
    Fail,
}

impl Verdict {
    /// The verdict a list of reasons earns: the worst severity, info counting as ok.
    pub fn of(reasons: &[Reason]) -> Verdict {
        match reasons.iter().map(|r| r.severity).max() {
            Some(Severity::Fail) => Verdict::Fail,
            Some(Severity::Warn) => Verdict::Warn,
            _ => Verdict::Ok,
        }
    }

    /// `ok`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding: a rule that fired, with a message about this case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The rule's stable code (`no-msi`).
    pub code: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// What was found, in plain words, naming the device or file.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl Reason {
    /// A finding of `rule` with `message` and the rule's own hint.
    pub fn new(rule: &Rule, message: impl Into<String>) -> Self {
        Reason {
            code: rule.code,
            severity: rule.severity,
            message: message.into(),
            hint: rule.hint.to_string(),
        }
    }

    /// A finding of `rule` with a hint written for this case.
    pub(crate) fn with_hint(
        rule: &Rule,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Reason {
            code: rule.code,
            severity: rule.severity,
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Reasons with the verdict they earn (the host and the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Worst severity of `reasons`.
    pub verdict: Verdict,
    /// Findings, worst first.
    pub reasons: Vec<Reason>,
}

impl Section {
    /// A section from reasons, sorted worst first (stable within a severity).
    pub(crate) fn from_reasons(mut reasons: Vec<Reason>) -> Self {
        reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
        Section {
            verdict: Verdict::of(&reasons),
            reasons,
        }
    }
}

/// The verdict for one function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionReport {
    /// `DDDD:BB:DD.F`.
    pub slot: String,
    /// illumos devfs path (real or predicted), when known.
    pub path: Option<String>,
    /// `vvvv:dddd`.
    pub ids: String,
    /// Worst severity of `reasons`.
    pub verdict: Verdict,
    /// Findings, worst first.
    pub reasons: Vec<Reason>,
    /// The driver bound now.
    pub now: DriverNow,
    /// What the next boot binds.
    pub next_boot: NextBootReport,
}

/// The driver of a function now, in the `check --json` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DriverNow {
    /// The driver bound now; `null` for none.
    pub driver: Option<String>,
}

/// What the next boot binds, in the `check --json` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct NextBootReport {
    /// `ppt`, another driver, or `null` when not known (or nothing binds).
    pub driver: Option<String>,
    /// `/dev/pptN` when the node goes to ppt and its instance is recorded.
    pub dev: Option<String>,
    /// `<file>:<line>` of the entry that decides it, when one does.
    pub by: Option<String>,
}

/// The whole answer of `pptctl check`; serializes to the documented JSON
/// (`{"host":…,"functions":[…],"config":…}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Host-wide findings (IOMMU, CPU vendor).
    pub host: Section,
    /// One entry per checked function, in address order.
    pub functions: Vec<FunctionReport>,
    /// The pending configuration (reservations, next boot, VM payloads).
    pub config: Section,
}

impl Report {
    /// The worst verdict anywhere in the report.
    pub(crate) fn worst(&self) -> Verdict {
        self.functions
            .iter()
            .map(|f| f.verdict)
            .chain([self.host.verdict, self.config.verdict])
            .max()
            .unwrap_or(Verdict::Ok)
    }

    /// Whether anything failed (the CLI exits 1 then).
    pub fn has_failure(&self) -> bool {
        self.worst() == Verdict::Fail
    }
}
