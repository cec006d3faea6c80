//! What each `ppt_matches` line and each `ppt_aliases` entry does on a
//! host, and which drivers change at the next boot: the answer of
//! `pptctl match`, for any program.
//!
//! ```text
//! Session::into_match_report(selectors)   the report of a loaded host
//! MatchReport::new(host, matches, binding) the report of inputs read elsewhere
//!   .lines()                              each ppt_matches line and what it selects
//!   .binding()                            the ppt_aliases entries, the predictions
//!   .changes() / .after_reboot()          the next boot's driver changes
//!   .warning_count()                      lints plus file diagnostics
//!   .to_json()                            the stable JSON document (docs/match.md)
//! ```
//!
//! Nothing here prints; the binary renders the report as text.

mod json;

use pci_core::Host;
use pci_illumos::binding::{BindingReport, Prediction};

use crate::session::PptAfter;
use pci_illumos::matcher::{select, LineSelection};
use pci_illumos::matches::{MatchLine, PptMatches};

pub use json::{JsonAlias, JsonChange, JsonMatchLine, JsonReport, JsonWarning};

/// Everything `pptctl match` finds on one host: `ppt_matches` as libppt
/// reads it with the functions each line selects, the kernel's binding at
/// the next boot, and which functions the user asked about.
#[derive(Debug, Clone)]
pub struct MatchReport {
    host: Host,
    matches: PptMatches,
    /// One per line of `matches`, in the same order.
    selections: Vec<LineSelection>,
    binding: BindingReport,
    next_boot_unknown: Option<String>,
    next_boot_fix: String,
    next_boot_fails: Vec<(&'static str, String)>,
    only: Option<Vec<String>>,
}

impl MatchReport {
    /// The report of `matches` on `host`, with the binding prediction
    /// already made; every function counts and the next boot is known
    /// (a session narrows both when it knows better).
    pub fn new(host: Host, matches: PptMatches, binding: BindingReport) -> MatchReport {
        let selections = select(&matches, &host);
        MatchReport {
            host,
            matches,
            selections,
            binding,
            next_boot_unknown: None,
            next_boot_fix: String::new(),
            next_boot_fails: Vec::new(),
            only: None,
        }
    }

    /// The report with the next boot's changes limited to the functions
    /// at these devfs paths (`None`: all). The `ppt_matches` lines and
    /// `ppt_aliases` entries are all reported either way.
    pub(crate) fn with_only(mut self, paths: Option<Vec<String>>) -> MatchReport {
        self.only = paths;
        self
    }

    /// The report noting why the next boot is not known (a SmartOS root
    /// without boot media, boot media whose lines cannot be followed), or
    /// that it is (`None`), and what to do about it (`fix`: the session's
    /// [`crate::session::Session::next_boot_fix`]).
    pub(crate) fn with_next_boot_unknown(mut self, why: Option<String>, fix: &str) -> MatchReport {
        self.next_boot_unknown = why;
        self.next_boot_fix = fix.to_string();
        self
    }

    /// The report with what keeps the next boot from reading the
    /// reservation (rule code and message; the boot archive's file lists
    /// leaving `ppt_aliases` out).
    pub fn with_next_boot_fails(mut self, fails: Vec<(&'static str, String)>) -> MatchReport {
        self.next_boot_fails = fails;
        self
    }

    /// What keeps the next boot from reading the reservation.
    pub fn next_boot_fails(&self) -> &[(&'static str, String)] {
        &self.next_boot_fails
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// `ppt_matches` as libppt reads it (its file, lines and diagnostics).
    pub fn matches(&self) -> &PptMatches {
        &self.matches
    }

    /// Each `ppt_matches` line, in file order, with the functions it
    /// selects on its own and all its lints.
    pub fn lines(&self) -> impl Iterator<Item = (&MatchLine, &LineSelection)> {
        self.matches.lines.iter().zip(&self.selections)
    }

    /// The kernel's binding at the next boot: the `ppt_aliases` entries
    /// and one prediction per function.
    pub fn binding(&self) -> &BindingReport {
        &self.binding
    }

    /// Why the next boot is not known, when it is not.
    pub fn next_boot_unknown(&self) -> Option<&str> {
        self.next_boot_unknown.as_deref()
    }

    /// What to do when the next boot is not known ([`Self::next_boot_unknown`]):
    /// give the boot media, or fix what was given.
    pub fn next_boot_fix(&self) -> &str {
        &self.next_boot_fix
    }

    /// The devfs paths the next boot's changes are limited to; `None`: all.
    pub fn only(&self) -> Option<&[String]> {
        self.only.as_deref()
    }

    /// The devfs path of function `i` of the host (empty when it has none).
    pub fn function_path(&self, i: usize) -> &str {
        self.host
            .functions
            .get(i)
            .and_then(|f| f.illumos.as_ref())
            .map_or("", |n| n.path.as_str())
    }

    fn chosen(&self, p: &Prediction) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&p.path))
    }

    /// The functions whose driver changes at the next boot
    /// ([`Prediction::changes`]).
    pub fn changes(&self) -> impl Iterator<Item = &Prediction> {
        self.binding
            .predictions
            .iter()
            .filter(|p| p.changes())
            .filter(|p| self.chosen(p))
    }

    /// The functions whose driver after the next boot is ppt or differs
    /// from now (the JSON `after_reboot`).
    pub fn after_reboot(&self) -> impl Iterator<Item = &Prediction> {
        self.binding
            .predictions
            .iter()
            .filter(|p| p.changes() || PptAfter::of(Some(p)).on_ppt == Some(true))
            .filter(|p| self.chosen(p))
    }

    /// Number of warnings (lines and entries with lints, plus file-level
    /// diagnostics).
    pub fn warning_count(&self) -> usize {
        self.selections.iter().map(|s| s.lints.len()).sum::<usize>()
            + self
                .binding
                .ppt_aliases
                .iter()
                .map(|a| a.lints.len())
                .sum::<usize>()
            + self.matches.diagnostics.len()
            + self.next_boot_fails.len()
    }
}

#[cfg(any(test, feature = "test-support"))]
pub mod fixture;
#[cfg(test)]
mod tests;
