//! Lossless editor for `ppt_aliases` (driver_aliases syntax).
//!
//! The kernel reads `/etc/ppt_aliases` with the same parser as
//! `/etc/driver_aliases` (illumos `modsysfile.c` `parse_aliases`, lexed by
//! `kobj_lex`; docs/illumos.md): one `driver alias [alias ...]` entry per
//! line, tokens separated by blanks, `#` to end of line is a comment, quoted
//! strings may hold `/` and use `\` escapes. Path aliases must be quoted
//! because an unquoted `/` is a token the parser rejects.
//!
//! This module keeps every line as it was (comments, blank lines, order,
//! lines it does not understand) and changes only the lines an edit touches,
//! so writing back an unedited file gives the same bytes.

use std::fmt;
use std::ops::Range;

use pci_core::Diagnostic;

use crate::edit::{decode, file_terminator, split_lines, terminate_last, EditError, RawLine};

/// One token of an entry: its decoded value and where it is in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The value after removing quotes and escapes.
    pub value: String,
    /// Whether it was written in double quotes.
    pub quoted: bool,
    /// Byte range in the line's content (quotes included).
    pub span: Range<usize>,
}

/// A parsed `driver alias...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The driver (first token).
    pub driver: Token,
    /// The aliases that follow it.
    pub aliases: Vec<Token>,
}

#[derive(Debug, Clone)]
struct Line {
    raw: RawLine,
    entry: Option<Entry>,
}

/// A `ppt_aliases` (or `driver_aliases`) file held line by line.
#[derive(Debug, Clone)]
pub struct AliasesFile {
    file: String,
    lines: Vec<Line>,
    diagnostics: Vec<Diagnostic>,
}

/// Splits one line's content into tokens (none for blank and comment lines).
fn lex(content: &str) -> Result<Vec<Token>, String> {
    let bytes = content.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b' ' || c == b'\t' || c == b'\r' {
            i += 1;
        } else if c == b'#' {
            break;
        } else if c == b'"' {
            let start = i;
            i += 1;
            let mut value = Vec::new();
            let mut closed = false;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    b'\\' if i + 1 < bytes.len() => {
                        // `\` + octal digits is a character code, `\` + any
                        // other character is that character (kobj_lex).
                        let mut j = i + 1;
                        let mut code: u32 = 0;
                        while j < bytes.len() && j < i + 4 && (b'0'..=b'7').contains(&bytes[j]) {
                            code = code * 8 + u32::from(bytes[j] - b'0');
                            j += 1;
                        }
                        if j > i + 1 {
                            value.push((code & 0xff) as u8);
                            i = j;
                        } else {
                            value.push(bytes[i + 1]);
                            i += 2;
                        }
                    }
                    b => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            if !closed {
                return Err("missing closing `\"` (the kernel warns `Missing \"`)".into());
            }
            tokens.push(Token {
                value: String::from_utf8_lossy(&value).into_owned(),
                quoted: true,
                span: start..i,
            });
        } else {
            let start = i;
            while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'#' | b'"') {
                i += 1;
            }
            tokens.push(Token {
                value: content[start..i].to_string(),
                quoted: false,
                span: start..i,
            });
        }
    }
    Ok(tokens)
}

/// Writes `value` as a quoted token.
fn quote(value: &str) -> String {
    format!("\"{value}\"")
}

impl AliasesFile {
    /// Parses file bytes. `file` is the host path used in messages.
    pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Self, EditError> {
        Self::parse(file, decode(file, bytes)?)
    }

    /// Parses text. Lines the kernel would reject but that do not stop an
    /// edit are kept and reported in [`AliasesFile::diagnostics`]; an
    /// unterminated quote is an error because the extent of the entry is
    /// then unclear.
    pub fn parse(file: &str, text: &str) -> Result<Self, EditError> {
        let mut lines = Vec::new();
        let mut diagnostics = Vec::new();
        for (n, raw) in split_lines(text).into_iter().enumerate() {
            let tokens = lex(raw.content()).map_err(|message| EditError::Syntax {
                file: file.to_string(),
                line: n + 1,
                message,
            })?;
            let mut it = tokens.into_iter();
            let entry = it.next().map(|driver| Entry {
                driver,
                aliases: it.collect(),
            });
            if let Some(e) = &entry {
                if e.aliases.is_empty() {
                    diagnostics.push(Diagnostic::at(
                        file,
                        Some(n + 1),
                        format!("missing alias for driver `{}`", e.driver.value),
                    ));
                }
                for a in &e.aliases {
                    if !a.quoted && a.value.contains('/') {
                        diagnostics.push(Diagnostic::at(
                            file,
                            Some(n + 1),
                            format!(
                                "path alias {} must be quoted; the kernel rejects an unquoted `/`",
                                a.value
                            ),
                        ));
                    }
                }
            }
            lines.push(Line { raw, entry });
        }
        Ok(AliasesFile {
            file: file.to_string(),
            lines,
            diagnostics,
        })
    }

    /// An empty file (one that does not exist yet).
    pub fn empty(file: &str) -> Self {
        AliasesFile {
            file: file.to_string(),
            lines: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// The host path given at parse time.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Problems the kernel would have with lines that are kept as they are.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Entries with their 1-based line numbers.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.entry.as_ref().map(|e| (i + 1, e)))
    }

    /// Whether `driver` has the alias `alias` on any line.
    pub fn has_alias(&self, driver: &str, alias: &str) -> bool {
        self.entries()
            .any(|(_, e)| e.driver.value == driver && e.aliases.iter().any(|a| a.value == alias))
    }

    /// Whether the file has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.raw.raw.is_empty())
    }

    /// Appends `driver "alias"` on a line of its own unless that alias is
    /// already there. Returns whether the file changed.
    pub fn add_alias(&mut self, driver: &str, alias: &str) -> Result<bool, EditError> {
        if alias.is_empty() || alias.contains(['"', '\\', '\n', '\r']) {
            return Err(EditError::File {
                file: self.file.clone(),
                message: format!(
                    "cannot write alias {alias:?}: it holds a quote, backslash or newline"
                ),
            });
        }
        if self.has_alias(driver, alias) {
            return Ok(false);
        }
        let raws: Vec<RawLine> = self.lines.iter().map(|l| l.raw.clone()).collect();
        let term = file_terminator(&raws);
        let mut raws = raws;
        terminate_last(&mut raws, term);
        for (l, r) in self.lines.iter_mut().zip(raws) {
            l.raw = r;
        }
        let content = format!("{driver} {}", quote(alias));
        let entry = lex(&content).ok().and_then(|t| {
            let mut it = t.into_iter();
            it.next().map(|driver| Entry {
                driver,
                aliases: it.collect(),
            })
        });
        self.lines.push(Line {
            raw: RawLine::new(&content, term),
            entry,
        });
        Ok(true)
    }

    /// Removes every occurrence of `alias` for `driver`: a line that held
    /// only that alias goes away, a line with other aliases loses just that
    /// token. Returns how many were removed.
    pub fn remove_alias(&mut self, driver: &str, alias: &str) -> usize {
        let mut removed = 0;
        let mut keep = Vec::with_capacity(self.lines.len());
        for mut line in std::mem::take(&mut self.lines) {
            let Some(entry) = &line.entry else {
                keep.push(line);
                continue;
            };
            if entry.driver.value != driver {
                keep.push(line);
                continue;
            }
            let hits: Vec<&Token> = entry.aliases.iter().filter(|a| a.value == alias).collect();
            if hits.is_empty() {
                keep.push(line);
                continue;
            }
            removed += hits.len();
            if hits.len() == entry.aliases.len() {
                continue; // the whole line was this alias
            }
            // Cut each token with the blanks before it, last first so the
            // earlier spans stay valid.
            let content = line.raw.content().to_string();
            let term = line.raw.terminator().to_string();
            let mut text = content.clone();
            let mut spans: Vec<Range<usize>> = hits.iter().map(|t| t.span.clone()).collect();
            spans.sort_by_key(|s| std::cmp::Reverse(s.start));
            for s in spans {
                let mut start = s.start;
                while start > 0 && matches!(content.as_bytes()[start - 1], b' ' | b'\t') {
                    start -= 1;
                }
                text.replace_range(start..s.end, "");
            }
            line.raw = RawLine::new(&text, &term);
            line.entry = lex(&text).ok().and_then(|t| {
                let mut it = t.into_iter();
                it.next().map(|driver| Entry {
                    driver,
                    aliases: it.collect(),
                })
            });
            keep.push(line);
        }
        self.lines = keep;
        removed
    }
}

impl fmt::Display for AliasesFile {
    /// The file's bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw.raw)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn lexes_quotes_escapes_and_comments() {
        let t = lex(r#"ppt "/pci@0,0/a\"b" pci10de,a65 # c "x"#).unwrap();
        let v: Vec<_> = t.iter().map(|t| (t.value.as_str(), t.quoted)).collect();
        assert_eq!(
            v,
            [
                ("ppt", false),
                ("/pci@0,0/a\"b", true),
                ("pci10de,a65", false)
            ]
        );
        assert_eq!(lex(r#""\101\x""#).unwrap()[0].value, "Ax");
        assert!(lex("ppt \"/pci@0").is_err());
    }

    #[test]
    fn removes_one_alias_from_a_multi_alias_line() {
        let mut f =
            AliasesFile::parse("/etc/ppt_aliases", "ppt \"/a@0\" \"/b@0\"\t# two\n").unwrap();
        assert_eq!(f.remove_alias("ppt", "/a@0"), 1);
        assert_eq!(f.to_string(), "ppt \"/b@0\"\t# two\n");
        assert_eq!(f.remove_alias("ppt", "/b@0"), 1);
        assert_eq!(f.to_string(), "");
    }

    #[test]
    fn unterminated_quote_names_file_and_line() {
        let e = AliasesFile::parse("/etc/ppt_aliases", "# ok\nppt \"/pci@0,0\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/etc/ppt_aliases:2: missing closing"),
            "{e}"
        );
    }

    #[test]
    fn unquoted_path_is_diagnosed() {
        let f = AliasesFile::parse("/etc/ppt_aliases", "ppt /pci@0,0/x@1\nppt\n").unwrap();
        let d: Vec<String> = f.diagnostics().iter().map(|d| d.to_string()).collect();
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("/etc/ppt_aliases:1: path alias"));
        assert!(d[1].starts_with("/etc/ppt_aliases:2: missing alias"));
    }

    #[test]
    fn add_keeps_crlf_and_terminates_last_line() {
        let mut f = AliasesFile::parse("x", "# c\r\nppt \"/a\"").unwrap();
        assert!(f.add_alias("ppt", "/b").unwrap());
        assert!(!f.add_alias("ppt", "/a").unwrap());
        assert_eq!(f.to_string(), "# c\r\nppt \"/a\"\r\nppt \"/b\"\r\n");
        assert!(f.add_alias("ppt", "bad\"").is_err());
    }
}
