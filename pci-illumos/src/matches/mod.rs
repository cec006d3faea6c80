//! `ppt_matches` parsing with libppt's exact semantics, and lints.
//!
//! `ppt_matches` binds nothing: it only tells `pptadm list -a` (libppt
//! `ppt_list`) which devices not yet bound to `ppt` to show as candidates
//! (illumos-gate `usr/src/lib/libppt/common/libppt.c`). What a line means is decided by four
//! `sscanf` calls in libppt `get_matches`, tried in order:
//!
//! 1. `"pciex%4s,%4s"` returning 2 → vendor + device rule,
//! 2. `"pci%4s,%4s"` returning 2 → vendor + device rule,
//! 3. `"pciex%4s"` returning 1 → vendor-only rule,
//! 4. `"pci%4s"` returning 1 → vendor-only rule,
//! 5. else a line whose first byte is `/` is a path rule (copied into a
//!    `MAXPATHLEN` buffer with `strlcpy`, so at most 1023 bytes survive),
//! 6. else the line is ignored.
//!
//! The C rules that matter, reproduced by [`parse_line`]: the literal prefix
//! does not skip whitespace, `%4s` does (any of `" \t\n\v\f\r"`), `%4s` reads
//! up to four non-whitespace bytes and so swallows commas, anything after
//! the last conversion is ignored, and the line is a C string (it ends at
//! the first NUL byte). Matching (`match_ppt`) compares the rule's strings
//! with `strcmp` against `"%x"` of the node's `vendor-id`/`device-id`
//! (lower-case, unpadded) and the devfs path without `/devices`; the first
//! rule in file order that matches wins.

use std::fmt;

use serde::Serialize;

mod lints;
mod read;
mod scan;

pub(crate) use lints::{add_suggestions, path_lints};
pub use lints::{suggest_paths, Lint, LintCode};
pub use read::{MatchesError, PptMatches, ReadLimits, MAX_MATCHES_FILE};
pub use scan::{parse_line, sscanf_format, ParsedLine};

/// The boot-module copy, read first by libppt (`get_matches`).
pub(crate) const MATCHES_BOOT: &str = "/system/boot/etc/ppt_matches";
/// The platform copy, read when the boot-module copy does not exist.
pub const MATCHES_ETC: &str = "/etc/ppt_matches";

/// The `ppt_matches` copies libppt `get_matches` reads, in its order: the
/// first that exists is the only one read.
pub const MATCHES_FILES: [&str; 2] = [MATCHES_BOOT, MATCHES_ETC];

/// `MAXPATHLEN` on illumos: libppt's `pm_path` buffer size. A path rule
/// keeps at most `MAXPATHLEN - 1` bytes (`strlcpy`).
pub const MAXPATHLEN: usize = 1024;

/// Whitespace as C `isspace` sees it in the C locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What `%4s` stored: one to four non-whitespace bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdToken {
    buf: [u8; 4],
    len: u8,
}

impl IdToken {
    fn from_slice(s: &[u8]) -> IdToken {
        let mut buf = [0u8; 4];
        let n = s.len().min(4);
        buf[..n].copy_from_slice(&s[..n]);
        IdToken { buf, len: n as u8 }
    }

    /// The stored bytes (1..=4 of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }

    /// The value this token stands for when it is spelled exactly as libppt
    /// formats an ID (`"%x"`: lower-case hex digits, no leading zero unless
    /// the value is 0). Any other spelling can never be equal to a formatted
    /// ID, so `None` means "this token matches no device at all".
    pub(crate) fn canonical_value(&self) -> Option<u32> {
        let b = self.as_bytes();
        if b.is_empty() || (b.len() > 1 && b[0] == b'0') {
            return None;
        }
        let mut v: u32 = 0;
        for &c in b {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return None,
            };
            v = (v << 4) | u32::from(d);
        }
        Some(v)
    }

    /// Whether the token is hex digits (any case, any padding) and so was
    /// probably meant as an ID.
    pub(crate) fn is_hex_digits(&self) -> bool {
        !self.as_bytes().is_empty() && self.as_bytes().iter().all(u8::is_ascii_hexdigit)
    }

    /// The token as text (invalid UTF-8 replaced).
    pub fn to_text(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_text())
    }
}

impl fmt::Display for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// What libppt makes of one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Vendor and device (`pm_vendor` and `pm_device` both set).
    Id {
        /// `pm_vendor`.
        vendor: IdToken,
        /// `pm_device`.
        device: IdToken,
    },
    /// Vendor only: every device of that vendor matches.
    Vendor {
        /// `pm_vendor`.
        vendor: IdToken,
    },
    /// A devfs path compared byte for byte with `di_devfs_path`; holds the
    /// bytes libppt keeps (at most `MAXPATHLEN - 1`, up to the first NUL).
    Path(Vec<u8>),
    /// libppt drops the line ("Ignore any line we don't understand"):
    /// blank lines, `#` comments and everything else it cannot read.
    Ignored,
}

/// The four kinds the JSON output names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Vendor and device.
    Id,
    /// Vendor only.
    Vendor,
    /// devfs path.
    Path,
    /// Not a rule.
    Ignored,
}

impl RuleKind {
    /// `id`, `vendor`, `path` or `ignored`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Id => "id",
            RuleKind::Vendor => "vendor",
            RuleKind::Path => "path",
            RuleKind::Ignored => "ignored",
        }
    }
}

impl Rule {
    /// The kind of rule.
    pub fn kind(&self) -> RuleKind {
        match self {
            Rule::Id { .. } => RuleKind::Id,
            Rule::Vendor { .. } => RuleKind::Vendor,
            Rule::Path(_) => RuleKind::Path,
            Rule::Ignored => RuleKind::Ignored,
        }
    }

    /// libppt `match_ppt` for one entry: `strcmp` of the path, or of the
    /// `"%x"`-formatted IDs. This is the reference the compiled matcher
    /// ([`crate::matcher`]) is tested against, so it compares strings on
    /// purpose instead of integers.
    pub fn matches_node(&self, node: &NodeIds<'_>) -> bool {
        self.matches_strings(&NodeStrings::of(node))
    }

    /// [`Rule::matches_node`] against IDs already formatted, as libppt
    /// formats them once per node (`populate_int_prop`).
    pub(crate) fn matches_strings(&self, node: &NodeStrings<'_>) -> bool {
        match self {
            Rule::Path(p) => p.as_slice() == node.path.as_bytes(),
            Rule::Vendor { vendor } => vendor.as_bytes() == node.vendor.as_bytes(),
            Rule::Id { vendor, device } => {
                vendor.as_bytes() == node.vendor.as_bytes()
                    && device.as_bytes() == node.device.as_bytes()
            }
            Rule::Ignored => false,
        }
    }
}

/// A node as libppt's `match_ppt` sees it: the path and the IDs printed
/// with `"%x"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStrings<'a> {
    /// devfs path.
    pub path: &'a str,
    /// `"%x"` of `vendor-id`.
    pub vendor: String,
    /// `"%x"` of `device-id`.
    pub device: String,
}

impl<'a> NodeStrings<'a> {
    /// Formats the IDs of `node`.
    pub fn of(node: &NodeIds<'a>) -> NodeStrings<'a> {
        NodeStrings {
            path: node.path,
            vendor: format!("{:x}", node.vendor),
            device: format!("{:x}", node.device),
        }
    }
}

/// What libppt compares a node with: its devfs path (no `/devices`, no
/// minor) and its `vendor-id`/`device-id` property values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeIds<'a> {
    /// `di_devfs_path`, e.g. `/pci@0,0/pci8086,151@1/display@0`.
    pub path: &'a str,
    /// `vendor-id` (libppt prints the int with `"%x"`).
    pub vendor: u32,
    /// `device-id`.
    pub device: u32,
}

impl<'a> NodeIds<'a> {
    /// The IDs of a function with an illumos path (real or predicted);
    /// `None` when the function has no illumos node, since libppt can only
    /// see nodes of the device tree. The path is the one `di_devfs_path`
    /// gives now ([`pci_core::IllumosNode::current_path`]).
    pub fn of(f: &'a pci_core::Function) -> Option<NodeIds<'a>> {
        let node = f.illumos.as_ref()?;
        Some(NodeIds {
            path: node.current_path(),
            vendor: u32::from(f.ids.vendor),
            device: u32::from(f.ids.device),
        })
    }
}

/// One line of `ppt_matches`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchLine {
    /// 1-based line number.
    pub number: usize,
    /// The line without its `\n`, as read (at most [`ReadLimits::max_line_bytes`]).
    pub raw: Vec<u8>,
    /// The whole line's length in bytes (without `\n`), even when `raw` is cut.
    pub len: u64,
    /// What libppt makes of it.
    pub rule: Rule,
    /// Which `sscanf` pattern (1..=4) accepted it.
    pub pattern: Option<u8>,
    /// Lints that depend only on the text (host lints come from
    /// [`crate::matcher::select`], per host).
    pub lints: Vec<Lint>,
}

impl MatchLine {
    /// The line as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// Whether a text lint already says this line can never match.
    pub(crate) fn never_matches(&self) -> bool {
        self.lints.iter().any(|l| {
            matches!(
                l.code,
                LintCode::UpperHex
                    | LintCode::ZeroPaddedHex
                    | LintCode::NotHex
                    | LintCode::ClassRule
                    | LintCode::DevicesPrefix
                    | LintCode::MinorSuffix
                    | LintCode::MissingUnitAddress
                    | LintCode::TrailingWhitespace
                    | LintCode::LeadingWhitespace
                    | LintCode::UnknownPrefix
            )
        }) || (matches!(self.rule, Rule::Path(_))
            && self.lints.iter().any(|l| l.code == LintCode::Crlf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> IdToken {
        IdToken::from_slice(s.as_bytes())
    }

    fn id(v: &str, d: &str) -> Rule {
        Rule::Id {
            vendor: tok(v),
            device: tok(d),
        }
    }

    fn ven(v: &str) -> Rule {
        Rule::Vendor { vendor: tok(v) }
    }

    #[test]
    fn canonical_values() {
        assert_eq!(tok("10de").canonical_value(), Some(0x10de));
        assert_eq!(tok("0").canonical_value(), Some(0));
        assert_eq!(tok("a65").canonical_value(), Some(0xa65));
        assert_eq!(tok("0a65").canonical_value(), None);
        assert_eq!(tok("10DE").canonical_value(), None);
        assert_eq!(tok("e11,").canonical_value(), None);
    }

    #[test]
    fn reference_first_match_wins() {
        let m = PptMatches::parse(
            b"# c\npci10de\npci10de,a65\n/pci@0,0/display@2\n",
            "/etc/ppt_matches",
        );
        let n = NodeIds {
            path: "/pci@0,0/pci8086,151@1/display@0",
            vendor: 0x10de,
            device: 0xa65,
        };
        assert_eq!(m.first_match(&n).map(|l| l.number), Some(2));
        let n2 = NodeIds {
            path: "/pci@0,0/display@2",
            vendor: 0x8086,
            device: 0x152,
        };
        assert_eq!(m.first_match(&n2).map(|l| l.number), Some(4));
        assert_eq!(m.rules().count(), 3);
        assert_eq!(m.lines[0].rule, Rule::Ignored);
        assert_eq!(m.lines[1].rule, ven("10de"));
        assert_eq!(m.lines[2].rule, id("10de", "a65"));
    }
}
