//! The page: head (title, who made it and when), the fleet's summary
//! table when there is one, one section per host, and the script. Written
//! in order to any writer, so `fleet report` holds one host's functions at
//! a time, never the fleet's.

use std::collections::HashMap;
use std::fmt::Write as _;

use fleet::{FunctionRow, HostVerification};

use super::assets::{CSS, JS};
use super::host::section;
use super::summary::{summary_table, HostRow, Names};
use crate::error::CliError;

/// One host as the page shows it.
pub struct HostView {
    /// The host's own name (from its snapshot or `/etc/nodename`).
    pub name: String,
    /// Snapshot time (RFC 3339).
    pub time: String,
    /// Snapshot time, Unix seconds.
    pub taken_at: i64,
    /// Host verdict.
    pub host_verdict: String,
    /// Host-wide findings, worst first, each `severity code: message`.
    pub host_reasons: Vec<String>,
    /// Its functions.
    pub functions: Vec<FunctionRow>,
    /// Findings per function address, each `severity code: message`: a
    /// session's check, or the warn and fail findings the fleet stored
    /// (schema 6); a function without an entry has only the fleet's stored
    /// `fail_reason` (a row stored before schema 6).
    pub reasons: HashMap<String, Vec<String>>,
    /// Per function address, the file and line (or the reason) that decides
    /// what it is bound to after the next boot, when known.
    pub next_by: HashMap<String, String>,
    /// What `fleet verify` says of the host's last reboot (`None`: not
    /// from a fleet database).
    pub after_reboot: Option<HostVerification>,
}

/// Who wrote the page, when, and how old a snapshot may be before it is
/// marked stale.
pub struct Stamp {
    /// Unix seconds the page was generated.
    pub now: i64,
    /// The first line of `pptctl --version`.
    pub version: String,
    /// Snapshots older than this many seconds are marked stale.
    pub max_age: Option<i64>,
    /// Where the host was read from (`pptctl report`), shown as such.
    pub source: Option<String>,
}

impl Stamp {
    /// The page's stamp line.
    fn line(&self) -> String {
        let mut s = format!(
            "generated {} by {}",
            fleet::time::format_rfc3339(self.now),
            self.version
        );
        if let Some(src) = &self.source {
            let _ = write!(s, " · read from {src}");
        }
        if let Some(m) = self.max_age {
            let _ = write!(s, " · stale: snapshot older than {}", age_text(m));
        }
        s
    }

    /// How old a snapshot taken at `taken_at` is, and whether it is stale.
    pub fn age(&self, taken_at: i64) -> (i64, bool) {
        let age = (self.now - taken_at).max(0);
        (age, self.max_age.is_some_and(|m| age > m))
    }
}

/// A duration in its largest whole unit (`3d`, `5h`, `12m`, `40s`).
pub fn age_text(secs: i64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3600 => format!("{}h", s / 3600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// How a page links to a host's section.
#[derive(Clone, Copy)]
pub enum Links {
    /// `#host-NAME` on the same page.
    Anchor,
    /// `hosts/FILE.html` beside the summary ([`host_file`]).
    Files,
}

/// The file name of a host's page in a report directory: `h-` and the
/// name with every byte outside `A-Za-z0-9.-` written `_xx` (hex), so two
/// names never share a file and none leaves the directory.
pub fn host_file(name: &str) -> String {
    let mut s = String::from("h-");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "_{b:02x}");
        }
    }
    s.push_str(".html");
    s
}

/// What goes above the hosts' sections.
pub struct Page<'a> {
    /// Title.
    pub title: &'a str,
    /// Who made it and when.
    pub stamp: &'a Stamp,
    /// The fleet's summary table (`None`: a one-host page).
    pub summary: Option<(&'a [HostRow], &'a Names, Links)>,
    /// A link back to the summary (a host page in a report directory).
    pub back: Option<&'a str>,
}

/// Writes the whole page to `out`: the head, then one section per host as
/// `hosts` yields them.
pub fn render_to(
    out: &mut dyn std::io::Write,
    page: &Page<'_>,
    hosts: impl IntoIterator<Item = Result<HostView, CliError>>,
) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::failed(format!("cannot write the page: {e}"));
    out.write_all(head(page).as_bytes()).map_err(io)?;
    for h in hosts {
        out.write_all(section(&h?, page.stamp).as_bytes())
            .map_err(io)?;
    }
    out.write_all(format!("<script>{JS}</script></body></html>\n").as_bytes())
        .map_err(io)
}

/// The page up to the first host's section.
fn head(page: &Page<'_>) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title><style>{CSS}</style></head><body><h1>{t}</h1><div class=\"stamp\">{}</div>",
        esc(&page.stamp.line()),
        t = esc(page.title),
    );
    if let Some(back) = page.back {
        let _ = write!(s, "<p><a href=\"{}\">← fleet summary</a></p>", esc(back));
    }
    if let Some((rows, names, links)) = page.summary {
        s.push_str(&summary_table(rows, names, links, page.stamp));
    }
    s.push_str(LEGEND);
    s
}

const LEGEND: &str = "<div class=\"legend\"><span><i class=\"sw\" style=\"background:#dafbe1;border-color:#1a7f37\"></i>ok</span><span><i class=\"sw\" style=\"background:#fff8c5;border-color:#bf8700\"></i>warn</span><span><i class=\"sw\" style=\"background:#ffebe9;border-color:#cf222e\"></i>fail</span><span><i class=\"sw\" style=\"background:#eef1f4\"></i>infrastructure (host bridge, root port): not passable</span><span><i class=\"sw\" style=\"background:#8250df\"></i>bound to ppt (/dev/pptN)</span><span><i class=\"sw\" style=\"background:#0969da\"></i>R: on ppt after the next boot (dashed outline)</span></div>";

/// HTML-escapes text: the one place every string from a snapshot passes
/// through before it reaches the page. Control characters (which a
/// snapshot may carry in a name or path) are shown as `\u{…}` escapes,
/// never written raw.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\n' => o.push('\n'),
            c if c.is_control() => {
                let _ = write!(o, "\\u{{{:x}}}", u32::from(c));
            }
            _ => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_leaves_no_markup_and_no_control_bytes() {
        let e = esc("<script>alert('x')</script>\u{1b}[31m\u{0}\"&");
        assert_eq!(
            e,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\\u{1b}[31m\\u{0}&quot;&amp;"
        );
    }

    #[test]
    fn host_files_are_distinct_and_stay_in_the_directory() {
        assert_eq!(host_file("gpu-node.a"), "h-gpu-node.a.html");
        assert_eq!(host_file("../x"), "h-.._2fx.html");
        assert_ne!(host_file("a_2f"), host_file("a/"));
        assert_eq!(host_file("<s>"), "h-_3cs_3e.html");
    }

    #[test]
    fn ages_in_their_largest_unit() {
        assert_eq!(age_text(3 * 86_400 + 5), "3d");
        assert_eq!(age_text(7200), "2h");
        assert_eq!(age_text(59), "59s");
    }
}
