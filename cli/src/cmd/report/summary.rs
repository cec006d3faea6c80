//! The fleet's summary table: one line per host (name, snapshot and its
//! age, verdict and why, passable devices by vendor:device), with search
//! and filters; each line links to the host's section or page.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::host::{after_reboot_text, is_infrastructure};
use super::page::{age_text, esc, host_file, HostView, Links, Stamp};

/// A host's line in the table: what the table needs of it, without its
/// functions.
pub struct HostRow {
    name: String,
    time: String,
    taken_at: i64,
    host_verdict: String,
    /// The first reason it is not all ok (host-wide, else a device's).
    why: Option<String>,
    /// Passable devices: device key -> `vvvv:dddd`.
    passable: BTreeMap<String, String>,
    /// `fleet verify`'s status of the last reboot and its words.
    after_reboot: Option<(&'static str, String)>,
}

impl HostRow {
    /// The table's line for `h`.
    pub fn of(h: &HostView) -> Self {
        let failing = h
            .functions
            .iter()
            .filter(|f| f.verdict == "fail" && !is_infrastructure(f))
            .count();
        let why = h.host_reasons.first().cloned().or_else(|| {
            let f = h
                .functions
                .iter()
                .find(|f| f.fail_reason.is_some() && !is_infrastructure(f))?;
            let more = if failing > 1 {
                format!(" (and {} more failing)", failing - 1)
            } else {
                String::new()
            };
            Some(format!(
                "{}: {}{more}",
                f.address,
                f.fail_reason.as_deref().unwrap_or("")
            ))
        });
        HostRow {
            name: h.name.clone(),
            time: h.time.clone(),
            taken_at: h.taken_at,
            host_verdict: h.host_verdict.clone(),
            why,
            passable: passable_devices(h),
            after_reboot: h
                .after_reboot
                .as_ref()
                .map(|v| (v.check.status(), after_reboot_text(&v.check))),
        }
    }
}

/// Device names by `vvvv:dddd` for the column titles; of two hosts naming
/// one ID differently (different pci.ids), the later.
#[derive(Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    /// Adds the names `h` gives its functions.
    pub fn add(&mut self, h: &HostView) {
        for f in &h.functions {
            self.0.insert(
                format!("{:04x}:{:04x}", f.vendor, f.device),
                format!(
                    "{} {}",
                    f.vendor_name.as_deref().unwrap_or(""),
                    f.device_name.as_deref().unwrap_or("")
                ),
            );
        }
    }
}

/// The device IDs passable somewhere with the number of devices, most
/// common first (at most 12).
fn columns(rows: &[HostRow]) -> Vec<(&str, usize)> {
    let mut freq: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        for ids in r.passable.values() {
            *freq.entry(ids.as_str()).or_default() += 1;
        }
    }
    let mut cols: Vec<(&str, usize)> = freq.into_iter().collect();
    cols.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    cols.truncate(12);
    cols
}

/// The count line, the passable IDs with their names, the filters and the
/// table. A host's line is kept small (about 350 bytes) so 10,000 hosts
/// fit in a few megabytes: its passable devices are one cell (`2×
/// 10de:0a65`) the search box also matches, and the script reads verdicts
/// and numbers from the cells' text.
pub fn summary_table(rows: &[HostRow], names: &Names, links: Links, stamp: &Stamp) -> String {
    let total: usize = rows.iter().map(|r| r.passable.len()).sum();
    let stale = rows.iter().filter(|r| stamp.age(r.taken_at).1).count();
    let broken = rows
        .iter()
        .filter(|r| r.after_reboot.as_ref().is_some_and(|a| a.0 == "broken"))
        .count();
    let mut s = format!(
        "<div class=\"sub\">{} host{}, {} passable device{} at the latest snapshots, {stale} stale, {broken} broken after the last reboot</div>",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        total,
        if total == 1 { "" } else { "s" }
    );
    s.push_str("<div class=\"legend\">");
    for (ids, n) in columns(rows) {
        let _ = write!(
            s,
            "<span><b>{}</b> {} ({n})</span>",
            esc(ids),
            esc(names.0.get(ids).map_or("", |n| n.trim()))
        );
    }
    let _ = write!(
        s,
        "</div><div class=\"filters\"><input id=\"q\" type=\"search\" placeholder=\"search host, reason or vvvv:dddd\" aria-label=\"search\"><label>verdict <select id=\"verdict\"><option value=\"\">any</option><option>ok</option><option>warn</option><option>fail</option></select></label><label>after reboot <select id=\"reboot\"><option value=\"\">any</option><option>held</option><option>broken</option><option>not judged</option></select></label><label><input id=\"stale\" type=\"checkbox\"> only stale</label><span>showing <b id=\"shown\">{}</b> of {}</span></div>",
        rows.len(),
        rows.len()
    );
    s.push_str("<table id=\"fleet\"><thead><tr><th>host</th><th>snapshot</th><th>age</th><th>host verdict</th><th>after reboot</th><th>why</th><th>passable</th><th>passable devices</th></tr></thead><tbody>");
    for r in rows {
        row(&mut s, r, links, stamp);
    }
    s.push_str("</tbody></table>");
    s
}

/// One host's line.
fn row(s: &mut String, r: &HostRow, links: Links, stamp: &Stamp) {
    let (age, stale) = stamp.age(r.taken_at);
    let href = match links {
        Links::Anchor => format!("#host-{}", r.name),
        Links::Files => format!("hosts/{}", host_file(&r.name)),
    };
    let mut by_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for ids in r.passable.values() {
        *by_ids.entry(ids.as_str()).or_default() += 1;
    }
    let devices: Vec<String> = by_ids
        .iter()
        .map(|(ids, n)| format!("{n}× {ids}"))
        .collect();
    let _ = write!(
        s,
        "<tr{st}><td><a href=\"{href}\">{n}</a></td><td>{t}</td><td class=\"n\" data-v=\"{age}\">{a}{sb}</td><td><i class=\"v v-{v}\">{v}</i></td><td>{ar}</td><td>{w}</td><td class=\"n{z}\">{c}</td><td>{d}</td></tr>",
        st = if stale { " data-stale" } else { "" },
        href = esc(&href),
        n = esc(&r.name),
        t = esc(&r.time),
        a = age_text(age),
        sb = if stale { " <i class=\"v v-stale\">stale</i>" } else { "" },
        v = esc(&r.host_verdict),
        ar = r.after_reboot.as_ref().map_or(String::new(), |(status, text)| format!(
            "<i class=\"v v-{status}\">{}</i>",
            esc(text)
        )),
        w = esc(r.why.as_deref().unwrap_or("")),
        z = if r.passable.is_empty() { " z" } else { "" },
        c = r.passable.len(),
        d = esc(&devices.join(", ")),
    );
}

/// Passable devices of a host: device key → `vvvv:dddd` of its function 0
/// (or first function), for devices whose functions all pass.
fn passable_devices(h: &HostView) -> BTreeMap<String, String> {
    if h.host_verdict == "fail" {
        return BTreeMap::new();
    }
    let mut dev: BTreeMap<&str, (bool, String, bool)> = BTreeMap::new();
    for f in &h.functions {
        let e = dev.entry(f.device_key.as_str()).or_insert((
            true,
            format!("{:04x}:{:04x}", f.vendor, f.device),
            false,
        ));
        e.0 &= f.verdict != "fail" && f.in_vm != Some(true);
        e.2 |= is_infrastructure(f);
    }
    dev.into_iter()
        .filter(|(_, (ok, _, infra))| *ok && !*infra)
        .map(|(k, (_, ids, _))| (k.to_string(), ids))
        .collect()
}
