//! The kernel's configuration-file lexer (`kobj_lex` in illumos-gate
//! `usr/src/uts/common/os/modsysfile.c`), token by token, with the byte
//! range each token covers so an editor can change one token and keep
//! every other byte.
//!
//! Behaviour reproduced (facts, not code): spaces and tabs separate
//! tokens; `\n` and `\r` are NEWLINE; `#` is POUND (the callers then skip
//! to the end of the line, `kobj_find_eol`); `"..."` is a STRING where `\`
//! escapes the next byte and `\` + octal digits gives that byte; a newline
//! or end of file inside the quotes warns `Missing "`, leaves the newline
//! to be read next and hands the caller the one-byte string `"\n"`; a NAME
//! starts with a letter, `_` or `\` and goes on with letters, digits, `_`,
//! `-` (a `\` takes the next byte whatever it is, newline included); a
//! token starting with a digit is a number (DECVAL, or HEXVAL after `0x`);
//! `,` is COMMA, `/` SLASH; anything else is UNEXPECTED. A token may hold
//! at most `MAXPATHLEN - 1` bytes.

use std::ops::Range;

use crate::matches::MAXPATHLEN;

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

impl Token {
    /// The token as the kernel's `Unexpected token '%s'` warning shows it.
    pub fn shown(&self) -> String {
        match self {
            Token::Name(v) | Token::Str(v) | Token::Dec(v) | Token::Hex(v) => {
                String::from_utf8_lossy(v).into_owned()
            }
            Token::Unexpected(v) => String::from_utf8_lossy(v).into_owned(),
            Token::Comma => ",".into(),
            Token::Slash => "/".into(),
            Token::Pound => "#".into(),
            Token::Operator(b) => (*b as char).to_string(),
            Token::Newline | Token::WhiteSpace | Token::Eof => " ".into(),
        }
    }

    /// Whether the alias parser takes it as a word (NAME or STRING).
    pub fn is_word(&self) -> bool {
        matches!(self, Token::Name(_) | Token::Str(_))
    }
}

/// A token with where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexed {
    /// The token.
    pub token: Token,
    /// 1-based line it starts on (lines end at `\n`).
    pub line: usize,
    /// Its bytes in the file (quotes included; empty at end of file).
    pub span: Range<usize>,
    /// A STRING whose closing quote is missing (the kernel warned
    /// `Missing "` and the token's value is `"\n"`).
    pub unterminated: bool,
}

/// The lexer over a whole file.
pub struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    /// Whether the last `getc` hit the end (so `ungetc` must not back up).
    at_eof: bool,
    line: usize,
    line_pos: usize,
    unterminated: bool,
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

fn is(c: i32, b: u8) -> bool {
    c == i32::from(b)
}

/// The low byte of a character read (`-1` never reaches here).
fn byte(c: i32) -> u8 {
    (c & 0xff) as u8
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
            unterminated: false,
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
    pub(crate) fn find_eol(&mut self) {
        loop {
            let c = self.getc();
            if c == -1 {
                break;
            }
            if is(c, b'\n') || is(c, b'\r') || c == 0x0c {
                self.ungetc();
                break;
            }
        }
    }

    /// The next token and the line it starts on.
    pub fn next_token(&mut self) -> (Token, usize) {
        let l = self.next_lexed();
        (l.token, l.line)
    }

    /// The next token with its line and byte range.
    pub fn next_lexed(&mut self) -> Lexed {
        let mut c = self.getc();
        while is(c, b' ') || is(c, b'\t') {
            c = self.getc();
        }
        let start = if c == -1 { self.pos } else { self.pos - 1 };
        let line = self.line_of(start);
        self.unterminated = false;
        let token = self.lex_from(c, line);
        Lexed {
            token,
            line,
            span: start..self.pos.max(start),
            unterminated: std::mem::take(&mut self.unterminated),
        }
    }

    fn lex_from(&mut self, first: i32, line: usize) -> Token {
        if first == -1 {
            return Token::Eof;
        }
        let b = byte(first);
        match b {
            b'=' | b'&' | b'|' | b'*' | b':' | b';' => Token::Operator(b),
            b'#' => Token::Pound,
            b',' => Token::Comma,
            b'/' => Token::Slash,
            b'\n' | b'\r' => Token::Newline,
            0x0c => self.lex_formfeed(),
            b'"' => self.lex_string(line),
            _ => self.lex_word(b),
        }
    }

    fn lex_formfeed(&mut self) -> Token {
        let mut remain = TOKEN_MAX - 1;
        loop {
            let n = self.getc();
            if is(n, b' ') || is(n, b'\t') || n == 0x0c {
                remain -= 1;
                if remain == 0 {
                    return Token::Unexpected(Vec::new());
                }
            } else {
                break;
            }
        }
        self.ungetc();
        Token::WhiteSpace
    }

    fn lex_string(&mut self, line: usize) -> Token {
        let mut val = Vec::new();
        let mut remain = TOKEN_MAX;
        loop {
            let n = self.getc();
            if is(n, b'"') {
                return Token::Str(val);
            }
            if is(n, b'\n') || n == -1 {
                self.warnings.push((line, "Missing \"".to_string()));
                self.unterminated = true;
                // The kernel hands the parser "\n" as the string and reads
                // the newline again.
                self.ungetc();
                return Token::Str(b"\n".to_vec());
            }
            remain -= 1;
            if remain == 0 {
                return Token::Unexpected(val);
            }
            if !is(n, b'\\') {
                val.push(byte(n));
                continue;
            }
            let e = self.getc();
            if !is_digit(e) {
                val.push(byte(e));
                continue;
            }
            let mut oval: u32 = 0;
            let mut d = e;
            while (i32::from(b'0')..=i32::from(b'7')).contains(&d) {
                oval = (oval << 3) + (d - i32::from(b'0')) as u32;
                d = self.getc();
            }
            self.ungetc();
            val.push((oval & 0xff) as u8);
        }
    }

    /// NAME, DECVAL, HEXVAL or UNEXPECTED, starting with byte `b`.
    fn lex_word(&mut self, b: u8) -> Token {
        let mut val = vec![b];
        let mut remain = TOKEN_MAX - 1;
        let mut c = i32::from(b);
        if b == b'-' || b == b'~' {
            remain -= 1;
            if remain == 0 {
                return Token::Unexpected(val);
            }
            c = self.getc();
            val.push(byte(c));
            if b == b'-' && (is(c, b' ') || is(c, b'\t') || is(c, b'\n')) {
                // a lone `-` is a NAME
                self.ungetc();
                val.pop();
                return Token::Name(val);
            }
        }
        if is_digit(c) {
            return self.lex_number(c, val, remain);
        }
        if u8::try_from(c).is_ok_and(|x| x.is_ascii_alphabetic()) || is(c, b'\\') || is(c, b'_') {
            return self.lex_name(c, val, remain);
        }
        Token::Unexpected(val)
    }

    fn lex_number(&mut self, c: i32, mut val: Vec<u8>, mut remain: usize) -> Token {
        let mut n = self.getc();
        if is(c, b'0') && is(n, b'x') {
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
                val.push(byte(n));
                n = self.getc();
            }
            self.ungetc();
            return Token::Hex(val);
        }
        while is_digit(n) {
            remain -= 1;
            if remain == 0 {
                return Token::Unexpected(val);
            }
            val.push(byte(n));
            n = self.getc();
        }
        self.ungetc();
        Token::Dec(val)
    }

    fn lex_name(&mut self, mut c: i32, mut val: Vec<u8>, mut remain: usize) -> Token {
        if is(c, b'\\') {
            // the backslash is overwritten by the escaped byte
            val.pop();
            remain += 1;
        } else {
            c = self.getc();
        }
        while is_namechar(c) || is(c, b'\\') {
            if is(c, b'\\') {
                c = self.getc();
            }
            remain -= 1;
            if remain == 0 {
                return Token::Unexpected(val);
            }
            val.push(byte(c));
            c = self.getc();
        }
        self.ungetc();
        Token::Name(val)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Every token's range covers exactly its bytes: quotes included, the
    /// newline after an unterminated string left out.
    #[test]
    fn spans_cover_the_token_bytes() {
        let text = b"ppt \"/a@0\"\tpciex8086,151 # c\n\"x\n";
        let mut lx = Lexer::new(text);
        let mut got = Vec::new();
        loop {
            let l = lx.next_lexed();
            if l.token == Token::Eof {
                assert_eq!(l.span, text.len()..text.len());
                break;
            }
            got.push((
                String::from_utf8_lossy(&text[l.span.clone()]).into_owned(),
                l.line,
                l.unterminated,
            ));
            if l.token == Token::Pound {
                lx.find_eol();
            }
        }
        let want = [
            ("ppt", 1, false),
            ("\"/a@0\"", 1, false),
            ("pciex8086", 1, false),
            (",", 1, false),
            ("151", 1, false),
            ("#", 1, false),
            ("\n", 1, false),
            ("\"x", 2, true),
            ("\n", 2, false),
        ];
        let want: Vec<(String, usize, bool)> = want
            .iter()
            .map(|(s, l, u)| (s.to_string(), *l, *u))
            .collect();
        assert_eq!(got, want);
    }
}
