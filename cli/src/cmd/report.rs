//! `pptctl report --html FILE` (this host) and `pptctl fleet report --html
//! FILE`: one self-contained page (inline CSS, JS and SVG, nothing fetched)
//! with a sortable table of hosts × passable devices and, per host, its PCI
//! topology drawn as a tree (root complexes, bridges, devices; colour =
//! verdict; ppt and reserved functions marked).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use fleet::FunctionRow;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl report` and `pptctl fleet report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Write the HTML page to FILE (replaced atomically).
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,
}

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

/// `pptctl report --html FILE`: this host (as `--from` reads it).
pub fn run(global: &Global, args: ReportArgs) -> Result<ExitCode, CliError> {
    let host = global.load_host()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let name = global.source_label();
    let rec = fleet::derive::from_host(&host, name, now);
    let view = HostView {
        name: rec.host.clone(),
        time: fleet::time::format_rfc3339(rec.taken_at),
        host_verdict: rec.host_verdict.clone(),
        host_reason: rec.host_reason.clone(),
        functions: rec.functions,
    };
    write_page(&args.html, &render("pptctl report", &[view]))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` through a temporary file and a rename, so a
/// reader never sees half a page.
pub fn write_page(path: &Path, text: &str) -> Result<(), CliError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| CliError::input(format!("{}: not a file name", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let fail =
        |e: std::io::Error| CliError::failed(format!("cannot write {}: {e}", path.display()));
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// HTML-escapes text.
fn esc(s: &str) -> String {
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

fn fill(verdict: &str, bridge: bool) -> (&'static str, &'static str) {
    match (verdict, bridge) {
        (_, true) => ("#eef1f4", "#8c959f"),
        ("fail", _) => ("#ffebe9", "#cf222e"),
        ("warn", _) => ("#fff8c5", "#bf8700"),
        _ => ("#dafbe1", "#1a7f37"),
    }
}

/// The host's topology as an SVG tree: one row per node, children
/// indented under their bridge, root complexes (domain and root bus) on top.
fn topology_svg(h: &HostView) -> String {
    let by_addr: HashMap<&str, &FunctionRow> = h
        .functions
        .iter()
        .map(|f| (f.address.as_str(), f))
        .collect();
    let mut children: BTreeMap<Option<&str>, Vec<&FunctionRow>> = BTreeMap::new();
    for f in &h.functions {
        let p = f.parent.as_deref().filter(|p| by_addr.contains_key(p));
        children.entry(p).or_default().push(f);
    }
    // Root complexes: the root-bus functions grouped by domain:bus.
    let mut roots: BTreeMap<String, Vec<&FunctionRow>> = BTreeMap::new();
    for f in children.get(&None).cloned().unwrap_or_default() {
        let rc = f
            .address
            .rsplit_once(':')
            .map_or("", |(d, _)| d)
            .to_string();
        roots.entry(rc).or_default().push(f);
    }
    struct Row {
        depth: usize,
        label: String,
        fill: &'static str,
        stroke: &'static str,
        badge: Option<String>,
        reserved: bool,
        title: String,
        parent_row: Option<usize>,
    }
    let mut rows: Vec<Row> = Vec::new();
    fn walk<'a>(
        f: &'a FunctionRow,
        depth: usize,
        parent_row: Option<usize>,
        children: &BTreeMap<Option<&'a str>, Vec<&'a FunctionRow>>,
        rows: &mut Vec<Row>,
    ) {
        let (fl, st) = fill(&f.verdict, f.bridge);
        let name = f
            .device_name
            .as_deref()
            .or(f.vendor_name.as_deref())
            .unwrap_or("");
        let mut name = name.to_string();
        if name.chars().count() > 38 {
            name = name.chars().take(37).collect::<String>() + "…";
        }
        let mut title = format!(
            "{} {:04x}:{:04x} {}",
            f.address, f.vendor, f.device, f.verdict
        );
        if let Some(r) = &f.fail_reason {
            title.push_str(&format!(" — {r}"));
        }
        if let Some(p) = &f.devfs_path {
            title.push_str(&format!("\n{p}"));
        }
        let badge = match (&f.ppt_dev, f.driver.as_deref()) {
            (Some(d), _) => Some(d.trim_start_matches("/dev/").to_string()),
            (None, Some("ppt")) => Some("ppt".to_string()),
            _ => None,
        };
        let me = rows.len();
        rows.push(Row {
            depth,
            label: format!(
                "{} {:04x}:{:04x} {}",
                f.address.strip_prefix("0000:").unwrap_or(&f.address),
                f.vendor,
                f.device,
                name
            ),
            fill: fl,
            stroke: st,
            badge,
            reserved: f.reserved == Some(true) || f.next_boot_ppt == Some(true),
            title,
            parent_row,
        });
        if let Some(kids) = children.get(&Some(f.address.as_str())) {
            for k in kids {
                walk(k, depth + 1, Some(me), children, rows);
            }
        }
    }
    for (rc, fs) in &roots {
        let me = rows.len();
        rows.push(Row {
            depth: 0,
            label: format!("root complex {rc}"),
            fill: "#24292f",
            stroke: "#24292f",
            badge: None,
            reserved: false,
            title: format!("PCI root bus {rc}"),
            parent_row: None,
        });
        for f in fs {
            walk(f, 1, Some(me), &children, &mut rows);
        }
    }
    let (row_h, indent, box_w) = (24usize, 26usize, 470usize);
    let max_depth = rows.iter().map(|r| r.depth).max().unwrap_or(0);
    let width = 20 + max_depth * indent + box_w + 80;
    let height = rows.len() * row_h + 12;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"PCI topology of {}\">",
        esc(&h.name)
    );
    for (i, r) in rows.iter().enumerate() {
        if let Some(p) = r.parent_row {
            let px = 10 + rows[p].depth * indent + 10;
            let py = p * row_h + 6 + 18;
            let cy = i * row_h + 6 + 9;
            let cx = 10 + r.depth * indent;
            let _ = write!(
                s,
                "<path d=\"M{px} {py}V{cy}H{cx}\" fill=\"none\" stroke=\"#afb8c1\"/>"
            );
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let x = 10 + r.depth * indent;
        let y = i * row_h + 6;
        let text_fill = if r.fill == "#24292f" {
            "#fff"
        } else {
            "#1f2328"
        };
        let dash = if r.reserved {
            " stroke-dasharray=\"5 3\" stroke-width=\"2\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<g><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{box_w}\" height=\"18\" rx=\"4\" fill=\"{}\" stroke=\"{}\"{dash}/><text x=\"{}\" y=\"{}\" fill=\"{text_fill}\">{}</text>",
            esc(&r.title),
            r.fill,
            r.stroke,
            x + 6,
            y + 13,
            esc(&r.label)
        );
        let mut bx = x + box_w + 6;
        if let Some(b) = &r.badge {
            let _ = write!(
                s,
                "<rect x=\"{bx}\" y=\"{y}\" width=\"40\" height=\"18\" rx=\"9\" fill=\"#8250df\"/><text x=\"{}\" y=\"{}\" fill=\"#fff\" text-anchor=\"middle\">{}</text>",
                bx + 20,
                y + 13,
                esc(b)
            );
            bx += 46;
        }
        if r.reserved {
            let _ = write!(
                s,
                "<rect x=\"{bx}\" y=\"{y}\" width=\"18\" height=\"18\" rx=\"9\" fill=\"#0969da\"/><text x=\"{}\" y=\"{}\" fill=\"#fff\" text-anchor=\"middle\">R</text>",
                bx + 9,
                y + 13
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// The whole page.
pub fn render(title: &str, hosts: &[HostView]) -> String {
    let passable: Vec<BTreeMap<String, String>> = hosts.iter().map(passable_devices).collect();
    // Columns: the device IDs passable somewhere, most common first (at most 12).
    let mut freq: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &passable {
        for ids in p.values() {
            *freq.entry(ids.as_str()).or_default() += 1;
        }
    }
    let mut cols: Vec<(&str, usize)> = freq.into_iter().collect();
    cols.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    cols.truncate(12);
    let names: HashMap<String, String> = hosts
        .iter()
        .flat_map(|h| h.functions.iter())
        .map(|f| {
            (
                format!("{:04x}:{:04x}", f.vendor, f.device),
                format!(
                    "{} {}",
                    f.vendor_name.as_deref().unwrap_or(""),
                    f.device_name.as_deref().unwrap_or("")
                ),
            )
        })
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(title)
    );
    let total: usize = passable.iter().map(BTreeMap::len).sum();
    let _ = write!(
        s,
        "<h1>{}</h1><div class=\"sub\">{} host{}, {} passable device{} at the latest snapshots</div>",
        esc(title),
        hosts.len(),
        if hosts.len() == 1 { "" } else { "s" },
        total,
        if total == 1 { "" } else { "s" }
    );
    s.push_str("<table id=\"fleet\"><thead><tr><th>host</th><th>snapshot</th><th>host verdict</th><th>passable</th>");
    for (ids, _) in &cols {
        let _ = write!(
            s,
            "<th title=\"{}\">{}</th>",
            esc(names.get(*ids).map_or("", String::as_str)),
            esc(ids)
        );
    }
    s.push_str("</tr></thead><tbody>");
    for (h, p) in hosts.iter().zip(&passable) {
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
    for h in hosts {
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
    }
    let _ = writeln!(s, "<script>{JS}</script></body></html>");
    s
}
