//! The page: head, the sortable table of hosts x passable devices, one
//! section per host with its topology, and the script. Written in order to
//! any writer, so `fleet report` holds one host's functions at a time,
//! never the fleet's.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use fleet::FunctionRow;

use super::topology::topology_svg;
use crate::error::CliError;

/// One host as the page shows it.
pub struct HostView {
    /// Host name.
    pub name: String,
    /// Snapshot time (RFC 3339).
    pub time: String,
    /// Host verdict and first failing host finding.
    pub host_verdict: String,
    /// Why the host fails, when it does.
    pub host_reason: Option<String>,
    /// Its functions.
    pub functions: Vec<FunctionRow>,
}

/// A host's line in the table: what the table needs of it, without its
/// functions.
pub struct HostRow {
    name: String,
    time: String,
    host_verdict: String,
    /// Passable devices: device key -> `vvvv:dddd`.
    passable: BTreeMap<String, String>,
}

impl HostRow {
    /// The table's line for `h`.
    pub fn of(h: &HostView) -> Self {
        HostRow {
            name: h.name.clone(),
            time: h.time.clone(),
            host_verdict: h.host_verdict.clone(),
            passable: passable_devices(h),
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

/// Writes the whole page to `out`: the table from `rows`, then one section
/// per host as `hosts` yields them (in the rows' order).
pub fn render_to(
    out: &mut dyn std::io::Write,
    title: &str,
    rows: &[HostRow],
    names: &Names,
    hosts: impl IntoIterator<Item = Result<HostView, CliError>>,
) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::failed(format!("cannot write the page: {e}"));
    out.write_all(head(title, rows, names).as_bytes())
        .map_err(io)?;
    for h in hosts {
        out.write_all(section(&h?).as_bytes()).map_err(io)?;
    }
    out.write_all(format!("<script>{JS}</script></body></html>\n").as_bytes())
        .map_err(io)
}

/// The page up to the first host's section.
fn head(title: &str, rows: &[HostRow], names: &Names) -> String {
    // Columns: the device IDs passable somewhere, most common first (at most 12).
    let mut freq: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        for ids in r.passable.values() {
            *freq.entry(ids.as_str()).or_default() += 1;
        }
    }
    let mut cols: Vec<(&str, usize)> = freq.into_iter().collect();
    cols.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    cols.truncate(12);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(title)
    );
    let total: usize = rows.iter().map(|r| r.passable.len()).sum();
    let _ = write!(
        s,
        "<h1>{}</h1><div class=\"sub\">{} host{}, {} passable device{} at the latest snapshots</div>",
        esc(title),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        total,
        if total == 1 { "" } else { "s" }
    );
    s.push_str("<table id=\"fleet\"><thead><tr><th>host</th><th>snapshot</th><th>host verdict</th><th>passable</th>");
    for (ids, _) in &cols {
        let _ = write!(
            s,
            "<th title=\"{}\">{}</th>",
            esc(names.0.get(*ids).map_or("", String::as_str)),
            esc(ids)
        );
    }
    s.push_str("</tr></thead><tbody>");
    for h in rows {
        let p = &h.passable;
        let _ = write!(
            s,
            "<tr><td><a href=\"#host-{i}\">{n}</a></td><td>{t}</td><td data-v=\"{vv}\"><span class=\"v v-{v}\">{v}</span></td><td class=\"n\" data-v=\"{c}\">{c}</td>",
            i = esc(&h.name),
            n = esc(&h.name),
            t = esc(&h.time),
            v = esc(&h.host_verdict),
            vv = match h.host_verdict.as_str() {
                "ok" => 0,
                "warn" => 1,
                _ => 2,
            },
            c = p.len()
        );
        for (ids, _) in &cols {
            let n = p.values().filter(|v| v.as_str() == *ids).count();
            let _ = write!(
                s,
                "<td class=\"n{}\" data-v=\"{n}\">{n}</td>",
                if n == 0 { " z" } else { "" }
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s.push_str("<div class=\"legend\"><span><i class=\"sw\" style=\"background:#dafbe1;border-color:#1a7f37\"></i>ok</span><span><i class=\"sw\" style=\"background:#fff8c5;border-color:#bf8700\"></i>warn</span><span><i class=\"sw\" style=\"background:#ffebe9;border-color:#cf222e\"></i>fail</span><span><i class=\"sw\" style=\"background:#eef1f4\"></i>bridge</span><span><i class=\"sw\" style=\"background:#8250df\"></i>bound to ppt (/dev/pptN)</span><span><i class=\"sw\" style=\"background:#0969da\"></i>R: reserved for ppt at next boot (dashed outline)</span></div>");
    s
}

/// One host's section: its verdict and topology.
fn section(h: &HostView) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<section class=\"host\" id=\"host-{}\"><header><h2>{}</h2><span class=\"v v-{v}\">host {v}</span><span class=\"sub\">{} · {} functions</span></header>",
        esc(&h.name),
        esc(&h.name),
        esc(&h.time),
        h.functions.len(),
        v = esc(&h.host_verdict)
    );
    if let Some(r) = &h.host_reason {
        let _ = write!(s, "<div class=\"reason\">{}</div>", esc(r));
    }
    s.push_str(&topology_svg(h));
    s.push_str("</section>");
    s
}

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
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
            f.bridge,
        ));
        e.0 &= f.verdict != "fail" && f.in_vm != Some(true);
        e.2 |= f.bridge;
    }
    dev.into_iter()
        .filter(|(_, (ok, _, bridge))| *ok && !*bridge)
        .map(|(k, (_, ids, _))| (k.to_string(), ids))
        .collect()
}

const CSS: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}
.sub{color:#57606a;margin-bottom:16px}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 3px #0002;border-radius:6px;overflow:hidden}
th,td{padding:6px 10px;border-bottom:1px solid #eaeef2;text-align:left;white-space:nowrap}
th{background:#24292f;color:#fff;cursor:pointer;user-select:none;position:sticky;top:0;font-weight:600}
th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.z{color:#afb8c1}
tr:hover td{background:#f3f8ff}
.v{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.v-ok{background:#dafbe1;color:#116329}.v-warn{background:#fff8c5;color:#7d4e00}.v-fail{background:#ffebe9;color:#a40e26}
section.host{background:#fff;margin:18px 0;padding:14px 16px;border-radius:6px;box-shadow:0 1px 3px #0002}
section.host header{display:flex;gap:12px;align-items:baseline;margin-bottom:8px}
.legend{display:flex;gap:14px;font-size:12px;color:#57606a;margin:10px 0 18px;flex-wrap:wrap}
.legend span{display:inline-flex;align-items:center;gap:5px}
.sw{width:14px;height:14px;border-radius:3px;display:inline-block;border:1px solid #0003}
svg text{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.reason{color:#a40e26;font-size:12px}
";

const JS: &str = "
(function(){
  var t=document.getElementById('fleet');
  if(!t){document.body.setAttribute('data-ready','1');return;}
  var ths=t.tHead.rows[0].cells;
  function key(td){var v=td.getAttribute('data-v');if(v!==null)return parseFloat(v);return td.textContent.toLowerCase();}
  Array.prototype.forEach.call(ths,function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var rows=Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
        if(x<y)return asc?-1:1;if(x>y)return asc?1:-1;return 0;});
      rows.forEach(function(r){t.tBodies[0].appendChild(r);});
    });
  });
  document.body.setAttribute('data-ready','1');
})();
";
