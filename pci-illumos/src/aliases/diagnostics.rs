//! What is wrong with one line of an aliases file, said once per line in
//! terms of what the author wrote: the words after the driver, what the
//! kernel binds instead of each broken one, and the line to write.
//!
//! The kernel itself warns once per token (`Unexpected token '151'`,
//! `Missing alias for ...`, `Missing "`; `parse_aliases` and `kobj_lex` in
//! illumos-gate `usr/src/uts/common/os/modsysfile.c`). Those warnings are
//! kept for tokens no word-level message explains.

use std::collections::HashSet;
use std::ops::Range;

use super::entries::{AliasEntry, Word};
use super::lexer::{Lexed, Token};
use crate::matches::{Lint, LintCode};

/// Everything one line gathered, for its diagnostics.
pub(super) struct LineFacts<'a> {
    pub bytes: &'a [u8],
    /// The driver named on the line (empty when none).
    pub driver: &'a str,
    pub driver_span: Option<Range<usize>>,
    /// The line's tokens (no newline, no comment).
    pub tokens: &'a [Lexed],
    /// The entries the line binds.
    pub bound: &'a [AliasEntry],
    /// The kernel's own warnings, each with the token it is about.
    pub kernel: Vec<(Lint, Option<Range<usize>>)>,
}

/// Bytes made readable in a message: control characters escaped, so an
/// unterminated string's newline shows as `\n`, not as a line break.
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

fn text(bytes: &[u8], span: Range<usize>) -> String {
    let end = span.end.min(bytes.len());
    let start = span.start.min(end);
    String::from_utf8_lossy(&bytes[start..end]).into_owned()
}

/// The tokens of the line after the driver, grouped into words.
fn group_words<'t>(f: &LineFacts<'t>) -> Vec<Vec<&'t Lexed>> {
    let after = f.driver_span.as_ref().map_or(0, |s| s.end);
    let mut words: Vec<Vec<&Lexed>> = Vec::new();
    for t in f.tokens.iter().filter(|t| t.span.start >= after) {
        let joined = words.last().and_then(|w| w.last()).is_some_and(|last| {
            last.span.end == t.span.start || last.token == Token::Comma || t.token == Token::Comma
        });
        match words.last_mut() {
            Some(w) if joined => w.push(t),
            _ => words.push(vec![t]),
        }
    }
    words
}

/// What the author meant by a word: the pieces with the quotes taken out
/// (the value of each string, the bytes of everything else).
fn intended(bytes: &[u8], word: &[&Lexed]) -> String {
    let mut out = String::new();
    for t in word {
        match &t.token {
            Token::Str(_) if t.unterminated => {
                let s = t.span.start.saturating_add(1);
                out.push_str(&text(bytes, s..t.span.end));
            }
            Token::Str(v) => out.push_str(&String::from_utf8_lossy(v)),
            _ => out.push_str(&text(bytes, t.span.clone())),
        }
    }
    out
}

/// Why the kernel does not read `word` as meant, as the code and the
/// start of the message.
fn reason(bytes: &[u8], word: &[&Lexed], meant: &str) -> (LintCode, String) {
    let raw = printable(&text(
        bytes,
        word[0].span.start..word[word.len() - 1].span.end,
    ));
    if meant.starts_with('/') && word.iter().any(|t| t.token == Token::Slash) {
        let why = "path aliases must be quoted: the kernel's lexer rejects an unquoted `/`";
        return (LintCode::UnquotedPath, why.to_string());
    }
    let quoted = word.iter().any(|t| matches!(t.token, Token::Str(_)));
    if quoted && word.len() > 1 {
        let why = format!(
            "a quote inside `{raw}` splits it: the kernel reads the quoted and unquoted parts as separate aliases"
        );
        return (LintCode::AliasSyntax, why);
    }
    if word.iter().any(|t| t.unterminated) {
        let why = format!(
            "the closing quote of `{raw}` is missing: the kernel warns `Missing \"` and reads the string as a newline"
        );
        return (LintCode::AliasSyntax, why);
    }
    if let Some(n) = word
        .iter()
        .find(|t| matches!(t.token, Token::Dec(_) | Token::Hex(_)))
    {
        let why = format!(
            "`{raw}` is not one alias to the kernel: `{}` starts with a digit, so it lexes as a number, which the alias parser drops",
            n.token.shown()
        );
        return (LintCode::AliasSyntax, why);
    }
    let odd = word
        .iter()
        .find(|t| !t.token.is_word() && t.token != Token::Comma)
        .map_or_else(|| raw.clone(), |t| printable(&t.token.shown()));
    let why = format!(
        "`{raw}` is not one alias to the kernel: `{odd}` is not a name character outside quotes"
    );
    (LintCode::AliasSyntax, why)
}

/// The line's words, and its lints: one per broken word (what the kernel
/// binds instead, and the line to write), then the kernel's own warnings
/// those do not already explain, each once.
pub(super) fn line_lints(f: &LineFacts<'_>) -> (Vec<Lint>, Vec<Word>) {
    let skipped = f
        .kernel
        .iter()
        .any(|(l, _)| l.code == LintCode::UnknownDriver);
    let bound: Vec<String> = f
        .bound
        .iter()
        .map(|e| format!("\"{}\"", printable(&e.alias)))
        .collect();
    let binds = if bound.is_empty() {
        "binds nothing".to_string()
    } else {
        format!("binds {} instead", bound.join(", "))
    };
    let mut lints = Vec::new();
    let mut words = Vec::new();
    let mut explained: Vec<Range<usize>> = Vec::new();
    for w in group_words(f) {
        let span = w[0].span.start..w[w.len() - 1].span.end;
        let meant = intended(f.bytes, &w);
        let broken = !skipped && !f.bound.iter().any(|e| e.alias == meant);
        if broken {
            let (code, why) = reason(f.bytes, &w, &meant);
            let fix = format!("{} \"{}\"", f.driver, printable(&meant));
            lints.push(Lint::new(
                code,
                format!("{why}, so this line {binds}; write {fix}"),
            ));
            explained.push(span.clone());
        }
        words.push(Word {
            span,
            intended: meant,
            broken,
        });
    }
    for (l, span) in &f.kernel {
        let inside = span.as_ref().is_some_and(|s| {
            explained
                .iter()
                .any(|w| w.start <= s.start && s.end <= w.end)
        });
        // `Missing alias` only repeats what a word's message said
        let repeats = span.is_none() && l.message.starts_with("Missing alias");
        let said = inside || (repeats && !explained.is_empty());
        if !said {
            lints.push(l.clone());
        }
    }
    let mut seen = HashSet::new();
    lints.retain(|l| seen.insert(l.message.clone()));
    (lints, words)
}

/// The line's text after the driver, trimmed: its words, or (when the
/// kernel skipped the rest of the line) everything up to the newline.
pub(super) fn line_text(f: &LineFacts<'_>, words: &[Word]) -> String {
    let skipped = f
        .kernel
        .iter()
        .any(|(l, _)| l.code == LintCode::UnknownDriver);
    if let (Some(first), Some(last), false) = (words.first(), words.last(), skipped) {
        return printable(text(f.bytes, first.span.start..last.span.end).trim());
    }
    let start = f
        .driver_span
        .as_ref()
        .map_or_else(|| f.tokens.first().map_or(0, |t| t.span.start), |s| s.end);
    let rest = f.bytes.get(start..).unwrap_or(&[]);
    let end = rest
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(rest.len());
    printable(String::from_utf8_lossy(&rest[..end]).trim())
}
