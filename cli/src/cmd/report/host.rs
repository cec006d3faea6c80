//! One host's section: its name, snapshot and age, every host-wide
//! finding, what the next boot changes and where the reservations are,
//! a table of every function (driver, `/devices` path, `/dev/pptN`, next
//! boot, verdict and every finding), and its topology.

use std::fmt::Write as _;

use fleet::FunctionRow;

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

/// The findings of `f`: all of them from a session, the stored first
/// failing one from the fleet database.
fn why_cell(s: &mut String, h: &HostView, f: &FunctionRow, infra: bool) {
    if infra {
        s.push_str("<span class=\"r-info\">infrastructure: never passed through</span>");
        return;
    }
    let stored: Vec<String>;
    let reasons = match h.reasons.get(&f.address) {
        Some(r) => r.as_slice(),
        None => {
            stored = f.fail_reason.iter().map(|r| format!("fail {r}")).collect();
            &stored
        }
    };
    reason_list(s, reasons);
    if f.verdict == "warn" && reasons.iter().all(|r| !r.starts_with("warn")) && !h.warns_known {
        s.push_str("<span class=\"r-warn\">warn: the fleet database keeps only failing findings; <code>pptctl check</code> on the host lists this one</span>");
    }
}
