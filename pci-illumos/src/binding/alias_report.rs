//! What each `ppt_aliases` entry does on a host, and what is wrong with it.

use std::collections::{BTreeMap, HashSet};

use pci_core::Host;

use super::{compatible_alias, AliasReport, BoundBy, Decision, Inactive, KernelFiles, Prediction};
use crate::aliases::{AliasEntry, AliasFile, AliasLineProblem, BindingTable};
use crate::matches::{add_suggestions, path_lints, Lint, LintCode};

pub(super) fn alias_reports(
    host: &Host,
    files: &KernelFiles,
    pf: &AliasFile,
    table: &BindingTable,
    preds: &[Prediction],
) -> Vec<AliasReport> {
    let paths: HashSet<&str> = host
        .functions
        .iter()
        .filter_map(|f| f.illumos.as_ref().map(|n| n.path.as_str()))
        .chain(host.nexus.iter().map(|n| n.path.as_str()))
        .collect();
    // compatible string → paths of the functions listing it (or named so)
    let mut listed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in &host.functions {
        if let Some(n) = &f.illumos {
            for c in n.compatible.iter().chain(std::iter::once(&n.node_name)) {
                listed.entry(c.as_str()).or_default().push(n.path.as_str());
            }
        }
    }

    let mut out: Vec<AliasReport> = Vec::new();
    for e in &pf.entries {
        let mut r = entry_report(e, host, files, table, preds, &paths, &listed);
        r.lints.extend(path_alias_redundant(e, table, preds));
        out.push(r);
    }
    for p in &pf.problems {
        out.push(problem_report(&pf.file, p));
    }
    out.sort_by_key(|r| r.line);
    out
}

/// Why a path alias cannot take effect, and the fix.
/// A path alias naming a node that an entry of its compatible list
/// already binds to the same driver: the kernel rebinds by path only to a
/// different driver (devcfg.c `init_node`), so the compatible entry binds
/// the node and this line changes nothing while that entry is there.
fn path_alias_redundant(
    e: &AliasEntry,
    table: &BindingTable,
    preds: &[Prediction],
) -> Option<Lint> {
    if !e.alias.starts_with('/')
        || table
            .get(&e.alias)
            .is_none_or(|b| b.line != e.line || b.file != e.file)
    {
        return None;
    }
    let p = preds.iter().find(|p| p.path == e.alias)?;
    let d = p.after.as_ref().filter(|d| d.via != BoundBy::PathAlias)?;
    (d.binding.driver == e.driver).then(|| {
        Lint::new(
            LintCode::Shadowed,
            format!(
                "\"{}\" ({}:{}) already binds {} to {}, and the kernel rebinds a node by its path only to a different driver (init_node), so this line changes nothing while that entry is there",
                d.key, d.binding.file, d.binding.line, p.path, e.driver
            ),
        )
    })
}

fn unclaimed_lint(e: &AliasEntry, p: &Prediction, host: &Host, files: &KernelFiles) -> Lint {
    if let Some(why) = files.inactive(&e.driver) {
        let why = match why {
            Inactive::NotInstalled { file } => format!(
                "driver {} is not installed ({file} does not name it)",
                e.driver
            ),
            Inactive::Disabled { by } => format!(
                "driver {} is disabled by the boot option disable-{}=true ({by})",
                e.driver, e.driver
            ),
        };
        return Lint::new(
            LintCode::PathAliasUnclaimed,
            format!(
                "{why}, so the kernel binds nothing to it (driver_active): this alias does nothing"
            ),
        );
    }
    let fix = match host.functions.get(p.function).and_then(compatible_alias) {
        Some(c) => {
            let with_id: Vec<&str> = host
                .functions
                .iter()
                .filter_map(|f| f.illumos.as_ref())
                .filter(|n| n.compatible.iter().any(|x| x == c))
                .map(|n| n.path.as_str())
                .collect();
            format!(
                "; reserve it with a compatible alias instead: {} \"{c}\" (it takes every function with that ID that nothing more specific binds: {})",
                e.driver,
                with_id.join(", ")
            )
        }
        None => String::new(),
    };
    Lint::new(
        LintCode::PathAliasUnclaimed,
        format!(
            "no driver binds {} by its compatible list or node name, so the kernel never names the node and never looks up this path alias: it stays unbound{fix}",
            p.path
        ),
    )
}

fn problem_report(file: &str, p: &AliasLineProblem) -> AliasReport {
    AliasReport {
        file: file.to_string(),
        line: p.line,
        alias: p.text.clone(),
        as_written: true,
        kind: if p.text.contains('/') {
            "path"
        } else {
            "compatible"
        },
        matches: Vec::new(),
        lints: p.lints.clone(),
    }
}

fn entry_report(
    e: &AliasEntry,
    host: &Host,
    files: &KernelFiles,
    table: &BindingTable,
    preds: &[Prediction],
    paths: &HashSet<&str>,
    listed: &BTreeMap<&str, Vec<&str>>,
) -> AliasReport {
    let mut lints = e.lints.clone();
    let mine =
        |d: &Decision| d.binding.file == e.file && d.binding.line == e.line && d.key == e.alias;
    let decided: Vec<&Prediction> = preds
        .iter()
        .filter(|p| p.after.as_ref().is_some_and(mine))
        .collect();
    let matches: Vec<String> = decided.iter().map(|p| p.path.clone()).collect();

    if let Some((_, _, _, won)) = table
        .conflicts
        .iter()
        .find(|(f, l, a, _)| *f == e.file && *l == e.line && *a == e.alias)
    {
        let what = if table.is_driver_name(&e.alias) && won.driver == e.alias {
            "the name of a driver".to_string()
        } else {
            format!(
                "already bound to {} by {}:{}",
                won.driver, won.file, won.line
            )
        };
        lints.push(Lint::new(
            LintCode::DuplicateAlias,
            format!(
                "Driver alias \"{}\" conflicts with an existing driver name or alias ({what}); the first binding wins, so this entry does nothing",
                e.alias
            ),
        ));
    }

    if let Some(p) = preds.iter().find(|p| {
        p.blocked_path_alias
            .as_ref()
            .is_some_and(|b| b.file == e.file && b.line == e.line)
    }) {
        lints.push(unclaimed_lint(e, p, host, files));
    }
    lint_lookup(e, preds, paths, listed, &matches, &mut lints);

    if !e.alias.starts_with('/') && decided.len() >= 2 {
        lints.push(Lint::new(
            LintCode::BindsSeveral,
            format!(
                "a compatible alias binds every device with this ID: {} functions ({}); use path aliases to take single functions",
                decided.len(),
                matches.join(", ")
            ),
        ));
    }
    for p in decided.iter().filter(|_| !e.alias.starts_with('/')) {
        if let Some(w) = &p.without_ppt_aliases {
            if w.binding.driver != e.driver {
                lints.push(Lint::new(
                    LintCode::StealsDevice,
                    format!(
                        "takes {} from {} (\"{}\", {}:{}) because ppt_aliases is read before driver_aliases",
                        p.path, w.binding.driver, w.key, w.binding.file, w.binding.line
                    ),
                ));
            }
        }
    }
    AliasReport {
        file: e.file.clone(),
        line: e.line,
        alias: e.alias.clone(),
        as_written: false,
        kind: e.kind(),
        matches,
        lints,
    }
}

/// What looking the entry up finds: a path no node has, or a compatible
/// string no function lists or one listed but bound by an earlier entry.
fn lint_lookup(
    e: &AliasEntry,
    preds: &[Prediction],
    paths: &HashSet<&str>,
    listed: &BTreeMap<&str, Vec<&str>>,
    matches: &[String],
    lints: &mut Vec<Lint>,
) {
    if e.alias.starts_with('/') {
        let before = lints.len();
        path_lints("the kernel", e.alias.as_bytes(), e.alias.as_bytes(), lints);
        if lints.len() == before && !paths.contains(e.alias.as_str()) {
            lints.push(Lint::new(
                LintCode::NoSuchPath,
                format!(
                    "no node of this host has the path {}: this alias binds nothing",
                    e.alias
                ),
            ));
        }
        add_suggestions(&e.alias, paths, &mut lints[before..]);
    } else if let Some(listing) = listed.get(e.alias.as_str()) {
        if matches.is_empty() && !lints.iter().any(|l| l.code == LintCode::DuplicateAlias) {
            let why: Vec<String> = listing
                .iter()
                .filter_map(|path| preds.iter().find(|p| p.path == *path))
                .filter_map(|p| {
                    p.after.as_ref().map(|d| {
                        format!(
                            "{} binds {} by \"{}\" ({}:{})",
                            p.path, d.binding.driver, d.key, d.binding.file, d.binding.line
                        )
                    })
                })
                .collect();
            lints.push(Lint::new(
                LintCode::Shadowed,
                format!(
                    "functions list \"{}\" but an earlier entry of their compatible list binds them first: {}",
                    e.alias,
                    if why.is_empty() {
                        "(driver_aliases unknown)".to_string()
                    } else {
                        why.join("; ")
                    }
                ),
            ));
        }
    } else if !lints.iter().any(|l| l.code == LintCode::UnquotedPath) {
        let hint = if e.alias.bytes().any(|b| b.is_ascii_uppercase()) {
            " (compatible strings are lower-case hex)"
        } else {
            ""
        };
        lints.push(Lint::new(
            LintCode::MatchesNothing,
            format!(
                "no function of this host has \"{}\" in its compatible list{hint}",
                e.alias
            ),
        ));
    }
}
