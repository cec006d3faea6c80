//! The kernel's alias parser (`parse_aliases` in illumos-gate
//! `usr/src/uts/common/os/modsysfile.c`) over [`super::lexer`]: what each
//! line of `ppt_aliases`/`driver_aliases` binds, with byte ranges.
//!
//! Behaviour reproduced (facts, not code): the first NAME/STRING of a line
//! is the driver; the next NAME/STRING looks the driver up in
//! `name_to_major` (unknown: the rest of the line is skipped) and starts
//! an alias; each further NAME/STRING binds the alias in progress and
//! starts a new one; a COMMA glues the previous and next tokens with a `,`
//! (so `pci10de,a65` works unquoted, and so does `pci10de , a65`); any
//! other token warns `Unexpected token` and is dropped with the state
//! unchanged; a newline (or the end of the file) binds the alias in
//! progress, or warns `Missing alias for ...` when the line stopped
//! anywhere else.
//!
//! One deliberate difference: a string whose closing quote is missing
//! reaches the parser as the one-byte string `"\n"` (`kobj_lex`), which
//! the kernel then binds like any alias. No node is named `"\n"`, so
//! such an entry can only ever collide with another broken line; it is
//! reported as the broken line it is and not listed as an entry.

use std::ops::Range;

use super::diagnostics::{line_lints, line_text, LineFacts};
use super::entries::{AliasEntry, AliasFile, AliasLine, AliasLineProblem};
use super::lexer::{Lexed, Lexer, Token};
use super::NameToMajor;
use crate::matches::{Lint, LintCode};

#[derive(PartialEq, Clone, Copy)]
enum St {
    New,
    Drv,
    DrvComma,
    Alias,
    AliasComma,
}

/// What one line gathered until its newline.
#[derive(Default)]
struct LineAcc {
    line: Option<usize>,
    tokens: Vec<Lexed>,
    kernel: Vec<(Lint, Option<Range<usize>>)>,
    first_entry: usize,
    driver: Option<(String, Range<usize>)>,
    skipped: bool,
}

struct Parser<'a> {
    bytes: &'a [u8],
    known: Option<&'a NameToMajor>,
    st: St,
    buf: Vec<u8>,
    span: Range<usize>,
    driver: String,
    alias_line: usize,
    quoted: bool,
    unterminated: bool,
    cur: LineAcc,
    out: AliasFile,
    lines: Vec<AliasLine>,
}

/// A C string view of kernel buffer bytes: cut at the first NUL.
pub(crate) fn cstr(v: &[u8]) -> String {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

impl AliasFile {
    /// Parses an aliases file the way the kernel does. `known` answers
    /// whether a driver is in `name_to_major` (`None`: unknown, every
    /// driver is taken as known).
    pub fn parse(bytes: &[u8], file: &str, known: Option<&NameToMajor>) -> AliasFile {
        Self::parse_lines(bytes, file, known).0
    }

    /// [`AliasFile::parse`], with each line as written (its driver and
    /// words with their byte ranges), for editors that change one word
    /// and keep every other byte.
    pub fn parse_lines(
        bytes: &[u8],
        file: &str,
        known: Option<&NameToMajor>,
    ) -> (AliasFile, Vec<AliasLine>) {
        let mut p = Parser {
            bytes,
            known,
            st: St::New,
            buf: Vec::new(),
            span: 0..0,
            driver: String::new(),
            alias_line: 1,
            quoted: false,
            unterminated: false,
            cur: LineAcc::default(),
            out: AliasFile {
                file: file.to_string(),
                ..AliasFile::default()
            },
            lines: Vec::new(),
        };
        let mut lx = Lexer::new(bytes);
        loop {
            let l = lx.next_lexed();
            p.cur.line.get_or_insert(l.line);
            match l.token {
                Token::Pound => lx.find_eol(),
                Token::Newline => p.end_line(l.line),
                Token::Eof => {
                    p.end_line(l.line);
                    break;
                }
                Token::Name(_) | Token::Str(_) => p.word(l, &mut lx),
                Token::Comma => p.comma(l),
                _ => p.unexpected(l),
            }
        }
        (p.out, p.lines)
    }
}

impl Parser<'_> {
    fn word(&mut self, l: Lexed, lx: &mut Lexer<'_>) {
        let (Token::Name(v) | Token::Str(v)) = &l.token else {
            return;
        };
        let v = v.clone();
        let is_str = matches!(l.token, Token::Str(_));
        match self.st {
            St::New => {
                self.buf = v;
                self.cur.driver = Some((cstr(&self.buf), l.span.clone()));
                self.st = St::Drv;
            }
            St::DrvComma => {
                self.buf.extend_from_slice(&v);
                if let Some((d, s)) = &mut self.cur.driver {
                    *d = cstr(&self.buf);
                    s.end = l.span.end;
                }
                self.st = St::Drv;
            }
            St::AliasComma => {
                self.buf.extend_from_slice(&v);
                self.quoted |= is_str;
                self.unterminated |= l.unterminated;
                self.span.end = l.span.end;
                self.st = St::Alias;
            }
            St::Drv => {
                self.driver = cstr(&self.buf);
                if self.known.is_some_and(|k| !k.knows(&self.driver)) {
                    let msg = format!(
                        "driver `{}` is not in name_to_major: the kernel skips this line",
                        self.driver
                    );
                    self.kernel(LintCode::UnknownDriver, msg, None);
                    self.cur.skipped = true;
                    lx.find_eol();
                    self.st = St::New;
                } else {
                    self.start_alias(&l, v, is_str);
                }
            }
            St::Alias => {
                self.bind();
                self.start_alias(&l, v, is_str);
            }
        }
        self.cur.tokens.push(l);
    }

    fn start_alias(&mut self, l: &Lexed, v: Vec<u8>, is_str: bool) {
        self.buf = v;
        self.span = l.span.clone();
        self.alias_line = l.line;
        self.quoted = is_str;
        self.unterminated = l.unterminated;
        self.st = St::Alias;
    }

    /// Binds the alias in progress (`make_mbind`), unless it is the `"\n"`
    /// of an unterminated string (see the module docs).
    fn bind(&mut self) {
        if self.unterminated {
            return;
        }
        self.out.entries.push(AliasEntry {
            file: self.out.file.clone(),
            line: self.alias_line,
            driver: self.driver.clone(),
            alias: cstr(&self.buf),
            quoted: self.quoted,
            lints: Vec::new(),
            span: self.span.clone(),
        });
    }

    fn kernel(&mut self, code: LintCode, msg: String, span: Option<Range<usize>>) {
        self.cur.kernel.push((Lint::new(code, msg), span));
    }

    fn comma(&mut self, l: Lexed) {
        self.buf.push(b',');
        match self.st {
            St::Drv => self.st = St::DrvComma,
            St::Alias => {
                self.span.end = l.span.end;
                self.st = St::AliasComma;
            }
            _ => self.kernel(
                LintCode::AliasSyntax,
                "Unexpected token ','".into(),
                Some(l.span.clone()),
            ),
        }
        self.cur.tokens.push(l);
    }

    fn unexpected(&mut self, l: Lexed) {
        let hint = if matches!(l.token, Token::Dec(_) | Token::Hex(_)) {
            " (a part starting with a digit is a number to the kernel: quote the alias)"
        } else {
            ""
        };
        let msg = format!("Unexpected token '{}'{hint}", l.token.shown());
        self.kernel(LintCode::AliasSyntax, msg, Some(l.span.clone()));
        self.cur.tokens.push(l);
    }

    fn end_line(&mut self, newline_line: usize) {
        match self.st {
            St::Alias => self.bind(),
            St::New => {}
            _ => {
                let msg = format!(
                    "Missing alias for {}: this line binds nothing",
                    cstr(&self.buf)
                );
                self.kernel(LintCode::AliasSyntax, msg, None);
            }
        }
        let acc = std::mem::take(&mut self.cur);
        let line = acc.line.unwrap_or(newline_line);
        let first = acc.first_entry;
        let driver_name = acc.driver.as_ref().map(|(d, _)| d.as_str()).unwrap_or("");
        let facts = LineFacts {
            bytes: self.bytes,
            driver: driver_name,
            driver_span: acc.driver.as_ref().map(|(_, s)| s.clone()),
            tokens: &acc.tokens,
            bound: &self.out.entries[first..],
            kernel: acc.kernel.clone(),
        };
        let (lints, words) = line_lints(&facts);
        let text = line_text(&facts, &words);
        if !lints.is_empty() {
            match self.out.entries.get_mut(first) {
                Some(e) => e.lints.extend(lints),
                None => self.out.problems.push(AliasLineProblem {
                    line,
                    text,
                    driver: acc.driver.as_ref().map(|(d, _)| d.clone()),
                    lints,
                }),
            }
        }
        if acc.driver.is_some() || acc.skipped {
            self.lines.push(AliasLine {
                line,
                driver: acc.driver.as_ref().map(|(d, _)| d.clone()),
                driver_span: acc.driver.map(|(_, s)| s),
                words,
                entries: first..self.out.entries.len(),
            });
        }
        self.cur.first_entry = self.out.entries.len();
        self.st = St::New;
        self.driver.clear();
        self.buf.clear();
        self.unterminated = false;
    }
}
