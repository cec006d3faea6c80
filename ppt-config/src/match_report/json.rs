//! The JSON document of `pptctl match --json` (stable; docs/match.md):
//!
//! ```text
//! {"ppt_matches":[{"file":F,"line":N,"text":T,"kind":"id|vendor|path|ignored",
//!                  "matches":[PATH…],"warnings":[{"code":C,"message":M}]}],
//!  "ppt_aliases":[{"file":F,"line":N,"alias":A,"kind":"path|compatible",
//!                  "matches":[PATH…],"warnings":[…]}],
//!  "after_reboot":[{"path":P,"driver_now":D|null,"driver_after":D|null,
//!                   "by":"<file>:<line>"|null,"dev":"/dev/pptN"|null}]}
//! ```
//!
//! `ppt_matches` has one object per line of the file libppt reads (comments
//! and blank lines are `ignored`); `matches` are the functions that line
//! matches on its own. `ppt_aliases` has one object per alias the kernel
//! reads (and per line that binds nothing but has a problem, with the
//! line's text as `alias`); `matches` are the functions it binds at the
//! next boot. `after_reboot` lists the functions whose driver after the
//! next boot is ppt or differs from now;
//! `dev` is given only when the ppt instance is recorded (path_to_inst or
//! the current binding), never guessed.

use pci_illumos::matches::Lint;
use serde::Serialize;

use super::MatchReport;

/// A warning in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonWarning {
    /// Stable code.
    pub code: &'static str,
    /// Message for people.
    pub message: String,
}

/// One `ppt_matches` line in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonMatchLine {
    /// Host path of the file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The line without its newline.
    pub text: String,
    /// `id`, `vendor`, `path` or `ignored`.
    pub kind: &'static str,
    /// devfs paths of the functions the line matches on its own.
    pub matches: Vec<String>,
    /// The line's lints.
    pub warnings: Vec<JsonWarning>,
}

/// One `ppt_aliases` entry in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonAlias {
    /// Host path of the file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The alias, or the line's text when the line binds nothing.
    pub alias: String,
    /// `path` or `compatible`.
    pub kind: &'static str,
    /// devfs paths of the functions it binds at the next boot.
    pub matches: Vec<String>,
    /// The entry's lints.
    pub warnings: Vec<JsonWarning>,
}

/// One driver change in the JSON output.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonChange {
    /// devfs path.
    pub path: String,
    /// The driver bound now.
    pub driver_now: Option<String>,
    /// The driver after the next boot, when known and any binds.
    pub driver_after: Option<String>,
    /// `<file>:<line>` of the entry that decides it, when one does.
    pub by: Option<String>,
    /// `/dev/pptN` when the ppt instance is recorded.
    pub dev: Option<String>,
}

/// The whole JSON document.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct JsonReport {
    /// One per `ppt_matches` line.
    pub ppt_matches: Vec<JsonMatchLine>,
    /// One per `ppt_aliases` entry or problem line.
    pub ppt_aliases: Vec<JsonAlias>,
    /// [`MatchReport::after_reboot`].
    pub after_reboot: Vec<JsonChange>,
    /// [`MatchReport::next_boot_fails`] (left out when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_boot_fails: Vec<JsonWarning>,
}

fn warnings(lints: &[Lint]) -> Vec<JsonWarning> {
    lints
        .iter()
        .map(|l| JsonWarning {
            code: l.code.as_str(),
            message: l.message.clone(),
        })
        .collect()
}

impl MatchReport {
    /// The JSON document.
    pub fn to_json(&self) -> JsonReport {
        let file = self.matches.file.clone().unwrap_or_default();
        let ppt_matches = self
            .lines()
            .map(|(l, s)| JsonMatchLine {
                file: file.clone(),
                line: l.number,
                text: l.text(),
                kind: l.rule.kind().as_str(),
                matches: s
                    .functions
                    .iter()
                    .map(|&i| self.function_path(i).to_string())
                    .collect(),
                warnings: warnings(&s.lints),
            })
            .collect();
        let ppt_aliases = self
            .binding
            .ppt_aliases
            .iter()
            .map(|a| JsonAlias {
                file: a.file.clone(),
                line: a.line,
                alias: a.alias.clone(),
                kind: a.kind,
                matches: a.matches.clone(),
                warnings: warnings(&a.lints),
            })
            .collect();
        let after_reboot = self
            .after_reboot()
            .map(|p| JsonChange {
                path: p.path.clone(),
                driver_now: p.driver_now.clone(),
                driver_after: p.driver_after().map(str::to_string),
                by: p.by(),
                dev: p.certain_dev().map(str::to_string),
            })
            .collect();
        JsonReport {
            ppt_matches,
            ppt_aliases,
            after_reboot,
            next_boot_fails: self
                .next_boot_fails()
                .iter()
                .map(|(code, message)| JsonWarning {
                    code,
                    message: message.clone(),
                })
                .collect(),
        }
    }
}
