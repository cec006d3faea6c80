//! One diagnose finding and the host it is judged against: the type every
//! part of diagnose builds ([`super::messages`], [`super::device_findings`])
//! and [`super::findings`] gathers, kept apart so none of them needs
//! another's types.

use pci_core::Host;
use serde::Serialize;

use crate::viability::Severity;

/// The host a log is judged against, and the words that name it in
/// findings ("the host read from devinfo:FILE").
#[derive(Debug, Clone, Copy)]
pub struct JudgedHost<'a> {
    /// The host.
    pub host: &'a Host,
    /// How findings name it.
    pub label: &'a str,
}

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

pub(super) fn finding(
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
pub(super) fn sourced(mut f: Finding, source: &'static str) -> Finding {
    f.source = Some(source);
    f
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
