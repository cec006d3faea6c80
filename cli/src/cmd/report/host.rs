//! One host's section: its name, snapshot and age, every host-wide
//! finding, what the next boot changes and where the reservations are,
//! a table of every function (driver, `/devices` path, `/dev/pptN`, next
//! boot, verdict and every finding), and its topology.

use std::fmt::Write as _;

use fleet::{FunctionRow, HostCheck, HostVerification};

use super::page::{age_text, esc, HostView, Stamp};
use super::topology::topology_svg;

/// Host infrastructure (host bridges, root ports, ISA bridges): never
/// passed through, so drawn as "not passable", not as a failure. The rule
/// is pci-core's ([`pci_core::passthrough::is_infrastructure`]); a stored
/// row knows whether the function forwards a bus (`bridge`), not its
/// header layout.
pub fn is_infrastructure(f: &FunctionRow) -> bool {
    f.bridge || pci_core::passthrough::is_infrastructure(f.class, None)
}

/// The section of `h`.
pub fn section(h: &HostView, stamp: &Stamp) -> String {
    let (age, stale) = stamp.age(h.taken_at);
    let mut s = String::new();
    let _ = write!(
        s,
        "<section class=\"host\" id=\"host-{n}\"><header><h2>{n}</h2><span class=\"v v-{v}\">host {v}</span><span class=\"sub\">snapshot {t} · {a} old{sb} · {c} functions</span></header>",
        n = esc(&h.name),
        v = esc(&h.host_verdict),
        t = esc(&h.time),
        a = age_text(age),
        sb = if stale { " <span class=\"v v-stale\">stale</span>" } else { "" },
        c = h.functions.len(),
    );
    reason_list(&mut s, &h.host_reasons);
    next_boot(&mut s, h);
    if let Some(v) = &h.after_reboot {
        after_reboot(&mut s, v);
    }
    function_table(&mut s, h);
    s.push_str(&topology_svg(h));
    s.push_str("</section>");
    s
}

/// Findings as a list, each coloured by its severity (its first word).
fn reason_list(s: &mut String, reasons: &[String]) {
    if reasons.is_empty() {
        return;
    }
    s.push_str("<ul class=\"reasons\">");
    for r in reasons {
        let sev = r.split(' ').next().unwrap_or("");
        let class = match sev {
            "fail" | "warn" => sev,
            _ => "info",
        };
        let _ = write!(s, "<li class=\"r-{class}\">{}</li>", esc(r));
    }
    s.push_str("</ul>");
}

/// Whether `f` is on ppt now.
fn on_ppt_now(f: &FunctionRow) -> bool {
    f.ppt_dev.is_some() || f.driver.as_deref() == Some("ppt")
}

/// What the next boot does to `f`'s binding, in words.
fn next_text(f: &FunctionRow) -> &'static str {
    match (on_ppt_now(f), f.next_boot_ppt) {
        (false, Some(true)) => "binds to ppt",
        (true, Some(false)) => "leaves ppt",
        (true, Some(true)) => "stays on ppt",
        (false, Some(false)) => "not ppt",
        (_, None) => "not known",
    }
}

/// The next boot's changes and the reservations, with the file and line
/// that decides each when the page was made from a session.
fn next_boot(s: &mut String, h: &HostView) {
    s.push_str("<h3>Next boot</h3><ul class=\"reasons\">");
    let mut any = false;
    for f in &h.functions {
        let change = next_text(f);
        let reserved = f.reserved == Some(true);
        if !matches!(change, "binds to ppt" | "leaves ppt") && !reserved {
            continue;
        }
        any = true;
        let mut line = format!("{} {change}", f.address);
        if reserved {
            line.push_str(" · reserved for ppt");
        }
        if let Some(by) = h.next_by.get(&f.address) {
            let _ = write!(line, " · {by}");
        }
        let _ = write!(s, "<li>{}</li>", esc(&line));
    }
    if !any {
        let all_unknown = h.functions.iter().all(|f| f.next_boot_ppt.is_none());
        s.push_str(if all_unknown {
            "<li>not known: the snapshot does not record the next boot's configuration</li>"
        } else {
            "<li>no change to what is bound to ppt, and no reservation</li>"
        });
    }
    s.push_str("</ul>");
}

/// Every function: address, IDs and full name, driver, `/devices` path,
/// `/dev/pptN`, next boot, verdict and findings.
fn function_table(s: &mut String, h: &HostView) {
    s.push_str("<table class=\"functions\"><thead><tr><th>function</th><th>IDs</th><th>name</th><th>driver</th><th>/devices path</th><th>/dev/ppt</th><th>next boot</th><th>verdict</th><th>why</th></tr></thead><tbody>");
    for f in &h.functions {
        let infra = is_infrastructure(f);
        let verdict = if infra {
            "<span class=\"v v-infra\">not passable</span>".to_string()
        } else {
            format!("<span class=\"v v-{v}\">{v}</span>", v = esc(&f.verdict))
        };
        let name = format!(
            "{} {}",
            f.vendor_name.as_deref().unwrap_or(""),
            f.device_name.as_deref().unwrap_or("")
        );
        let _ = write!(
            s,
            "<tr><td class=\"m\">{}</td><td class=\"m\">{:04x}:{:04x}</td><td>{}</td><td class=\"m\">{}</td><td class=\"p\">{}</td><td class=\"m\">{}</td><td>{}</td><td>{verdict}</td><td>",
            esc(&f.address),
            f.vendor,
            f.device,
            esc(name.trim()),
            esc(f.driver.as_deref().unwrap_or("—")),
            esc(&f.devfs_path.as_deref().map_or("—".to_string(), |p| format!("/devices{p}"))),
            esc(f.ppt_dev.as_deref().unwrap_or("—")),
            next_text(f),
        );
        why_cell(s, h, f, infra);
        s.push_str("</td></tr>");
    }
    s.push_str("</tbody></table>");
}

/// The findings of `f`: every one from a session or a fleet row stored at
/// schema 6 or later; the stored first failing one from an older row,
/// which says so.
fn why_cell(s: &mut String, h: &HostView, f: &FunctionRow, infra: bool) {
    if infra {
        s.push_str("<span class=\"r-info\">infrastructure: never passed through</span>");
        return;
    }
    if let Some(r) = h.reasons.get(&f.address) {
        reason_list(s, r);
        return;
    }
    let stored: Vec<String> = f.fail_reason.iter().map(|r| format!("fail {r}")).collect();
    reason_list(s, &stored);
    if f.verdict != "ok" {
        s.push_str("<span class=\"r-info\">stored before the fleet kept every finding (schema 6): only the first failing one is known; <code>pptctl check</code> on the host lists them all</span>");
    }
}

/// What `fleet verify` says of the last reboot: the snapshots compared,
/// the result, and each prediction with its outcome and what it means,
/// those that did not hold first.
fn after_reboot(s: &mut String, v: &HostVerification) {
    let compared = match v.before.as_deref() {
        Some(before) => format!(
            "snapshot {} predicted, snapshot {} shows",
            esc(before),
            esc(&v.after)
        ),
        None => format!(
            "snapshot {} is the first of this host: nothing predicted it",
            esc(&v.after)
        ),
    };
    let _ = write!(
        s,
        "<h3>After the last reboot</h3><div class=\"sub\">{compared}: <span class=\"v v-{}\">{}</span></div>",
        v.check.status(),
        esc(&after_reboot_text(&v.check)),
    );
    let predictions = v.check.predictions();
    if predictions.is_empty() {
        return;
    }
    s.push_str("<ul class=\"reasons\">");
    for e in predictions
        .iter()
        .filter(|e| !e.held)
        .chain(predictions.iter().filter(|e| e.held))
    {
        let line = format!(
            "{} {} {}: {}: expected {}, found {}: {}",
            e.address,
            e.ids,
            e.devfs_path
                .as_deref()
                .map_or("—".to_string(), |p| format!("/devices{p}")),
            e.outcome.as_str(),
            e.expected,
            e.found,
            e.outcome.meaning()
        );
        let class = if e.held { "info" } else { "fail" };
        let _ = write!(s, "<li class=\"r-{class}\">{}</li>", esc(&line));
    }
    s.push_str("</ul>");
}

/// `fleet verify`'s result in words: `held: 2 predicted bindings`,
/// `broken: 1 of 2 predicted bindings`, `not judged: one snapshot`.
pub fn after_reboot_text(c: &HostCheck) -> String {
    let n = c.predictions().len();
    let bindings = if n == 1 { "binding" } else { "bindings" };
    match c {
        HostCheck::Held { .. } => format!("held: {n} predicted {bindings}"),
        HostCheck::Broken { predictions } => format!(
            "broken: {} of {n} predicted {bindings}",
            predictions.iter().filter(|e| !e.held).count()
        ),
        HostCheck::NotJudged { why } => format!("not judged: {why}"),
    }
}
