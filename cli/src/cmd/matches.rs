//! `pptctl match`: what each `ppt_matches` line and each `ppt_aliases`
//! entry does on this host, and which drivers change at the next boot.
//!
//! JSON schema (stable; docs in the command's help and README):
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
//! the current binding), never guessed. Exit status: 0 without warnings,
//! 1 with warnings, 2 when an input cannot be read.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use pci_core::Host;
#[cfg(test)]
use pci_illumos::binding::{predict, KernelFiles};
use pci_illumos::binding::{BindingReport, BoundBy, Prediction, PPT};
use pci_illumos::matcher::{select, LineSelection};
use pci_illumos::matches::{Lint, PptMatches, Rule, MATCHES_BOOT, MATCHES_ETC};
#[cfg(test)]
use pci_illumos::root::HostRoot;
use serde::Serialize;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl match`.
#[derive(Args, Debug)]
pub struct MatchArgs {
    /// Show every line (comments too), how libppt reads it, and why each
    /// function binds as it does.
    #[arg(long)]
    pub explain: bool,
    /// Print the JSON document described in the module docs.
    #[arg(long)]
    pub json: bool,
}

/// A warning in the JSON output.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct JsonWarning {
    /// Stable code.
    pub code: &'static str,
    /// Message for people.
    pub message: String,
}

/// One `ppt_matches` line in the JSON output.
#[derive(Serialize, Debug)]
pub struct JsonMatchLine {
    file: String,
    line: usize,
    text: String,
    kind: &'static str,
    matches: Vec<String>,
    warnings: Vec<JsonWarning>,
}

/// One `ppt_aliases` entry in the JSON output.
#[derive(Serialize, Debug)]
pub struct JsonAlias {
    file: String,
    line: usize,
    alias: String,
    kind: &'static str,
    matches: Vec<String>,
    warnings: Vec<JsonWarning>,
}

/// One driver change in the JSON output.
#[derive(Serialize, Debug)]
pub struct JsonChange {
    path: String,
    driver_now: Option<String>,
    driver_after: Option<String>,
    by: Option<String>,
    dev: Option<String>,
}

/// The whole JSON document.
#[derive(Serialize, Debug)]
pub struct JsonReport {
    ppt_matches: Vec<JsonMatchLine>,
    ppt_aliases: Vec<JsonAlias>,
    after_reboot: Vec<JsonChange>,
}

/// Everything `match` found, ready to render.
pub struct MatchReport {
    matches: PptMatches,
    selections: Vec<LineSelection>,
    binding: BindingReport,
    host: Host,
    /// Why the next boot is not known (SmartOS without boot media).
    pub next_boot_unknown: Option<String>,
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

fn by_string(file: &str, line: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}")
    }
}

impl MatchReport {
    /// Analyses `host` with the files found under `root`.
    #[cfg(test)]
    pub fn build(host: Host, root: &HostRoot) -> Result<MatchReport, CliError> {
        let matches = PptMatches::load(root).map_err(|e| CliError::input(e.to_string()))?;
        let files = KernelFiles::load(root).map_err(|e| CliError::input(e.to_string()))?;
        Ok(Self::from_parts(host, matches, &files))
    }

    /// Analyses already-read inputs.
    #[cfg(test)]
    pub fn from_parts(host: Host, matches: PptMatches, files: &KernelFiles) -> MatchReport {
        let binding = predict(&host, files);
        Self::from_report(host, matches, binding)
    }

    /// Analyses `ppt_matches` with the binding prediction already made.
    pub fn from_report(host: Host, matches: PptMatches, binding: BindingReport) -> MatchReport {
        let selections = select(&matches, &host);
        MatchReport {
            matches,
            selections,
            binding,
            host,
            next_boot_unknown: None,
        }
    }

    fn fn_path(&self, i: usize) -> String {
        self.host
            .functions
            .get(i)
            .and_then(|f| f.illumos.as_ref())
            .map(|n| n.path.clone())
            .unwrap_or_default()
    }

    fn changes(&self) -> impl Iterator<Item = &Prediction> {
        self.binding.predictions.iter().filter(|p| p.changes())
    }

    /// The functions whose driver after the next boot is ppt or differs
    /// from now (the JSON `after_reboot`).
    fn after_reboot(&self) -> impl Iterator<Item = &Prediction> {
        self.binding
            .predictions
            .iter()
            .filter(|p| p.changes() || p.driver_after() == Some(PPT))
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
    }

    /// The JSON document.
    pub fn to_json(&self) -> JsonReport {
        let file = self.matches.file.clone().unwrap_or_default();
        let ppt_matches = self
            .matches
            .lines
            .iter()
            .zip(&self.selections)
            .map(|(l, s)| JsonMatchLine {
                file: file.clone(),
                line: l.number,
                text: l.text(),
                kind: l.rule.kind().as_str(),
                matches: s.functions.iter().map(|&i| self.fn_path(i)).collect(),
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
                by: p
                    .after
                    .as_ref()
                    .map(|d| by_string(&d.binding.file, d.binding.line)),
                dev: p.dev.as_ref().filter(|d| d.certain).map(|d| d.dev.clone()),
            })
            .collect();
        JsonReport {
            ppt_matches,
            ppt_aliases,
            after_reboot,
        }
    }

    /// The human-readable report.
    pub fn to_text(&self, explain: bool) -> String {
        let mut o = String::new();
        self.text_matches(&mut o, explain);
        o.push('\n');
        self.text_aliases(&mut o, explain);
        o.push('\n');
        self.text_changes(&mut o, explain);
        o
    }

    fn text_matches(&self, o: &mut String, explain: bool) {
        let Some(file) = &self.matches.file else {
            let _ = writeln!(
                o,
                "ppt_matches: neither {MATCHES_BOOT} nor {MATCHES_ETC} exists; `pptadm list -a` shows only ppt-bound devices"
            );
            return;
        };
        let _ = writeln!(
            o,
            "{file}: candidates for `pptadm list -a` (reserves nothing)"
        );
        let mut shown = 0;
        for (l, s) in self.matches.lines.iter().zip(&self.selections) {
            let quiet = l.rule == Rule::Ignored && s.lints.is_empty();
            if quiet && !explain {
                continue;
            }
            shown += 1;
            let what = match &l.rule {
                Rule::Id { vendor, device } => format!("id {vendor}:{device}"),
                Rule::Vendor { vendor } => format!("vendor {vendor}, any device"),
                Rule::Path(_) => "path".to_string(),
                Rule::Ignored => "ignored".to_string(),
            };
            let _ = writeln!(o, "  {:>4}  {:<40} {}", l.number, escape(&l.text()), what);
            if explain {
                if let Some(p) = l.pattern {
                    let pat = ["pciex%4s,%4s", "pci%4s,%4s", "pciex%4s", "pci%4s"]
                        .get(usize::from(p) - 1)
                        .copied()
                        .unwrap_or("?");
                    let _ = writeln!(o, "        read by sscanf(\"{pat}\")");
                }
            }
            if l.rule != Rule::Ignored {
                if s.functions.is_empty() {
                    let _ = writeln!(o, "        selects no function");
                }
                for &i in &s.functions {
                    let f = &self.host.functions[i];
                    let _ = writeln!(
                        o,
                        "        selects {}  [{}]  {}",
                        self.fn_path(i),
                        f.ids_string(),
                        f.illumos
                            .as_ref()
                            .and_then(|n| n.driver.as_deref())
                            .unwrap_or("no driver")
                    );
                }
            }
            for w in &s.lints {
                let _ = writeln!(o, "        warning[{}]: {}", w.code, w.message);
            }
        }
        if shown == 0 {
            let _ = writeln!(o, "  (no rules)");
        }
        for d in &self.matches.diagnostics {
            let _ = writeln!(o, "  warning: {d}");
        }
    }

    fn text_aliases(&self, o: &mut String, explain: bool) {
        let Some(file) = &self.binding.ppt_aliases_file else {
            let _ = writeln!(
                o,
                "ppt_aliases: neither /system/boot/etc/ppt_aliases nor /etc/ppt_aliases exists"
            );
            return;
        };
        let _ = writeln!(
            o,
            "{file}: read by the kernel at boot, before /etc/driver_aliases"
        );
        if self.binding.ppt_aliases.is_empty() {
            let _ = writeln!(o, "  (no aliases)");
        }
        for a in &self.binding.ppt_aliases {
            let _ = writeln!(
                o,
                "  {:>4}  {:<40} {}",
                a.line,
                format!("\"{}\"", escape(&a.alias)),
                a.kind
            );
            if a.matches.is_empty() {
                let _ = writeln!(o, "        binds no function");
            }
            for m in &a.matches {
                let _ = writeln!(o, "        binds {m}");
            }
            for w in &a.lints {
                let _ = writeln!(o, "        warning[{}]: {}", w.code, w.message);
            }
        }
        let _ = explain;
    }

    fn text_changes(&self, o: &mut String, explain: bool) {
        let changes: Vec<&Prediction> = self.changes().collect();
        if self.binding.driver_aliases_file.is_none() {
            let _ = writeln!(
                o,
                "note: no /etc/driver_aliases under the root: only what ppt_aliases decides is predicted"
            );
        }
        if let Some(why) = &self.next_boot_unknown {
            let _ = writeln!(
                o,
                "note: what the next boot binds is unknown: {why}; give --boot-media DIR (the mounted USB key, or the boot pool's boot dataset)"
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
            } else if self.next_boot_unknown.is_some() {
                "(unknown: no boot media)"
            } else {
                "(unknown: driver_aliases missing)"
            };
            let by = p
                .after
                .as_ref()
                .map(|d| format!("  by {}", by_string(&d.binding.file, d.binding.line)))
                .unwrap_or_default();
            let dev = match &p.dev {
                Some(d) if d.certain => format!("  {}", d.dev),
                Some(d) => format!("  {} (guess: next free ppt instance)", d.dev),
                None => String::new(),
            };
            let _ = writeln!(o, "  {}  {now} -> {after}{by}{dev}", p.path);
            if explain {
                if let Some(d) = &p.after {
                    let how = match &d.via {
                        BoundBy::PathAlias => {
                            "path-oriented alias (highest precedence)".to_string()
                        }
                        BoundBy::Compatible(c) => format!("compatible entry \"{c}\""),
                        BoundBy::NodeName(n) => format!("node name \"{n}\""),
                    };
                    let _ = writeln!(o, "        via {how}");
                }
            }
        }
    }
}

/// Control characters made visible (a `\r` at the end of a line matters).
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(char::escape_debug)
        .collect::<String>()
        .replace("\\\"", "\"")
}

/// Runs the subcommand.
pub fn run(global: &Global, args: MatchArgs) -> Result<ExitCode, CliError> {
    let session = global.open()?;
    let matches = session
        .matches()
        .map_err(|e| CliError::input(e.to_string()))?;
    let binding = session
        .binding()
        .map_err(|e| CliError::input(e.to_string()))?;
    let unknown = session.next_boot_unknown();
    let mut report = MatchReport::from_report(session.into_host(), matches, binding);
    report.next_boot_unknown = unknown;
    if args.json {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| CliError::failed(format!("cannot write JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", report.to_text(args.explain));
    }
    for d in &report.matches.diagnostics {
        eprintln!("pptctl: warning: {d}");
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
    use pci_core::{Address, Function, Identity, IllumosNode, PathSource};

    const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";
    const AUDIO: &str = "/pci@0,0/pci8086,151@1/pci1462,2291@0,1";

    fn func(f: u8, device: u16, class: u32, path: &str, driver: Option<&str>) -> Function {
        let ids = Identity {
            vendor: 0x10de,
            device,
            subsystem_vendor: Some(0x1462),
            subsystem: Some(0x2291),
            class,
            revision: 0xa1,
            header_type: Some(0x80),
        };
        let mut func = Function::new(Address::new(0, 1, 0, f).unwrap(), ids, Vec::new());
        let cc = format!("{:06x}", class);
        func.illumos = Some(IllumosNode {
            path: path.to_string(),
            path_source: Some(PathSource::Devinfo),
            node_name: path
                .rsplit('/')
                .next()
                .unwrap()
                .split('@')
                .next()
                .unwrap()
                .to_string(),
            driver: driver.map(str::to_string),
            compatible: vec![
                format!("pciex10de,{device:x}.1462.2291.a1"),
                format!("pciex10de,{device:x}"),
                format!("pciexclass,{cc}"),
                format!("pciexclass,{}", &cc[..4]),
                format!("pci10de,{device:x}"),
                format!("pciclass,{cc}"),
                format!("pciclass,{}", &cc[..4]),
            ],
            parent_device_type: Some("pciex".to_string()),
            ..IllumosNode::default()
        });
        func
    }

    fn host() -> Host {
        Host {
            functions: vec![
                func(0, 0xa65, 0x030000, GPU, Some("vgatext")),
                func(1, 0xbe3, 0x040300, AUDIO, Some("audiohd")),
            ],
            ..Host::default()
        }
    }

    fn root(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, text) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    const FILES: &[(&str, &str)] = &[
        (
            "etc/ppt_matches",
            "pciex10de,a65\npci10DE,be3\n# comment\n/pci@0,0/pci8086,151@1/pci1462,2291\n",
        ),
        (
            "etc/ppt_aliases",
            "ppt \"/pci@0,0/pci8086,151@1/display@0\"\nppt \"/pci@0,0/pci8086,151@1/pci1462,2291\"\n",
        ),
        (
            "etc/driver_aliases",
            "audiohd \"pciclass,0403\"\nvgatext \"pciclass,0300\"\n",
        ),
        ("etc/name_to_major", "ppt 1\naudiohd 2\nvgatext 3\n"),
        (
            "etc/path_to_inst",
            "\"/pci@0,0/pci8086,151@1/display@0\" 0 \"ppt\"\n",
        ),
    ];

    #[test]
    fn json_report() {
        let r = root(FILES);
        let rep = MatchReport::build(host(), &HostRoot::new(r.path())).unwrap();
        let got = serde_json::to_string_pretty(&rep.to_json()).unwrap();
        let want = include_str!("../../tests/data/match-report.json");
        assert_eq!(got, want.trim_end());
        assert_eq!(rep.warning_count(), 3);
    }

    #[test]
    fn text_report() {
        let r = root(FILES);
        let rep = MatchReport::build(host(), &HostRoot::new(r.path())).unwrap();
        let t = rep.to_text(false);
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
        let t = rep.to_text(true);
        assert!(t.contains("# comment"), "{t}");
        assert!(t.contains("read by sscanf(\"pciex%4s,%4s\")"), "{t}");
        assert!(t.contains("via path-oriented alias"), "{t}");
    }

    #[test]
    fn clean_files_have_no_warnings_and_guess_devs() {
        let r = root(&[
            ("system/boot/etc/ppt_matches", "pci10de\n"),
            ("etc/ppt_matches", "pci10DE\n"),
            ("system/boot/etc/ppt_aliases", &format!("ppt \"{AUDIO}\"\n")),
            ("etc/ppt_aliases", "garbage\n"),
            (
                "etc/driver_aliases",
                "audiohd \"pciclass,0403\"\nvgatext \"pciclass,0300\"\n",
            ),
        ]);
        let rep = MatchReport::build(host(), &HostRoot::new(r.path())).unwrap();
        assert_eq!(rep.warning_count(), 0, "{}", rep.to_text(true));
        let j = serde_json::to_value(rep.to_json()).unwrap();
        assert_eq!(j["ppt_matches"][0]["file"], "/system/boot/etc/ppt_matches");
        assert_eq!(j["ppt_matches"][0]["matches"].as_array().unwrap().len(), 2);
        assert_eq!(j["ppt_aliases"][0]["file"], "/system/boot/etc/ppt_aliases");
        // no path_to_inst: the number is a guess, so JSON gives null
        assert_eq!(j["after_reboot"][0]["path"], AUDIO);
        assert_eq!(j["after_reboot"][0]["dev"], serde_json::Value::Null);
        assert!(rep
            .to_text(false)
            .contains("/dev/ppt0 (guess: next free ppt instance)"));
    }

    #[test]
    fn unreadable_input_is_exit_2() {
        let r = root(&[("etc/driver_aliases", "x \"y\"\n")]);
        std::fs::create_dir_all(r.path().join("system/boot/etc/ppt_matches")).unwrap();
        let e = MatchReport::build(host(), &HostRoot::new(r.path()))
            .err()
            .unwrap();
        assert_eq!(e.code, 2);
        assert!(
            e.message.contains("/system/boot/etc/ppt_matches"),
            "{}",
            e.message
        );
    }
}
