//! `pptctl match`: what each `ppt_matches` line and each `ppt_aliases`
//! entry does on this host, and which drivers change at the next boot.
//!
//! The report and its JSON document (stable) are
//! [`ppt_config::match_report`]'s, documented there and in docs/match.md;
//! this module renders the text. Exit status: 0 without warnings, 1 with
//! warnings, 2 when an input cannot be read.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use pci_core::text::{escape, Escaped};
use pci_illumos::aliases::DRIVER_ALIASES;
use pci_illumos::binding::{BoundBy, Prediction};
use pci_illumos::libppt::{MATCHES_FILES, PPT_ALIASES_FILES};
use pci_illumos::matches::{sscanf_format, Rule};
use ppt_config::match_report::MatchReport;
use ppt_config::selector;

use crate::error::CliError;
use crate::global::{session_error, Global};

/// Arguments of `pptctl match`.
#[derive(Args, Debug)]
pub struct MatchArgs {
    /// Only these functions in the next boot's changes: a slot as lspci -s,
    /// IDs as lspci -d (10de:, ::0300), an illumos path or /dev/pptN.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// Show every line (comments too), how libppt reads it, and why each
    /// function binds as it does.
    #[arg(long)]
    pub explain: bool,
    /// Print the stable JSON document docs/match.md describes.
    #[arg(long)]
    pub json: bool,
}

/// The human-readable report.
pub fn render(r: &MatchReport, explain: bool) -> String {
    let mut o = String::new();
    text_matches(&mut o, r, explain);
    o.push('\n');
    text_aliases(&mut o, r);
    o.push('\n');
    text_changes(&mut o, r, explain);
    o
}

fn text_matches(o: &mut String, r: &MatchReport, explain: bool) {
    let Some(file) = &r.matches().file else {
        let [boot, etc] = MATCHES_FILES;
        let _ = writeln!(
            o,
            "ppt_matches: neither {boot} nor {etc} exists; `pptadm list -a` shows only ppt-bound devices"
        );
        return;
    };
    let _ = writeln!(
        o,
        "{}: candidates for `pptadm list -a` (reserves nothing)",
        escape(file)
    );
    let mut shown = 0;
    for (l, s) in r.lines() {
        let quiet = l.rule == Rule::Ignored && s.lints.is_empty();
        if quiet && !explain {
            continue;
        }
        shown += 1;
        let what = match &l.rule {
            Rule::Id { vendor, device } => format!(
                "id {}:{}",
                escape(&vendor.to_string()),
                escape(&device.to_string())
            ),
            Rule::Vendor { vendor } => {
                format!("vendor {}, any device", escape(&vendor.to_string()))
            }
            Rule::Path(_) => "path".to_string(),
            Rule::Ignored => "ignored".to_string(),
        };
        let _ = writeln!(o, "  {:>4}  {:<40} {}", l.number, escape(&l.text()), what);
        if explain {
            if let Some(p) = l.pattern {
                let pat = sscanf_format(p).unwrap_or("?");
                let _ = writeln!(o, "        read by sscanf(\"{pat}\")");
            }
        }
        if l.rule != Rule::Ignored {
            if s.functions.is_empty() {
                let _ = writeln!(o, "        selects no function");
            }
            for &i in &s.functions {
                let f = &r.host().functions[i];
                let _ = writeln!(
                    o,
                    "        selects {}  [{}]  {}",
                    Escaped(r.function_path(i)),
                    f.ids_string(),
                    Escaped(
                        f.illumos
                            .as_ref()
                            .and_then(|n| n.driver.as_deref())
                            .unwrap_or("no driver")
                    )
                );
            }
        }
        for w in &s.lints {
            let _ = writeln!(o, "        warning[{}]: {}", w.code, Escaped(&w.message));
        }
    }
    if shown == 0 {
        let _ = writeln!(o, "  (no rules)");
    }
    for d in &r.matches().diagnostics {
        let _ = writeln!(o, "  warning: {}", escape(&d.to_string()));
    }
}

fn text_aliases(o: &mut String, r: &MatchReport) {
    let binding = r.binding();
    let Some(file) = &binding.ppt_aliases_file else {
        let [boot, etc] = PPT_ALIASES_FILES;
        let _ = writeln!(o, "ppt_aliases: neither {boot} nor {etc} exists");
        return;
    };
    let _ = writeln!(
        o,
        "{}: read by the kernel at boot, before /etc/driver_aliases",
        escape(file)
    );
    if binding.ppt_aliases.is_empty() {
        let _ = writeln!(o, "  (no aliases)");
    }
    for a in &binding.ppt_aliases {
        let _ = writeln!(o, "  {:>4}  {:<40} {}", a.line, escape(&a.shown()), a.kind);
        if a.matches.is_empty() {
            let _ = writeln!(o, "        binds no function");
        }
        for m in &a.matches {
            let _ = writeln!(o, "        binds {}", escape(&m.to_string()));
        }
        for w in &a.lints {
            let _ = writeln!(o, "        warning[{}]: {}", w.code, Escaped(&w.message));
        }
    }
}

fn text_changes(o: &mut String, r: &MatchReport, explain: bool) {
    let changes: Vec<&Prediction> = r.changes().collect();
    if r.binding().driver_aliases_file.is_none() {
        let _ = writeln!(
            o,
            "note: no {DRIVER_ALIASES} under the root: only what ppt_aliases decides is predicted"
        );
    }
    for (code, why) in r.next_boot_fails() {
        let _ = writeln!(o, "fail[{code}]: {why}");
    }
    if let Some(why) = r.next_boot_unknown() {
        let _ = writeln!(
            o,
            "note: what the next boot binds is unknown: {}; {}",
            escape(why),
            r.next_boot_fix()
        );
    }
    if changes.is_empty() {
        let _ = writeln!(o, "After the next boot: no driver changes.");
    } else {
        let _ = writeln!(o, "After the next boot:");
    }
    for p in changes {
        let now = p.driver_now.as_deref().unwrap_or("(none)");
        let after = if p.known {
            p.driver_after().unwrap_or("(none)")
        } else if r.next_boot_unknown().is_some() {
            "(unknown: the next boot is not known)"
        } else {
            "(unknown: driver_aliases missing)"
        };
        let by = p
            .by()
            .map(|b| format!("  by {}", escape(&b.to_string())))
            .unwrap_or_default();
        let dev = match &p.dev {
            Some(d) if d.certain => format!("  {}", Escaped(&d.dev)),
            Some(d) => format!("  {} (guess: next free ppt instance)", Escaped(&d.dev)),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "  {}  {} -> {}{by}{dev}",
            Escaped(&p.path),
            Escaped(now),
            Escaped(after)
        );
        if explain {
            if let Some(d) = &p.after {
                let how = match &d.via {
                    BoundBy::PathAlias => "path-oriented alias (highest precedence)".to_string(),
                    BoundBy::Compatible(c) => format!("compatible entry \"{}\"", Escaped(c)),
                    BoundBy::NodeName(n) => format!("node name \"{}\"", Escaped(n)),
                };
                let _ = writeln!(o, "        via {how}");
            }
        }
    }
}

/// Runs the subcommand.
pub fn run(global: &Global, args: MatchArgs) -> Result<ExitCode, CliError> {
    let sels = selector::parse_all(&args.selectors).map_err(|e| CliError::input(e.to_string()))?;
    let report = global
        .open()?
        .into_match_report(&sels)
        .map_err(session_error)?;
    if args.json {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))?;
        crate::outln!("{text}");
    } else {
        crate::out!("{}", render(&report, args.explain));
    }
    // The text names file-level problems in its ppt_matches section; the
    // JSON has no place for them, so they go to stderr there.
    if args.json {
        for d in &report.matches().diagnostics {
            crate::output::warn(d);
        }
    }
    Ok(ExitCode::from(if report.warning_count() > 0 {
        1
    } else {
        0
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pci_illumos::root::HostRoot;
    // The host and files the library's own report tests use.
    use ppt_config::match_report::fixture::{build, clean_root, host, root, FILES, GPU};

    #[test]
    fn text_report() {
        let r = root(FILES);
        let rep = build(host(), &HostRoot::new(r.path())).unwrap();
        let t = render(&rep, false);
        assert!(
            t.contains("/etc/ppt_matches: candidates for `pptadm list -a`"),
            "{t}"
        );
        assert!(!t.contains("# comment"), "{t}");
        assert!(
            t.contains(&format!("        selects {GPU}  [10de:0a65]  vgatext")),
            "{t}"
        );
        assert!(t.contains("warning[upper-case-hex]"), "{t}");
        assert!(
            t.contains(&format!(
                "  {GPU}  vgatext -> ppt  by /etc/ppt_aliases:1  /dev/ppt0"
            )),
            "{t}"
        );
        let t = render(&rep, true);
        assert!(t.contains("# comment"), "{t}");
        assert!(t.contains("read by sscanf(\"pciex%4s,%4s\")"), "{t}");
        assert!(t.contains("via path-oriented alias"), "{t}");
    }

    #[test]
    fn guessed_devs_are_marked() {
        let r = clean_root();
        let rep = build(host(), &HostRoot::new(r.path())).unwrap();
        assert!(render(&rep, false).contains("/dev/ppt0 (guess: next free ppt instance)"));
    }

    #[test]
    fn unreadable_input_is_exit_2() {
        let r = root(&[("etc/driver_aliases", "x \"y\"\n")]);
        std::fs::create_dir_all(r.path().join("system/boot/etc/ppt_matches")).unwrap();
        let e = session_error(build(host(), &HostRoot::new(r.path())).err().unwrap());
        assert_eq!(e.code, 2);
        assert!(
            e.message.contains("/system/boot/etc/ppt_matches"),
            "{}",
            e.message
        );
    }
}
