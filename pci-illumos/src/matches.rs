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

use std::collections::HashSet;
use std::fmt;
use std::io::{self, BufRead, ErrorKind};

use pci_core::text::{escape, Escaped};
use pci_core::Diagnostic;
use serde::Serialize;

use crate::files::{ConfigFiles, FileState, Origin};
use crate::root::{HostRoot, ReadError};

/// The boot-module copy, read first by libppt (`get_matches`).
pub const MATCHES_BOOT: &str = "/system/boot/etc/ppt_matches";
/// The platform copy, read when the boot-module copy does not exist.
pub const MATCHES_ETC: &str = "/etc/ppt_matches";

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
    pub fn canonical_value(&self) -> Option<u32> {
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
    pub fn is_hex_digits(&self) -> bool {
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
    pub fn matches_strings(&self, node: &NodeStrings<'_>) -> bool {
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
    let attempts: [(&[u8], bool); 4] = [
        (b"pciex", true),
        (b"pci", true),
        (b"pciex", false),
        (b"pci", false),
    ];
    for (i, (lit, two)) in attempts.iter().enumerate() {
        let sc = scan(c, lit, *two);
        let want = if *two { 2 } else { 1 };
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
    pub fn never_matches(&self) -> bool {
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

/// How much of a file pptctl keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Bytes of a line kept verbatim; longer lines are flagged
    /// (`line-too-long`) but still read to their end. At least `MAXPATHLEN`
    /// so path rules are exact.
    pub max_line_bytes: usize,
    /// Lines read at most; the rest of the file is reported and skipped.
    pub max_lines: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_line_bytes: 4096,
            max_lines: 1 << 20,
        }
    }
}

/// Errors reading `ppt_matches`.
#[derive(Debug, thiserror::Error)]
pub enum MatchesError {
    /// The file exists but cannot be opened (libppt gives up too); the
    /// error names the file, and the link when one was being followed.
    #[error(transparent)]
    Open(#[from] ReadError),
    /// The file was opened but reading it failed.
    #[error("cannot read {}: {}", Escaped(.file), escape(&.source.to_string()))]
    Read {
        /// Host path of the file.
        file: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is larger than [`MAX_MATCHES_FILE`]: not a hand-written
    /// list of a few ids and paths (reading it would only waste time).
    #[error("{file} is {size} bytes, more than the {limit} bytes pptctl reads; a ppt_matches file holds a few lines, check what was written there")]
    TooLarge {
        /// Host path of the file.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// The largest `ppt_matches` pptctl reads (real ones are a few hundred
/// bytes; the same limit as the kernel binding files).
pub const MAX_MATCHES_FILE: u64 = crate::files::MAX_CONFIG_FILE;

/// A whole `ppt_matches` file as libppt reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PptMatches {
    /// Host path of the file read, `None` when neither file exists (libppt:
    /// empty list, only ppt-bound nodes are listed).
    pub file: Option<String>,
    /// Every line, in file order (ignored ones too).
    pub lines: Vec<MatchLine>,
    /// Problems with the file as a whole (e.g. reading stopped at a limit).
    pub diagnostics: Vec<Diagnostic>,
}

impl PptMatches {
    /// Reads the file libppt would read under `root`:
    /// `/system/boot/etc/ppt_matches` if it exists, else `/etc/ppt_matches`,
    /// else nothing. Errors other than "does not exist" are errors, as in
    /// libppt `get_matches`.
    pub fn load(root: &HostRoot) -> Result<PptMatches, MatchesError> {
        Self::load_with(root, ReadLimits::default())
    }

    /// [`PptMatches::load`] with explicit limits.
    pub fn load_with(root: &HostRoot, limits: ReadLimits) -> Result<PptMatches, MatchesError> {
        let mut files = ConfigFiles::default();
        for p in [MATCHES_BOOT, MATCHES_ETC] {
            files.capture(Origin::Root, p, root);
        }
        Self::from_files_with(&files, limits)
    }

    /// The file libppt would read, from a captured set:
    /// `/system/boot/etc/ppt_matches` if it exists, else `/etc/ppt_matches`.
    pub fn from_files(files: &ConfigFiles) -> Result<PptMatches, MatchesError> {
        Self::from_files_with(files, ReadLimits::default())
    }

    /// [`PptMatches::from_files`] with explicit limits.
    pub fn from_files_with(
        files: &ConfigFiles,
        limits: ReadLimits,
    ) -> Result<PptMatches, MatchesError> {
        for host_path in [MATCHES_BOOT, MATCHES_ETC] {
            match files.root(host_path) {
                FileState::Present(bytes) => return Self::read(&bytes[..], host_path, limits),
                FileState::Absent => continue,
                FileState::TooLarge { size } => {
                    return Err(MatchesError::TooLarge {
                        file: host_path.to_string(),
                        size: *size,
                        limit: MAX_MATCHES_FILE,
                    })
                }
                st @ FileState::Unreadable { .. } => {
                    return Err(MatchesError::Read {
                        file: host_path.to_string(),
                        source: st
                            .io_error()
                            .unwrap_or_else(|| io::Error::other("unreadable")),
                    })
                }
            }
        }
        Ok(PptMatches::default())
    }

    /// Parses bytes (for tests and for files already in memory); `file` is
    /// the host path used in messages.
    pub fn parse(bytes: &[u8], file: &str) -> PptMatches {
        match Self::read(bytes, file, ReadLimits::default()) {
            Ok(m) => m,
            // Reading from a slice cannot fail.
            Err(_) => PptMatches {
                file: Some(file.to_string()),
                ..PptMatches::default()
            },
        }
    }

    /// Streams `reader` line by line, keeping at most `limits` in memory.
    pub fn read<R: BufRead>(
        mut reader: R,
        file: &str,
        limits: ReadLimits,
    ) -> Result<PptMatches, MatchesError> {
        let max_line = limits.max_line_bytes.max(MAXPATHLEN);
        let mut out = PptMatches {
            file: Some(file.to_string()),
            ..PptMatches::default()
        };
        let mut line = LineBuf::new(max_line);
        let mut number = 0usize;
        let err = |source| MatchesError::Read {
            file: file.to_string(),
            source,
        };
        loop {
            let (done, used) = {
                let buf = match reader.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(err(e)),
                };
                if buf.is_empty() {
                    (true, 0)
                } else {
                    match buf.iter().position(|&b| b == b'\n') {
                        Some(n) => {
                            line.push(&buf[..n]);
                            line.complete = true;
                            (false, n + 1)
                        }
                        None => {
                            line.push(buf);
                            (false, buf.len())
                        }
                    }
                }
            };
            reader.consume(used);
            if done || line.complete {
                if done && line.len == 0 && !line.complete {
                    break;
                }
                number += 1;
                if number > limits.max_lines {
                    out.diagnostics.push(Diagnostic::at(
                        file,
                        Some(number),
                        format!(
                            "more than {} lines; the rest of the file was not read",
                            limits.max_lines
                        ),
                    ));
                    break;
                }
                out.lines.push(line.finish(number));
                line = LineBuf::new(max_line);
                if done {
                    break;
                }
            }
        }
        out.add_duplicate_lints();
        Ok(out)
    }

    /// The lines libppt keeps as rules, in file order.
    pub fn rules(&self) -> impl Iterator<Item = &MatchLine> {
        self.lines.iter().filter(|l| l.rule != Rule::Ignored)
    }

    /// libppt `match_ppt`: the first rule in file order that matches the
    /// node, by plain string comparison. This is the reference; use
    /// [`crate::matcher::Matcher`] for speed.
    pub fn first_match(&self, node: &NodeIds<'_>) -> Option<&MatchLine> {
        let s = NodeStrings::of(node);
        self.rules().find(|l| l.rule.matches_strings(&s))
    }

    fn add_duplicate_lints(&mut self) {
        let mut seen: std::collections::HashMap<Rule, usize> = std::collections::HashMap::new();
        for l in &mut self.lines {
            if l.rule == Rule::Ignored {
                continue;
            }
            match seen.get(&l.rule) {
                Some(first) => l.lints.push(Lint::new(
                    LintCode::Duplicate,
                    format!("same rule as line {first}; this line changes nothing"),
                )),
                None => {
                    seen.insert(l.rule.clone(), l.number);
                }
            }
        }
    }
}

/// A line being read: the first bytes verbatim, then (for over-long lines)
/// a short tail with whitespace runs collapsed, enough for `sscanf` to
/// reach the same result it would on the whole line (a `%4s` skips a run
/// of whitespace of any length the same way it skips one byte).
struct LineBuf {
    kept: Vec<u8>,
    tail: Vec<u8>,
    max: usize,
    len: u64,
    complete: bool,
}

const TAIL_MAX: usize = 32;

impl LineBuf {
    fn new(max: usize) -> LineBuf {
        LineBuf {
            kept: Vec::new(),
            tail: Vec::new(),
            max,
            len: 0,
            complete: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        let room = self.max.saturating_sub(self.kept.len());
        let (head, rest) = bytes.split_at(room.min(bytes.len()));
        self.kept.extend_from_slice(head);
        for &b in rest {
            if self.tail.len() >= TAIL_MAX {
                break;
            }
            let last_space = self
                .tail
                .last()
                .or(self.kept.last())
                .is_some_and(|&l| is_c_space(l));
            if is_c_space(b) && last_space {
                continue;
            }
            self.tail.push(b);
        }
    }

    fn finish(self, number: usize) -> MatchLine {
        let truncated = self.len > self.kept.len() as u64;
        let parsed = if truncated {
            let mut sem = self.kept.clone();
            sem.extend_from_slice(&self.tail);
            parse_line(&sem)
        } else {
            parse_line(&self.kept)
        };
        let mut lints = text_lints(&self.kept, &parsed);
        if truncated {
            lints.push(Lint::new(
                LintCode::LineTooLong,
                format!(
                    "line is {} bytes long; pptctl shows only the first {}",
                    self.len,
                    self.kept.len()
                ),
            ));
        }
        MatchLine {
            number,
            raw: self.kept,
            len: self.len,
            rule: parsed.rule,
            pattern: parsed.pattern,
            lints,
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
fn text_lints(raw: &[u8], parsed: &ParsedLine) -> Vec<Lint> {
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
