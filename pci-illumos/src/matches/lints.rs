//! Lints of `ppt_matches` lines (and the path lints `ppt_aliases` shares):
//! what a line does not do that its writer probably meant.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use super::{is_c_space, IdToken, ParsedLine, Rule, MAXPATHLEN};

/// Stable lint codes for `ppt_matches` lines and `ppt_aliases` entries.
/// The strings returned by [`LintCode::as_str`] are part of the JSON
/// output of `pptctl match` and never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum LintCode {
    /// An ID written with upper-case hex digits: never equal to `"%x"`.
    UpperHex,
    /// An ID written with leading zeros: never equal to `"%x"`.
    ZeroPaddedHex,
    /// An ID token that is not hex at all (`e11,` from `pcie11,ae10`, `clas`).
    NotHex,
    /// A `pciclass,...` line: libppt reads vendor `clas` and matches nothing.
    ClassRule,
    /// A line that looks like vendor+device but libppt reads vendor only,
    /// so it selects every device of the vendor.
    DeviceIgnored,
    /// Text after the last conversion is ignored (`pci8086,1528.8086.1528`).
    TrailingIgnored,
    /// A path starting with `/devices`: devfs paths are compared without it.
    DevicesPrefix,
    /// A path with a `:minor` suffix such as `:ppt`.
    MinorSuffix,
    /// A path component without `@unit-address`.
    MissingUnitAddress,
    /// Whitespace at the end of a path (it is compared byte for byte).
    TrailingWhitespace,
    /// The line ends with `\r` (DOS line ending).
    Crlf,
    /// Leading whitespace before `pci...` or `/...`: libppt ignores the line.
    LeadingWhitespace,
    /// A non-comment line libppt does not understand and ignores.
    UnknownPrefix,
    /// The same rule as an earlier line.
    Duplicate,
    /// A path that names no node of this host.
    NoSuchPath,
    /// A rule that matches no function of this host.
    MatchesNothing,
    /// A path longer than libppt keeps (`MAXPATHLEN - 1` bytes).
    PathTooLong,
    /// The line contains a NUL byte; libppt stops reading the line there.
    NulByte,
    /// The line is longer than pptctl keeps in memory.
    LineTooLong,
    /// Alias files: a syntax error the kernel warns about and skips.
    AliasSyntax,
    /// Alias files: an unquoted path, rejected by the kernel's lexer.
    UnquotedPath,
    /// Alias files: a driver name not in `name_to_major` (line skipped).
    UnknownDriver,
    /// Alias files: the alias is already bound (first binding wins).
    DuplicateAlias,
    /// Alias files: a compatible alias that binds several functions.
    BindsSeveral,
    /// Alias files: a compatible alias that takes a function from the
    /// driver it would otherwise get.
    StealsDevice,
    /// Alias files: functions list this compatible string, but a more
    /// specific entry of their `compatible` list binds them first.
    Shadowed,
    /// Alias files: a path alias for a node no driver binds first, which
    /// the kernel therefore never rebinds (or whose driver is not active).
    PathAliasUnclaimed,
    /// `ppt_matches`: a path rule that matches uninitialised nodes by the
    /// address-less path libppt sees for them.
    UninitializedPath,
}

impl LintCode {
    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            LintCode::UpperHex => "upper-case-hex",
            LintCode::ZeroPaddedHex => "zero-padded-hex",
            LintCode::NotHex => "not-hex",
            LintCode::ClassRule => "class-rule",
            LintCode::DeviceIgnored => "device-ignored",
            LintCode::TrailingIgnored => "trailing-ignored",
            LintCode::DevicesPrefix => "devices-prefix",
            LintCode::MinorSuffix => "minor-suffix",
            LintCode::MissingUnitAddress => "missing-unit-address",
            LintCode::TrailingWhitespace => "trailing-whitespace",
            LintCode::Crlf => "crlf",
            LintCode::LeadingWhitespace => "leading-whitespace",
            LintCode::UnknownPrefix => "unknown-prefix",
            LintCode::Duplicate => "duplicate",
            LintCode::NoSuchPath => "no-such-path",
            LintCode::MatchesNothing => "matches-nothing",
            LintCode::PathTooLong => "path-too-long",
            LintCode::NulByte => "nul-byte",
            LintCode::LineTooLong => "line-too-long",
            LintCode::AliasSyntax => "alias-syntax",
            LintCode::UnquotedPath => "unquoted-path",
            LintCode::UnknownDriver => "unknown-driver",
            LintCode::DuplicateAlias => "duplicate-alias",
            LintCode::BindsSeveral => "binds-several",
            LintCode::StealsDevice => "steals-device",
            LintCode::Shadowed => "shadowed",
            LintCode::PathAliasUnclaimed => "path-alias-unclaimed",
            LintCode::UninitializedPath => "uninitialized-path",
        }
    }
}

impl fmt::Display for LintCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One warning about a line: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lint {
    /// The stable code.
    pub code: LintCode,
    /// What libppt/the kernel will do and what was probably meant.
    pub message: String,
}

impl Lint {
    pub(crate) fn new(code: LintCode, message: impl Into<String>) -> Lint {
        Lint {
            code,
            message: message.into(),
        }
    }
}

fn token_lints(what: &str, t: &IdToken, out: &mut Vec<Lint>) {
    if t.canonical_value().is_some() {
        return;
    }
    let text = t.to_text();
    if t.is_hex_digits() {
        let lower = text.to_ascii_lowercase();
        let canon = lower.trim_start_matches('0');
        let canon = if canon.is_empty() { "0" } else { canon };
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            out.push(Lint::new(
                LintCode::UpperHex,
                format!(
                    "{what} `{text}` has upper-case hex; libppt compares with lower-case \"%x\", so it never matches (write `{canon}`)"
                ),
            ));
        }
        if text.len() > 1 && text.starts_with('0') {
            out.push(Lint::new(
                LintCode::ZeroPaddedHex,
                format!(
                    "{what} `{text}` has leading zeros; libppt compares with unpadded \"%x\", so it never matches (write `{canon}`)"
                ),
            ));
        }
    } else {
        let hint = if text.contains(',') {
            " (%4s reads four characters and swallowed the comma: IDs with fewer than four digits cannot be written for a vendor)"
        } else {
            ""
        };
        out.push(Lint::new(
            LintCode::NotHex,
            format!("libppt reads {what} `{text}`, which is not an ID, so this line never matches{hint}"),
        ));
    }
}

/// Lints that depend only on the line's text.
pub(super) fn text_lints(raw: &[u8], parsed: &ParsedLine) -> Vec<Lint> {
    let mut out = Vec::new();
    let c = match raw.iter().position(|&b| b == 0) {
        Some(n) => {
            out.push(Lint::new(
                LintCode::NulByte,
                format!(
                    "line contains a NUL byte at offset {n}; libppt ignores everything from there"
                ),
            ));
            &raw[..n]
        }
        None => raw,
    };
    if c.last() == Some(&b'\r') {
        let effect = if matches!(parsed.rule, Rule::Path(_)) {
            "the `\\r` becomes part of the path, so it never matches"
        } else {
            "harmless on this line (%4s stops at `\\r`), but the file was written with DOS line endings"
        };
        out.push(Lint::new(
            LintCode::Crlf,
            format!("line ends with `\\r`: {effect}"),
        ));
    }
    let class_rule = c.starts_with(b"pciclass") || c.starts_with(b"pciexclass");
    match &parsed.rule {
        Rule::Id { .. } | Rule::Vendor { .. } if class_rule => out.push(Lint::new(
            LintCode::ClassRule,
            "libppt has no class rules: this line reads as vendor `clas` and never matches",
        )),
        Rule::Id { vendor, device } => {
            token_lints("vendor", vendor, &mut out);
            token_lints("device", device, &mut out);
            if vendor.canonical_value().is_some() && device.canonical_value().is_some() {
                trailing_lint(c, parsed.end, true, &mut out);
            }
        }
        Rule::Vendor { vendor } => {
            token_lints("vendor", vendor, &mut out);
            let rest = &c[parsed.end.min(c.len())..];
            let after_ws: Vec<u8> = rest
                .iter()
                .copied()
                .skip_while(|&b| is_c_space(b))
                .collect();
            if after_ws.first() == Some(&b',') && vendor.canonical_value().is_some() {
                out.push(Lint::new(
                    LintCode::DeviceIgnored,
                    format!(
                        "libppt reads only the vendor `{vendor}` here (the device is read only when a comma follows the vendor directly and a device follows the comma), so this line selects every device of vendor {vendor}"
                    ),
                ));
            } else if vendor.canonical_value().is_some() {
                trailing_lint(c, parsed.end, false, &mut out);
            }
        }
        Rule::Path(p) => path_lints("libppt", c, p, &mut out),
        Rule::Ignored => {
            // Blank lines and comments are fine; a rule indented by
            // whitespace is ignored because libppt tests the first byte
            // literally; anything else has no rule prefix at all.
            if let Some(i) = c.iter().position(|&b| !is_c_space(b)) {
                let rest = &c[i..];
                if rest[0] != b'#' {
                    out.push(if i > 0 && (rest.starts_with(b"pci") || rest.starts_with(b"/")) {
                        Lint::new(
                            LintCode::LeadingWhitespace,
                            "leading whitespace: libppt's literal `pci`/`/` test does not skip it, so the line is ignored",
                        )
                    } else {
                        Lint::new(
                            LintCode::UnknownPrefix,
                            "libppt ignores this line: a rule starts with `pciex`, `pci` (lower case) or `/`",
                        )
                    });
                }
            }
        }
    }
    out
}

/// Text right after the last conversion that is not separated by
/// whitespace (`pci8086,1528.8086.1528`) is silently dropped; text after
/// whitespace reads as a comment and is fine.
fn trailing_lint(c: &[u8], end: usize, id: bool, out: &mut Vec<Lint>) {
    let rest = &c[end.min(c.len())..];
    if let Some(&b) = rest.first() {
        if !is_c_space(b) {
            let shown = String::from_utf8_lossy(&rest[..rest.len().min(40)]).into_owned();
            let what = if id { "device" } else { "vendor" };
            out.push(Lint::new(
                LintCode::TrailingIgnored,
                format!(
                    "libppt reads at most 4 characters for the {what} and ignores `{shown}`: subsystem or revision parts do not narrow the match"
                ),
            ));
        }
    }
}

pub(crate) fn path_lints(who: &str, c: &[u8], kept: &[u8], out: &mut Vec<Lint>) {
    if c.len() > kept.len() {
        out.push(Lint::new(
            LintCode::PathTooLong,
            format!(
                "path is {} bytes; {who} keeps only the first {} (MAXPATHLEN - 1)",
                c.len(),
                MAXPATHLEN - 1
            ),
        ));
    }
    let text = String::from_utf8_lossy(kept).into_owned();
    // A final `\r` has its own lint (crlf); other trailing whitespace here.
    let body = text.strip_suffix('\r').unwrap_or(&text);
    let trimmed = body.trim_end_matches(|ch: char| ch.is_ascii() && is_c_space(ch as u8));
    if trimmed.len() != body.len() {
        out.push(Lint::new(
            LintCode::TrailingWhitespace,
            format!("trailing whitespace is part of the path for {who}, so it never matches"),
        ));
    }
    // The one devfs normaliser's lexical split says what it would strip;
    // libppt strips nothing from ppt_matches lines, hence the lints.
    let (had_devices, body, minor) = crate::devfs::split_lexically(trimmed);
    let mut path = trimmed;
    if had_devices {
        path = &trimmed[crate::devfs::DEVICES_PREFIX.len()..];
        out.push(Lint::new(
            LintCode::DevicesPrefix,
            format!("{who} compares devfs paths without `/devices`; write `{path}`"),
        ));
    }
    if let Some(minor) = minor {
        path = body;
        out.push(Lint::new(
            LintCode::MinorSuffix,
            format!("{who} compares devfs paths without a minor name: drop `:{minor}` and write `{path}`"),
        ));
    }
    let comps: Vec<&str> = path.split('/').skip(1).filter(|c| !c.is_empty()).collect();
    let last = comps.len().saturating_sub(1);
    let missing: Vec<&str> = comps
        .iter()
        .enumerate()
        .filter(|(_, comp)| match comp.find('@') {
            None => true,
            Some(i) => i + 1 == comp.len(),
        })
        // libppt compares `di_devfs_path`, whose last component is a bare
        // node name while the node is uninitialised (no driver attached
        // it): that form can match. Parents of a node are initialised,
        // and the kernel compares path aliases with the address-filled
        // path, so everywhere else a missing address never matches.
        .filter(|(i, comp)| !(who == "libppt" && *i == last && !comp.contains('@')))
        .map(|(_, comp)| *comp)
        .collect();
    if !missing.is_empty() {
        out.push(Lint::new(
            LintCode::MissingUnitAddress,
            format!(
                "path component{} `{}` lack{} a unit address (`name@addr`); {}, so it never matches",
                if missing.len() > 1 { "s" } else { "" },
                missing.join("`, `"),
                if missing.len() > 1 { "" } else { "s" },
                if who == "libppt" {
                    "every level above the node itself has one in the path libppt compares"
                } else {
                    "the kernel compares path aliases with the path that has one at every level"
                }
            ),
        ));
    }
}

/// Paths of `candidates` that `wanted` probably meant: same components,
/// where a component of `wanted` without `@unit` equals the node-name part
/// of the candidate's component. Used to suggest the full path when a unit
/// address is missing.
pub fn suggest_paths<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let w: Vec<&str> = wanted.split('/').collect();
    let mut out: Vec<String> = candidates
        .filter(|c| {
            let cc: Vec<&str> = c.split('/').collect();
            cc.len() == w.len()
                && cc
                    .iter()
                    .zip(&w)
                    .all(|(c, w)| c == w || (!w.contains('@') && c.split('@').next() == Some(*w)))
        })
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Appends "did you mean" paths to a path lint that says the path cannot
/// match (missing unit address, `/devices`, minor, trailing whitespace).
pub(crate) fn add_suggestions(wanted: &str, paths: &HashSet<&str>, lints: &mut [Lint]) {
    let Some(l) = lints.iter_mut().find(|l| {
        matches!(
            l.code,
            LintCode::MissingUnitAddress
                | LintCode::DevicesPrefix
                | LintCode::MinorSuffix
                | LintCode::TrailingWhitespace
                | LintCode::Crlf
        )
    }) else {
        return;
    };
    let (_, w, _) =
        crate::devfs::split_lexically(wanted.trim_end_matches(|c: char| c.is_ascii_whitespace()));
    let sugg = suggest_paths(w, paths.iter().copied());
    if !sugg.is_empty() {
        l.message
            .push_str(&format!("; this host has \"{}\"", sugg.join("\" and \"")));
    }
}
