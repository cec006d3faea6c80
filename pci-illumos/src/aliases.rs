//! Kernel `driver_aliases`/`ppt_aliases` syntax, plus the other binding
//! files the prediction needs (`name_to_major`, `path_to_inst`).
//!
//! The kernel reads `/etc/ppt_aliases` and then `/etc/driver_aliases` with
//! the same parser (gate `usr/src/uts/common/os/modsysfile.c`, the
//! `kobj_lex` lexer and the alias state machine; docs/illumos.md).
//! Behaviour reproduced here (facts, not code):
//!
//! * Lexer: spaces/tabs separate tokens; `\n` and `\r` are NEWLINE; `#` is a
//!   POUND token after which the parser skips to the end of the line;
//!   `"..."` is a STRING where `\` escapes the next character, `\` + octal
//!   digits gives that byte, and a newline or end of file inside the quotes
//!   warns `Missing "` and yields the string `"\n"`; a NAME starts with a
//!   letter, `_` or `\` and continues with letters, digits, `_`, `-` (and
//!   `\`-escaped bytes); a token starting with a digit is a number
//!   (DECVAL/HEXVAL); `,` is COMMA and `/` SLASH; anything else
//!   (`@`, `.`, ...) is UNEXPECTED. Tokens are limited to `MAXPATHLEN - 1`
//!   bytes.
//! * Parser: the first NAME/STRING of a line is the driver; the next
//!   NAME/STRING looks the driver up in `name_to_major` (unknown → rest of
//!   line skipped) and starts an alias; each further NAME/STRING binds the
//!   previous alias and starts a new one; a COMMA glues the previous and
//!   next tokens with a `,` (so `pci10de,a65` works unquoted); any other
//!   token warns `Unexpected token` and is dropped, the state unchanged (so
//!   an unquoted path binds a junk alias, and `pci8086,1502` unquoted binds
//!   nothing: `1502` is a number); a newline binds the alias in progress,
//!   or warns `Missing alias for ...` when the line stopped elsewhere.

use crate::files::{ConfigFiles, FileState, Origin};
use crate::matches::{Lint, LintCode, MAXPATHLEN};
use crate::root::{HostRoot, ReadError};
use std::collections::{HashMap, HashSet};

/// Largest kernel binding file pptctl reads (the real `driver_aliases` is a
/// few tens of kilobytes; the kernel loads these whole at boot).
pub const MAX_BINDING_FILE: u64 = crate::files::MAX_CONFIG_FILE;

/// `/etc/ppt_aliases`, parsed by the kernel before `driver_aliases`.
pub const PPT_ALIASES: &str = "/etc/ppt_aliases";
/// `/etc/driver_aliases`.
pub const DRIVER_ALIASES: &str = "/etc/driver_aliases";
/// `/etc/name_to_major`: the drivers the kernel knows.
pub const NAME_TO_MAJOR: &str = "/etc/name_to_major";
/// `/etc/path_to_inst`: instance numbers per path and driver.
pub const PATH_TO_INST: &str = "/etc/path_to_inst";

/// Errors reading a kernel binding file.
#[derive(Debug, thiserror::Error)]
pub enum BindingFileError {
    /// The file exists but cannot be read; the error names the file, and
    /// the link when one was being followed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file is larger than [`MAX_BINDING_FILE`].
    #[error("{file} is {size} bytes, more than the {limit} bytes pptctl reads")]
    TooLarge {
        /// Host path.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Which copy of a kernel-read file is in effect: the boot-module copy
/// under `/system/boot` when it exists (the kernel searches `/system/boot`
/// before `/`, docs/illumos.md), else the file itself. Returns the host
/// path and the bytes, or `None` when neither exists.
pub fn read_kernel_file(
    root: &HostRoot,
    host_path: &str,
) -> Result<Option<(String, Vec<u8>)>, BindingFileError> {
    let boot = format!("/system/boot{host_path}");
    let mut files = ConfigFiles::default();
    for p in [boot.as_str(), host_path] {
        files.capture(Origin::Root, p, root);
    }
    Ok(kernel_file_in(&files, host_path)?.map(|(f, b)| (f, b.to_vec())))
}

/// [`read_kernel_file`] over a captured file set.
pub fn kernel_file_in<'a>(
    files: &'a ConfigFiles,
    host_path: &str,
) -> Result<Option<(String, &'a [u8])>, BindingFileError> {
    let boot = format!("/system/boot{host_path}");
    for p in [boot.as_str(), host_path] {
        if let Some(bytes) = file_bytes(p, files.root(p))? {
            return Ok(Some((p.to_string(), bytes)));
        }
    }
    Ok(None)
}

/// The bytes of a captured file named `shown` in messages: `None` when it
/// does not exist, an error when it could not be read.
pub fn file_bytes<'a>(
    shown: &str,
    state: &'a FileState,
) -> Result<Option<&'a [u8]>, BindingFileError> {
    match state {
        FileState::Present(b) => Ok(Some(b)),
        FileState::Absent => Ok(None),
        FileState::TooLarge { size } => Err(BindingFileError::TooLarge {
            file: shown.to_string(),
            size: *size,
            limit: MAX_BINDING_FILE,
        }),
        FileState::Unreadable { kind, message } => Err(BindingFileError::Read(
            state.read_error(shown).unwrap_or_else(|| ReadError::Io {
                path: shown.to_string(),
                link: None,
                source: std::io::Error::new(*kind, message.clone()),
            }),
        )),
    }
}

/// A token of the kernel's configuration-file lexer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare word.
    Name(Vec<u8>),
    /// A quoted string (escapes resolved).
    Str(Vec<u8>),
    /// A decimal number.
    Dec(Vec<u8>),
    /// A `0x` number.
    Hex(Vec<u8>),
    /// `,`.
    Comma,
    /// `/`.
    Slash,
    /// `#`.
    Pound,
    /// `\n` or `\r`.
    Newline,
    /// A run of whitespace starting with a form feed.
    WhiteSpace,
    /// `=`, `&`, `|`, `*`, `:`, `;`.
    Operator(u8),
    /// Anything else, or a token longer than the buffer.
    Unexpected(Vec<u8>),
    /// End of file.
    Eof,
}

/// The lexer over a whole file.
pub struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    /// Whether the last `getc` hit the end (so `ungetc` must not back up).
    at_eof: bool,
    line: usize,
    line_pos: usize,
    /// `Missing "` warnings: (line, message).
    pub warnings: Vec<(usize, String)>,
}

const TOKEN_MAX: usize = MAXPATHLEN;

fn is_namechar(c: i32) -> bool {
    u8::try_from(c).is_ok_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_digit(c: i32) -> bool {
    u8::try_from(c).is_ok_and(|b| b.is_ascii_digit())
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `s`.
    pub fn new(s: &'a [u8]) -> Lexer<'a> {
        Lexer {
            s,
            pos: 0,
            at_eof: false,
            line: 1,
            line_pos: 0,
            warnings: Vec::new(),
        }
    }

    fn getc(&mut self) -> i32 {
        match self.s.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                self.at_eof = false;
                i32::from(b)
            }
            None => {
                self.at_eof = true;
                -1
            }
        }
    }

    fn ungetc(&mut self) {
        if !self.at_eof && self.pos > 0 {
            self.pos -= 1;
        }
        self.at_eof = false;
    }

    /// 1-based line of byte offset `pos` (offsets only move forward).
    fn line_of(&mut self, pos: usize) -> usize {
        let end = pos.min(self.s.len());
        if end > self.line_pos {
            self.line += self.s[self.line_pos..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.line_pos = end;
        }
        self.line
    }

    /// Skips to (not past) the next newline, like `kobj_find_eol`.
    pub fn find_eol(&mut self) {
        loop {
            let c = self.getc();
            if c == -1 {
                break;
            }
            if c == i32::from(b'\n') || c == i32::from(b'\r') || c == 0x0c {
                self.ungetc();
                break;
            }
        }
    }

    /// The next token and the line it starts on.
    pub fn next_token(&mut self) -> (Token, usize) {
        let mut c = self.getc();
        while c == i32::from(b' ') || c == i32::from(b'\t') {
            c = self.getc();
        }
        let start = if c == -1 { self.pos } else { self.pos - 1 };
        let line = self.line_of(start);
        let tok = self.lex_from(c, line);
        (tok, line)
    }

    fn lex_from(&mut self, first: i32, line: usize) -> Token {
        let mut c = first;
        let mut val: Vec<u8> = Vec::new();
        // Bytes the buffer can still take (the first byte is always stored).
        let mut remain = TOKEN_MAX - 1;
        if c == -1 {
            return Token::Eof;
        }
        let b = c as u8;
        match b {
            b'=' | b'&' | b'|' | b'*' | b':' | b';' => return Token::Operator(b),
            b'#' => return Token::Pound,
            b',' => return Token::Comma,
            b'/' => return Token::Slash,
            b'\n' | b'\r' => return Token::Newline,
            0x0c => {
                loop {
                    let n = self.getc();
                    if n == i32::from(b' ') || n == i32::from(b'\t') || n == 0x0c {
                        remain -= 1;
                        if remain == 0 {
                            return Token::Unexpected(Vec::new());
                        }
                    } else {
                        break;
                    }
                }
                self.ungetc();
                return Token::WhiteSpace;
            }
            b'"' => {
                remain += 1;
                loop {
                    let n = self.getc();
                    if n == i32::from(b'"') {
                        return Token::Str(val);
                    }
                    if n == i32::from(b'\n') || n == -1 {
                        self.warnings.push((line, "Missing \"".to_string()));
                        // The kernel hands the parser "\n" as the string.
                        self.ungetc();
                        return Token::Str(b"\n".to_vec());
                    }
                    remain -= 1;
                    if remain == 0 {
                        return Token::Unexpected(val);
                    }
                    if n == i32::from(b'\\') {
                        let e = self.getc();
                        if !is_digit(e) {
                            val.push(e as u8);
                            continue;
                        }
                        let mut oval: u32 = 0;
                        let mut d = e;
                        while (i32::from(b'0')..=i32::from(b'7')).contains(&d) {
                            oval = (oval << 3) + (d - i32::from(b'0')) as u32;
                            d = self.getc();
                        }
                        self.ungetc();
                        val.push(oval as u8);
                        continue;
                    }
                    val.push(n as u8);
                }
            }
            _ => {}
        }
        val.push(b);
        if b == b'-' {
            remain -= 1;
            if remain == 0 {
                return Token::Unexpected(val);
            }
            c = self.getc();
            val.push(c as u8);
            if c == i32::from(b' ') || c == i32::from(b'\t') || c == i32::from(b'\n') {
                self.ungetc();
                val.pop();
                return Token::Name(val);
            }
        } else if b == b'~' {
            remain -= 1;
            if remain == 0 {
                return Token::Unexpected(val);
            }
            c = self.getc();
            val.push(c as u8);
        }
        if is_digit(c) {
            let mut n;
            if c == i32::from(b'0') {
                n = self.getc();
                if n == i32::from(b'x') {
                    remain -= 1;
                    if remain == 0 {
                        return Token::Unexpected(val);
                    }
                    val.push(b'x');
                    n = self.getc();
                    while u8::try_from(n).is_ok_and(|x| x.is_ascii_hexdigit()) {
                        remain -= 1;
                        if remain == 0 {
                            return Token::Unexpected(val);
                        }
                        val.push(n as u8);
                        n = self.getc();
                    }
                    self.ungetc();
                    return Token::Hex(val);
                }
            } else {
                n = self.getc();
            }
            while is_digit(n) {
                remain -= 1;
                if remain == 0 {
                    return Token::Unexpected(val);
                }
                val.push(n as u8);
                n = self.getc();
            }
            self.ungetc();
            return Token::Dec(val);
        }
        if u8::try_from(c).is_ok_and(|x| x.is_ascii_alphabetic())
            || c == i32::from(b'\\')
            || c == i32::from(b'_')
        {
            if c == i32::from(b'\\') {
                // the backslash is overwritten by the escaped byte
                val.pop();
                remain += 1;
            } else {
                c = self.getc();
            }
            while is_namechar(c) || c == i32::from(b'\\') {
                if c == i32::from(b'\\') {
                    c = self.getc();
                }
                remain -= 1;
                if remain == 0 {
                    return Token::Unexpected(val);
                }
                val.push(c as u8);
                c = self.getc();
            }
            self.ungetc();
            return Token::Name(val);
        }
        Token::Unexpected(val)
    }
}

/// One alias the kernel binds (or tries to bind) from an aliases file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasEntry {
    /// Host path of the file.
    pub file: String,
    /// 1-based line where the alias starts.
    pub line: usize,
    /// The driver named on the line.
    pub driver: String,
    /// The alias as the kernel stores it (a C string: cut at the first NUL).
    pub alias: String,
    /// Whether any part of it was quoted.
    pub quoted: bool,
    /// Problems on this entry's line (syntax, unquoted path, ...).
    pub lints: Vec<Lint>,
}

impl AliasEntry {
    /// `path` when the alias is a devfs path (starts with `/`), else
    /// `compatible`.
    pub fn kind(&self) -> &'static str {
        if self.alias.starts_with('/') {
            "path"
        } else {
            "compatible"
        }
    }
}

/// A line that binds nothing but has problems (e.g. `Missing alias for`,
/// an unknown driver, an unquoted `pci8086,1502`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasLineProblem {
    /// 1-based line.
    pub line: usize,
    /// The line's text after the driver, trimmed (what the author wrote).
    pub text: String,
    /// The driver named on the line, if one was read.
    pub driver: Option<String>,
    /// What went wrong.
    pub lints: Vec<Lint>,
}

/// An aliases file as the kernel reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AliasFile {
    /// Host path.
    pub file: String,
    /// Every alias bound or attempted, in file order.
    pub entries: Vec<AliasEntry>,
    /// Lines that bind nothing but carry a problem.
    pub problems: Vec<AliasLineProblem>,
}

/// The drivers the kernel knows (`name_to_major`), with their lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameToMajor {
    /// Host path.
    pub file: String,
    /// Driver name → (major, line).
    pub drivers: HashMap<String, (u32, usize)>,
}

impl NameToMajor {
    /// Parses `name major` lines (kernel `read_binding_file` syntax).
    pub fn parse(bytes: &[u8], file: &str) -> NameToMajor {
        let mut out = NameToMajor {
            file: file.to_string(),
            drivers: HashMap::new(),
        };
        for rec in binding_records(bytes) {
            if let (Some(name), Some(num)) = (rec.words.first(), rec.number) {
                out.drivers
                    .entry(name.clone())
                    .or_insert((num as u32, rec.line));
            }
        }
        out
    }

    /// Whether the kernel knows `driver`.
    pub fn knows(&self, driver: &str) -> bool {
        self.drivers.contains_key(driver)
    }
}

/// One `path_to_inst` record: `"path" instance "driver"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    /// devfs path.
    pub path: String,
    /// Instance number.
    pub instance: u32,
    /// Driver name.
    pub driver: String,
    /// 1-based line.
    pub line: usize,
}

/// `/etc/path_to_inst`: stable instance numbers per (path, driver).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathToInst {
    /// Host path.
    pub file: String,
    /// Records in file order.
    pub records: Vec<InstanceRecord>,
}

impl PathToInst {
    /// Parses `"path" instance "driver"` lines with `#` comments (kernel
    /// `read_binding_file` syntax, same lexer).
    pub fn parse(bytes: &[u8], file: &str) -> PathToInst {
        let mut out = PathToInst {
            file: file.to_string(),
            records: Vec::new(),
        };
        for rec in binding_records(bytes) {
            if let (Some(path), Some(num), Some(driver)) =
                (rec.words.first(), rec.number, rec.words.get(1))
            {
                if let Ok(instance) = u32::try_from(num) {
                    out.records.push(InstanceRecord {
                        path: path.clone(),
                        instance,
                        driver: driver.clone(),
                        line: rec.line,
                    });
                }
            }
        }
        out
    }

    /// The instance recorded for `path` bound to `driver`.
    pub fn instance(&self, path: &str, driver: &str) -> Option<u32> {
        self.records
            .iter()
            .find(|r| r.path == path && r.driver == driver)
            .map(|r| r.instance)
    }

    /// The instance the kernel would hand out next for `driver`: one more
    /// than the largest recorded (the kernel reuses no number recorded
    /// for another path).
    pub fn next_free(&self, driver: &str) -> u32 {
        self.records
            .iter()
            .filter(|r| r.driver == driver)
            .map(|r| r.instance.saturating_add(1))
            .max()
            .unwrap_or(0)
    }
}

/// Finds the text of 1-based lines, moving forward from the last one asked
/// for (back to the start only when asked for an earlier line).
struct LineCursor<'a> {
    bytes: &'a [u8],
    /// The 1-based line starting at `pos`.
    line: usize,
    pos: usize,
}

impl<'a> LineCursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCursor {
            bytes,
            line: 1,
            pos: 0,
        }
    }

    /// Line `line` without its `\n`, trimmed (empty past the end).
    fn text(&mut self, line: usize) -> String {
        let line = line.max(1);
        if line < self.line {
            *self = LineCursor::new(self.bytes);
        }
        while self.line < line {
            match self.bytes[self.pos..].iter().position(|&b| b == b'\n') {
                Some(n) => {
                    self.pos += n + 1;
                    self.line += 1;
                }
                None => return String::new(),
            }
        }
        let rest = &self.bytes[self.pos..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).trim().to_string()
    }
}

struct BindingRecord {
    words: Vec<String>,
    number: Option<u64>,
    line: usize,
}

/// `read_binding_file`: NAME/STRING, then a number, then an optional
/// NAME/STRING, per line; `#` comments.
fn binding_records(bytes: &[u8]) -> Vec<BindingRecord> {
    let mut lx = Lexer::new(bytes);
    let mut out = Vec::new();
    let mut cur = BindingRecord {
        words: Vec::new(),
        number: None,
        line: 1,
    };
    let mut bad = false;
    loop {
        let (tok, line) = lx.next_token();
        match tok {
            Token::Pound => lx.find_eol(),
            Token::Name(v) | Token::Str(v) => {
                if cur.words.is_empty() && cur.number.is_none() {
                    cur.line = line;
                    cur.words.push(cstr(&v));
                } else if cur.number.is_some() && cur.words.len() == 1 {
                    cur.words.push(cstr(&v));
                } else {
                    bad = true;
                }
            }
            Token::Dec(v) => {
                if cur.words.len() == 1 && cur.number.is_none() {
                    cur.number = String::from_utf8_lossy(&v).parse().ok();
                } else {
                    bad = true;
                }
            }
            Token::Hex(v) => {
                if cur.words.len() == 1 && cur.number.is_none() {
                    let s = String::from_utf8_lossy(&v[2.min(v.len())..]).into_owned();
                    cur.number = u64::from_str_radix(&s, 16).ok();
                } else {
                    bad = true;
                }
            }
            Token::Newline | Token::Eof => {
                let eof = tok == Token::Eof;
                if !bad && cur.number.is_some() {
                    out.push(cur);
                }
                cur = BindingRecord {
                    words: Vec::new(),
                    number: None,
                    line: line + 1,
                };
                bad = false;
                if eof {
                    break;
                }
            }
            _ => bad = true,
        }
    }
    out
}

/// A C string view of kernel buffer bytes: cut at the first NUL.
fn cstr(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

fn shown(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

impl AliasFile {
    /// Parses an aliases file the way the kernel does. `known` answers
    /// whether a driver is in `name_to_major` (`None`: unknown, every
    /// driver is taken as known).
    pub fn parse(bytes: &[u8], file: &str, known: Option<&NameToMajor>) -> AliasFile {
        #[derive(PartialEq, Clone, Copy)]
        enum St {
            New,
            Drv,
            DrvComma,
            Alias,
            AliasComma,
        }
        let mut out = AliasFile {
            file: file.to_string(),
            ..AliasFile::default()
        };
        let mut lx = Lexer::new(bytes);
        let mut st = St::New;
        let mut buf: Vec<u8> = Vec::new();
        let mut driver = String::new();
        let mut alias_line = 1usize;
        let mut quoted = false;
        // Problems of the current line, attached to its entries at its end.
        let mut line_lints: Vec<Lint> = Vec::new();
        let mut line_first_entry = 0usize;
        let mut saw_slash = false;

        // The text of a line with problems. Lines are asked for in file
        // order, so a cursor keeps a file of many bad lines linear (finding
        // each line from the start made it quadratic: a 184 KiB file took
        // seconds).
        let mut lines = LineCursor::new(bytes);

        loop {
            let (tok, line) = lx.next_token();
            let is_str = matches!(tok, Token::Str(_));
            match tok {
                Token::Pound => lx.find_eol(),
                Token::Name(v) | Token::Str(v) => match st {
                    St::New => {
                        buf = v;
                        st = St::Drv;
                    }
                    St::DrvComma => {
                        buf.extend_from_slice(&v);
                        st = St::Drv;
                    }
                    St::AliasComma => {
                        buf.extend_from_slice(&v);
                        quoted |= is_str;
                        st = St::Alias;
                    }
                    St::Drv => {
                        driver = cstr(&buf);
                        if known.is_some_and(|k| !k.knows(&driver)) {
                            line_lints.push(Lint::new(
                                    LintCode::UnknownDriver,
                                    format!(
                                        "driver `{driver}` is not in name_to_major: the kernel skips this line"
                                    ),
                                ));
                            lx.find_eol();
                            st = St::New;
                        } else {
                            buf = v;
                            alias_line = line;
                            quoted = is_str;
                            st = St::Alias;
                        }
                    }
                    St::Alias => {
                        out.entries.push(AliasEntry {
                            file: file.to_string(),
                            line: alias_line,
                            driver: driver.clone(),
                            alias: cstr(&buf),
                            quoted,
                            lints: Vec::new(),
                        });
                        buf = v;
                        alias_line = line;
                        quoted = is_str;
                    }
                },
                Token::Comma => {
                    buf.push(b',');
                    match st {
                        St::Drv => st = St::DrvComma,
                        St::Alias => st = St::AliasComma,
                        _ => line_lints
                            .push(Lint::new(LintCode::AliasSyntax, "Unexpected token ','")),
                    }
                }
                Token::Newline | Token::Eof => {
                    let eof = tok == Token::Eof;
                    match st {
                        St::Alias => out.entries.push(AliasEntry {
                            file: file.to_string(),
                            line: alias_line,
                            driver: driver.clone(),
                            alias: cstr(&buf),
                            quoted,
                            lints: Vec::new(),
                        }),
                        St::New => {}
                        _ => line_lints.push(Lint::new(
                            LintCode::AliasSyntax,
                            format!("Missing alias for {}: this line binds nothing", cstr(&buf)),
                        )),
                    }
                    for (wl, msg) in lx.warnings.drain(..) {
                        line_lints.push(Lint::new(
                            LintCode::AliasSyntax,
                            format!(
                                "{msg} (line {wl}): an unterminated quote binds nothing useful"
                            ),
                        ));
                    }
                    if saw_slash {
                        // The token-by-token complaints are noise here: one
                        // lint says what happened and what to write.
                        line_lints.retain(|l| !l.message.starts_with("Unexpected token"));
                        let text = lines.text(line);
                        let written = text
                            .split('#')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .strip_prefix(driver.as_str())
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        let junk: Vec<String> = out.entries[line_first_entry..]
                            .iter()
                            .map(|e| format!("\"{}\"", e.alias))
                            .collect();
                        let bound = if junk.is_empty() {
                            "binds nothing".to_string()
                        } else {
                            format!("binds {} instead", junk.join(", "))
                        };
                        line_lints.insert(
                            0,
                            Lint::new(
                                LintCode::UnquotedPath,
                                format!(
                                    "path aliases must be quoted: the kernel's lexer rejects an unquoted `/`, so this line {bound}; write {driver} \"{written}\""
                                ),
                            ),
                        );
                    }
                    // the kernel repeats a warning per token; once is enough
                    let mut seen = HashSet::new();
                    line_lints.retain(|l| seen.insert(l.message.clone()));
                    if !line_lints.is_empty() {
                        let new_entries = &mut out.entries[line_first_entry..];
                        if new_entries.is_empty() {
                            let text = lines.text(line);
                            let after_driver = text
                                .strip_prefix(driver.as_str())
                                .filter(|_| !driver.is_empty())
                                .unwrap_or(&text)
                                .trim()
                                .to_string();
                            out.problems.push(AliasLineProblem {
                                line,
                                text: after_driver,
                                driver: (!driver.is_empty()).then(|| driver.clone()),
                                lints: std::mem::take(&mut line_lints),
                            });
                        } else {
                            for e in new_entries {
                                e.lints.extend(line_lints.iter().cloned());
                            }
                            line_lints.clear();
                        }
                    }
                    line_first_entry = out.entries.len();
                    st = St::New;
                    driver.clear();
                    buf.clear();
                    saw_slash = false;
                    if eof {
                        break;
                    }
                }
                other => {
                    if other == Token::Slash {
                        saw_slash = true;
                    }
                    let what = match &other {
                        Token::Slash => "/".to_string(),
                        Token::Dec(v) | Token::Hex(v) | Token::Unexpected(v) => shown(v),
                        Token::Operator(b) => (*b as char).to_string(),
                        _ => " ".to_string(),
                    };
                    let hint = if matches!(other, Token::Dec(_) | Token::Hex(_)) {
                        " (a part starting with a digit is a number to the kernel: quote the alias)"
                    } else {
                        ""
                    };
                    line_lints.push(Lint::new(
                        LintCode::AliasSyntax,
                        format!("Unexpected token '{what}'{hint}"),
                    ));
                }
            }
        }
        out
    }
}

/// Where one alias string is bound, after reading every file in kernel order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The driver.
    pub driver: String,
    /// Host path of the file that bound it.
    pub file: String,
    /// Line in that file.
    pub line: usize,
}

/// The kernel's binding hash (`mb_hashtab`): driver names from
/// `name_to_major`, then aliases from `ppt_aliases`, then `driver_aliases`;
/// the first binding of a string wins.
#[derive(Debug, Clone, Default)]
pub struct BindingTable {
    map: HashMap<String, Binding>,
    /// Entries that lost to an earlier binding: (file, line, alias, the
    /// binding that won).
    pub conflicts: Vec<(String, usize, String, Binding)>,
    names: HashSet<String>,
}

impl BindingTable {
    /// Builds the table in kernel order.
    pub fn build(n2m: Option<&NameToMajor>, files: &[&AliasFile]) -> BindingTable {
        let mut t = BindingTable::default();
        if let Some(n) = n2m {
            let mut names: Vec<(&String, &(u32, usize))> = n.drivers.iter().collect();
            names.sort_by_key(|(_, (_, line))| *line);
            for (name, (_, line)) in names {
                t.names.insert(name.clone());
                t.map.insert(
                    name.clone(),
                    Binding {
                        driver: name.clone(),
                        file: n.file.clone(),
                        line: *line,
                    },
                );
            }
        }
        for f in files {
            for e in &f.entries {
                match t.map.get(&e.alias) {
                    Some(b) => {
                        t.conflicts
                            .push((e.file.clone(), e.line, e.alias.clone(), b.clone()))
                    }
                    None => {
                        t.map.insert(
                            e.alias.clone(),
                            Binding {
                                driver: e.driver.clone(),
                                file: e.file.clone(),
                                line: e.line,
                            },
                        );
                    }
                }
            }
        }
        t
    }

    /// The binding of a string (`ddi_name_to_major` on the hash).
    pub fn get(&self, name: &str) -> Option<&Binding> {
        self.map.get(name)
    }

    /// Whether `name` is a driver name (from `name_to_major`).
    pub fn is_driver_name(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cursor gives what splitting the whole file at `\n` gives, for
    /// lines asked for in order, repeated, backwards and past the end.
    #[test]
    fn line_cursor_matches_split() {
        let naive = |bytes: &[u8], line: usize| {
            let t = bytes
                .split(|&b| b == b'\n')
                .nth(line.saturating_sub(1))
                .unwrap_or(&[]);
            String::from_utf8_lossy(t).trim().to_string()
        };
        for bytes in [&b""[..], b"a", b"a\n", b"\n\n x \n", b"one\ntwo\r\n\nfour"] {
            let mut c = LineCursor::new(bytes);
            for line in [0, 1, 1, 2, 3, 5, 2, 4, 1, 9] {
                assert_eq!(c.text(line), naive(bytes, line), "{bytes:?} line {line}");
            }
        }
    }

    /// Found by libFuzzer (the `aliases` target, 40 inputs/s): every line
    /// of a file with problems was found again from the start of the file,
    /// so 8 copies of a real `driver_aliases` took 29 s under the fuzzer.
    /// 20,000 bad lines now parse in one pass, each problem with its text.
    #[test]
    fn many_bad_lines_keep_their_text() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("\"/pci@0,0/x@{i}\" {i} \"ppt\"\n"));
        }
        let n2m = NameToMajor::parse(b"ppt 1\n", "/etc/name_to_major");
        let f = AliasFile::parse(text.as_bytes(), "/etc/driver_aliases", Some(&n2m));
        assert_eq!(f.problems.len(), 20_000);
        assert_eq!(f.problems[19_999].line, 20_000);
        assert!(
            f.problems[19_999].text.contains("19999"),
            "{:?}",
            f.problems[19_999]
        );
    }

    fn toks(s: &[u8]) -> Vec<Token> {
        let mut lx = Lexer::new(s);
        let mut v = Vec::new();
        loop {
            let (t, _) = lx.next_token();
            let end = t == Token::Eof;
            v.push(t);
            if end {
                break;
            }
        }
        v
    }

    #[test]
    fn lexer_basics() {
        use Token::*;
        assert_eq!(
            toks(b"ppt pci10de,a65\n"),
            [
                Name(b"ppt".to_vec()),
                Name(b"pci10de".to_vec()),
                Comma,
                Name(b"a65".to_vec()),
                Newline,
                Eof
            ]
        );
        assert_eq!(
            toks(b"15f0 0x1f -x"),
            [
                Dec(b"15".to_vec()),
                Name(b"f0".to_vec()),
                Hex(b"0x1f".to_vec()),
                Name(b"-x".to_vec()),
                Eof
            ]
        );
        assert_eq!(
            toks(b"\"a\\\"b\\101\\8\""),
            [Str(b"a\"bA\08".to_vec()), Eof]
        );
        assert_eq!(
            toks(b"@."),
            [Unexpected(b"@".to_vec()), Unexpected(b".".to_vec()), Eof]
        );
    }
}
