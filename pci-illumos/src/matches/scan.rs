//! libppt `get_matches`'s four `sscanf` calls, byte for byte: what a
//! `ppt_matches` line means.

use super::{is_c_space, IdToken, Rule, MAXPATHLEN};

/// One `sscanf` attempt: the number of conversions and where it stopped.
struct Scan {
    count: u8,
    first: Option<IdToken>,
    second: Option<IdToken>,
    end: usize,
}

/// `sscanf(s, "<lit>%4s")` or, with `two`, `sscanf(s, "<lit>%4s,%4s")`.
/// Literal bytes must match exactly (no whitespace skipping); each `%4s`
/// skips leading whitespace, then takes 1..=4 non-whitespace bytes. A
/// failure stops the scan with the conversions made so far (the EOF/0
/// distinction of C does not matter to libppt, which tests `== 1`/`== 2`).
fn scan(s: &[u8], lit: &[u8], two: bool) -> Scan {
    let mut out = Scan {
        count: 0,
        first: None,
        second: None,
        end: 0,
    };
    if !s.starts_with(lit) {
        return out;
    }
    let mut pos = lit.len();
    let Some((tok, p)) = scan_s4(s, pos) else {
        return out;
    };
    out.count = 1;
    out.first = Some(tok);
    out.end = p;
    pos = p;
    if !two {
        return out;
    }
    if s.get(pos) != Some(&b',') {
        return out;
    }
    let Some((tok, p)) = scan_s4(s, pos + 1) else {
        return out;
    };
    out.count = 2;
    out.second = Some(tok);
    out.end = p;
    out
}

/// One `%4s` conversion starting at `pos`.
fn scan_s4(s: &[u8], mut pos: usize) -> Option<(IdToken, usize)> {
    while pos < s.len() && is_c_space(s[pos]) {
        pos += 1;
    }
    let start = pos;
    while pos < s.len() && pos - start < 4 && !is_c_space(s[pos]) {
        pos += 1;
    }
    if pos == start {
        return None;
    }
    Some((IdToken::from_slice(&s[start..pos]), pos))
}

/// One of libppt `get_matches`'s `sscanf` formats: a literal prefix, then
/// one `%4s`, or two separated by a comma.
struct Format {
    /// The format as written in libppt.
    text: &'static str,
    literal: &'static [u8],
    two: bool,
}

/// The formats in the order libppt tries them; pattern `n` of
/// [`ParsedLine::pattern`] is the `n`th.
const FORMATS: [Format; 4] = [
    Format {
        text: "pciex%4s,%4s",
        literal: b"pciex",
        two: true,
    },
    Format {
        text: "pci%4s,%4s",
        literal: b"pci",
        two: true,
    },
    Format {
        text: "pciex%4s",
        literal: b"pciex",
        two: false,
    },
    Format {
        text: "pci%4s",
        literal: b"pci",
        two: false,
    },
];

/// The `sscanf` format of pattern `pattern` (1..=4, as in
/// [`ParsedLine::pattern`]), e.g. `pciex%4s,%4s`.
pub fn sscanf_format(pattern: u8) -> Option<&'static str> {
    let i = usize::from(pattern).checked_sub(1)?;
    FORMATS.get(i).map(|f| f.text)
}

/// A line as libppt reads it, and how far its `sscanf` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// What libppt makes of the line.
    pub rule: Rule,
    /// Which `sscanf` pattern accepted it (1..=4), if one did.
    pub pattern: Option<u8>,
    /// Byte offset just after the last conversion (id/vendor rules); what
    /// follows is ignored by libppt.
    pub end: usize,
}

/// libppt's reading of one line. `line` is the line without its `\n`
/// (libppt strips exactly one; a `\r` stays). It is treated as a C string:
/// bytes from the first NUL on do not exist for libppt.
pub fn parse_line(line: &[u8]) -> ParsedLine {
    let c = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    for (i, format) in FORMATS.iter().enumerate() {
        let (lit, two) = (format.literal, format.two);
        let sc = scan(c, lit, two);
        let want = if two { 2 } else { 1 };
        if sc.count == want {
            let pattern = Some(i as u8 + 1);
            let rule = match (sc.first, sc.second) {
                (Some(vendor), Some(device)) => Rule::Id { vendor, device },
                (Some(vendor), None) => Rule::Vendor { vendor },
                // count == want guarantees the tokens are there.
                _ => Rule::Ignored,
            };
            return ParsedLine {
                rule,
                pattern,
                end: sc.end,
            };
        }
    }
    if c.first() == Some(&b'/') {
        let n = c.len().min(MAXPATHLEN - 1);
        return ParsedLine {
            rule: Rule::Path(c[..n].to_vec()),
            pattern: None,
            end: n,
        };
    }
    ParsedLine {
        rule: Rule::Ignored,
        pattern: None,
        end: 0,
    }
}
