//! The one answer to "is this function on ppt after the next boot?", and
//! which file and line decides it.
//!
//! Every command asks it here: `check` (its rules and its VM judgement),
//! `vm-json --check`, `report` and the fleet. The answer comes from the
//! kernel binding prediction of the next boot (`pci_illumos::binding`,
//! read from the boot media the next boot loads): a function is on ppt
//! when the prediction's driver is `ppt`; a prediction that is not known
//! (no `driver_aliases`) still says "not ppt", since `ppt` ships with no
//! aliases of its own and only a `ppt_aliases` entry could bind it
//! (illumos-gate `usr/src/pkg/manifests/system-bhyve.p5m`); and when the
//! next boot itself is not known (a SmartOS root without its boot media)
//! or its files cannot be read, the answer is unknown, which callers take
//! as "as now".

use std::collections::BTreeMap;

use pci_core::{Address, Function, Host};
use pci_illumos::binding::{BindingReport, Prediction, PPT};

use super::Session;

impl Session {
    /// Whether `f` is on ppt after the next boot: `Some(true)` or
    /// `Some(false)`, `None` when that is not known (callers take it as
    /// "as now"). The one answer every command uses; [`Session::next_ppt`]
    /// gives it with its reason.
    pub fn ppt_after(&self, f: &Function) -> Option<bool> {
        self.next_ppt().ppt_after(f)
    }

    /// [`Session::ppt_after`] for every function, with the file and line
    /// that decides each, made once per session.
    pub fn next_ppt(&self) -> &NextBootPpt {
        self.next_ppt.get_or_init(|| {
            if let Some(why) = self.next_boot_unknown() {
                return NextBootPpt::unknown(why, self.next_boot_fix());
            }
            match self.binding() {
                Ok(report) => NextBootPpt::from_report(&self.host, &report),
                Err(e) => NextBootPpt::unreadable(super::SessionError::from(e).to_string()),
            }
        })
    }
}

/// One function's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PptAfter {
    /// `Some(true)`: on ppt after the next boot; `Some(false)`: not;
    /// `None`: not known.
    pub on_ppt: Option<bool>,
    /// The `<file>:<line>` that decides it, when one does.
    pub by: Option<String>,
    /// Why, in words (the entry that binds it, or why it is not known).
    pub reason: String,
}

impl PptAfter {
    /// The answer from a function's next-boot prediction (`None`: none was
    /// made, as for a function with no device-tree node).
    pub fn of(p: Option<&Prediction>) -> PptAfter {
        match p {
            Some(p) => PptAfter {
                on_ppt: Some(p.driver_after() == Some(PPT)),
                by: p.by(),
                reason: p.why(),
            },
            None => PptAfter::unknown("no next-boot prediction for it (no device-tree node)"),
        }
    }

    /// An unknown answer, with why.
    pub fn unknown(why: impl Into<String>) -> PptAfter {
        PptAfter {
            on_ppt: None,
            by: None,
            reason: why.into(),
        }
    }

    /// On ppt after the next boot, taking an unknown answer as "as now"
    /// (`on_ppt_now`).
    pub fn or_now(&self, on_ppt_now: bool) -> bool {
        self.on_ppt.unwrap_or(on_ppt_now)
    }
}

/// The answers for a whole host, made once. The default knows nothing:
/// every answer is unknown, which callers take as "as now".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NextBootPpt {
    by_address: BTreeMap<Address, PptAfter>,
    unknown: Option<String>,
    read_from: String,
    error: Option<String>,
}

impl NextBootPpt {
    /// The answers from the next boot's binding prediction for `host`.
    pub fn from_report(host: &Host, report: &BindingReport) -> NextBootPpt {
        let by_address = report
            .predictions
            .iter()
            .filter_map(|p| {
                let f = host.functions.get(p.function)?;
                Some((f.address, PptAfter::of(Some(p))))
            })
            .collect();
        NextBootPpt {
            by_address,
            unknown: None,
            read_from: report.ppt_aliases_file.clone().unwrap_or_default(),
            error: None,
        }
    }

    /// The answers from predictions already made, by address (a `check`
    /// plan); a function without one is unknown.
    pub fn from_predictions(next: &BTreeMap<Address, Prediction>) -> NextBootPpt {
        NextBootPpt {
            by_address: next
                .iter()
                .map(|(a, p)| (*a, PptAfter::of(Some(p))))
                .collect(),
            unknown: None,
            read_from: "the next-boot prediction".into(),
            error: None,
        }
    }

    /// Nothing is known about the next boot, why, and what to do about it
    /// ([`Session::next_boot_fix`]).
    pub fn unknown(why: impl Into<String>, fix: &str) -> NextBootPpt {
        let why = why.into();
        NextBootPpt {
            by_address: BTreeMap::new(),
            read_from: format!("nothing: {why}; {fix}"),
            unknown: Some(why),
            error: None,
        }
    }

    /// The next boot's binding files cannot be read: every answer is
    /// unknown, and [`NextBootPpt::error`] says why.
    pub fn unreadable(error: impl Into<String>) -> NextBootPpt {
        let error = error.into();
        NextBootPpt {
            by_address: BTreeMap::new(),
            read_from: format!("nothing: {error}"),
            unknown: Some(format!("its binding files cannot be read: {error}")),
            error: Some(error),
        }
    }

    /// The error reading the next boot's binding files, when there was one
    /// (a command that needs the answers reports it).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Why the next boot is not known, when it is not.
    pub fn unknown_why(&self) -> Option<&str> {
        self.unknown.as_deref()
    }

    /// Where the answers come from (the `ppt_aliases` the next boot reads,
    /// or why nothing was read), for messages; empty when no `ppt_aliases`
    /// was found.
    pub fn read_from(&self) -> &str {
        &self.read_from
    }

    /// The answer for the function at `address`, with its reason.
    pub fn at(&self, address: Address) -> PptAfter {
        if let Some(why) = &self.unknown {
            return PptAfter::unknown(format!("the next boot is not known: {why}"));
        }
        self.by_address
            .get(&address)
            .cloned()
            .unwrap_or_else(|| PptAfter::of(None))
    }

    /// The answer for `f`, with its reason.
    pub fn why(&self, f: &Function) -> PptAfter {
        self.at(f.address)
    }

    /// Whether `f` is on ppt after the next boot (`None`: not known).
    pub fn ppt_after(&self, f: &Function) -> Option<bool> {
        self.at(f.address).on_ppt
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pci_illumos::binding::BoundBy;

    const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";

    #[test]
    fn answers_and_reasons() {
        let a: Address = "0000:01:00.0".parse().unwrap();
        let ppt = Prediction::decided(GPU, "ppt", BoundBy::PathAlias, "/etc/ppt_aliases", 5);
        let mut next = BTreeMap::new();
        next.insert(a, ppt);
        let t = NextBootPpt::from_predictions(&next);
        let got = t.at(a);
        assert_eq!(got.on_ppt, Some(true));
        assert_eq!(got.by.as_deref(), Some("/etc/ppt_aliases:5"));
        assert!(got.reason.contains("path alias"), "{got:?}");
        // another function: no prediction, unknown
        let b: Address = "0000:02:00.0".parse().unwrap();
        assert_eq!(t.at(b).on_ppt, None);
        assert!(t.at(b).or_now(true));
        // a prediction to another driver
        next.insert(
            b,
            Prediction::decided("/x@0", "igb", BoundBy::NodeName("x".into()), "", 0),
        );
        assert_eq!(
            NextBootPpt::from_predictions(&next).at(b).on_ppt,
            Some(false)
        );
        // the next boot not known: every answer unknown, with why
        let u = NextBootPpt::unknown("a SmartOS root without its boot media", "give it");
        assert_eq!(u.at(a).on_ppt, None);
        assert!(u.at(a).reason.contains("SmartOS"));
        assert!(u.read_from().starts_with("nothing: "));
    }
}
