//! One host's PCI topology as an inline SVG tree: one row per node,
//! children indented under their bridge, root complexes on top; colour is
//! the verdict, infrastructure is grey ("not passable", not a failure),
//! ppt-bound and reserved functions are marked. Names are drawn whole: the
//! boxes are as wide as the longest label, so nothing that tells two
//! devices apart is cut.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use fleet::FunctionRow;

use super::host::is_infrastructure;
use super::page::{esc, HostView};

fn fill(verdict: &str, infra: bool) -> (&'static str, &'static str) {
    match (verdict, infra) {
        (_, true) => ("#eef1f4", "#8c959f"),
        ("fail", _) => ("#ffebe9", "#cf222e"),
        ("warn", _) => ("#fff8c5", "#bf8700"),
        _ => ("#dafbe1", "#1a7f37"),
    }
}

/// The host's topology as an SVG tree: one row per node, children
/// indented under their bridge, root complexes (domain and root bus) on top.
pub fn topology_svg(h: &HostView) -> String {
    let rows = rows(h);
    let max_depth = rows.iter().map(|r| r.depth).max().unwrap_or(0);
    let box_w = box_width(&rows);
    let width = 20 + max_depth * INDENT + box_w + 80;
    let height = rows.len() * ROW_H + 12;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"PCI topology of {}\">",
        esc(&h.name)
    );
    for (i, r) in rows.iter().enumerate() {
        if let Some(p) = r.parent_row {
            let px = 10 + rows[p].depth * INDENT + 10;
            let py = p * ROW_H + 6 + 18;
            let cy = i * ROW_H + 6 + 9;
            let cx = 10 + r.depth * INDENT;
            let _ = write!(
                s,
                "<path d=\"M{px} {py}V{cy}H{cx}\" fill=\"none\" stroke=\"#afb8c1\"/>"
            );
        }
    }
    for (i, r) in rows.iter().enumerate() {
        draw_row(&mut s, r, i, box_w);
    }
    s.push_str("</svg>");
    s
}

/// Height of a row, indent per level, narrowest box.
const ROW_H: usize = 24;
const INDENT: usize = 26;
const MIN_BOX_W: usize = 300;

/// The boxes' width: the longest label at 12px monospace (7.3px a
/// character, rounded up) plus padding.
fn box_width(rows: &[Row]) -> usize {
    let chars = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    (chars * 73).div_ceil(10).saturating_add(16).max(MIN_BOX_W)
}

/// One node of the drawing.
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

/// The rows in drawing order: each root complex, then its functions
/// depth first.
fn rows(h: &HostView) -> Vec<Row> {
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
    let mut rows: Vec<Row> = Vec::new();
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
    rows
}

/// Adds `f`'s row and, below it, its children's.
fn walk<'a>(
    f: &'a FunctionRow,
    depth: usize,
    parent_row: Option<usize>,
    children: &BTreeMap<Option<&'a str>, Vec<&'a FunctionRow>>,
    rows: &mut Vec<Row>,
) {
    let me = rows.len();
    rows.push(function_row(f, depth, parent_row));
    if let Some(kids) = children.get(&Some(f.address.as_str())) {
        for k in kids {
            walk(k, depth + 1, Some(me), children, rows);
        }
    }
}

/// A function's row: its label, colours, tooltip and marks.
fn function_row(f: &FunctionRow, depth: usize, parent_row: Option<usize>) -> Row {
    let infra = is_infrastructure(f);
    let (fl, st) = fill(&f.verdict, infra);
    let name = f
        .device_name
        .as_deref()
        .or(f.vendor_name.as_deref())
        .unwrap_or("");
    let verdict = if infra {
        "not passable (infrastructure)"
    } else {
        f.verdict.as_str()
    };
    let mut title = format!("{} {:04x}:{:04x} {verdict}", f.address, f.vendor, f.device);
    if let Some(r) = f.fail_reason.as_ref().filter(|_| !infra) {
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
    Row {
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
    }
}

/// Row `i`: its box with label and tooltip, the ppt badge, the
/// reservation mark.
fn draw_row(s: &mut String, r: &Row, i: usize, box_w: usize) {
    let x = 10 + r.depth * INDENT;
    let y = i * ROW_H + 6;
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
