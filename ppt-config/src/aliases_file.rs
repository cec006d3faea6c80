//! Lossless editor for `ppt_aliases` (driver_aliases syntax), over the
//! kernel's own reading of the file.
//!
//! The kernel reads `/etc/ppt_aliases` with the same parser as
//! `/etc/driver_aliases` (illumos-gate `modsysfile.c` `parse_aliases`,
//! lexed by `kobj_lex`; docs/illumos.md). pptctl has one model of that
//! syntax, `pci_illumos::aliases` (the lexer gives every token its byte
//! range); this editor asks it what each line binds and where each word
//! is, and changes only the bytes of the words an edit touches, so an
//! unedited file prints back byte for byte.
//!
//! So `reserve` and `match` read a line the same way: an alias counts as
//! present only when the kernel binds it, and a line the kernel rejects
//! (`ppt pciex8086,151`, an unquoted path, a missing quote) is shown in
//! the diagnostics and, when it names the alias being reserved, replaced
//! by the quoted alias instead of being taken for a reservation.

use std::fmt;
use std::ops::Range;

use pci_core::Diagnostic;
use pci_illumos::aliases::{AliasFile, AliasLine};

use crate::edit::{decode, file_terminator, split_lines, EditError};

/// One token of an entry: its value as the kernel binds it and where it
/// is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The value after removing quotes and escapes.
    pub value: String,
    /// Whether any part of it was written in double quotes.
    pub quoted: bool,
    /// Byte range in the file (quotes included).
    pub span: Range<usize>,
}

/// A `driver alias...` line, as the kernel binds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The driver (first token).
    pub driver: Token,
    /// The aliases the kernel binds from the line.
    pub aliases: Vec<Token>,
}

/// A `ppt_aliases` (or `driver_aliases`) file, its bytes and the kernel's
/// reading of them.
#[derive(Debug, Clone)]
pub struct AliasesFile {
    file: String,
    text: String,
    kernel: AliasFile,
    lines: Vec<AliasLine>,
    entries: Vec<(usize, Entry)>,
    diagnostics: Vec<Diagnostic>,
}

/// Writes `value` as a quoted token.
fn quote(value: &str) -> String {
    format!("\"{value}\"")
}

fn entries_of(kernel: &AliasFile, lines: &[AliasLine]) -> Vec<(usize, Entry)> {
    let mut out = Vec::new();
    for l in lines {
        let (Some(driver), Some(span)) = (&l.driver, &l.driver_span) else {
            continue;
        };
        let aliases: Vec<Token> = kernel.entries[l.entries.clone()]
            .iter()
            .map(|e| Token {
                value: e.alias.clone(),
                quoted: e.quoted,
                span: e.span.clone(),
            })
            .collect();
        if aliases.is_empty() {
            continue;
        }
        let driver = Token {
            value: driver.clone(),
            quoted: false,
            span: span.clone(),
        };
        out.push((l.line, Entry { driver, aliases }));
    }
    out
}

fn diagnostics_of(kernel: &AliasFile) -> Vec<Diagnostic> {
    let mut d: Vec<(usize, String)> = Vec::new();
    for e in &kernel.entries {
        d.extend(e.lints.iter().map(|l| (e.line, l.message.clone())));
    }
    for p in &kernel.problems {
        d.extend(p.lints.iter().map(|l| (p.line, l.message.clone())));
    }
    d.sort_by_key(|(line, _)| *line);
    d.into_iter()
        .map(|(line, m)| Diagnostic::at(&kernel.file, Some(line), m))
        .collect()
}

impl AliasesFile {
    /// Parses file bytes. `file` is the host path used in messages.
    pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Self, EditError> {
        Self::parse(file, decode(file, bytes)?)
    }

    /// Parses text. Every line is kept; the lines the kernel rejects are
    /// reported in [`AliasesFile::diagnostics`] (the same messages as
    /// `pptctl match`). Text cannot fail to parse; the `Result` is for
    /// [`AliasesFile::parse_bytes`]'s sake.
    pub fn parse(file: &str, text: &str) -> Result<Self, EditError> {
        Ok(Self::read(file, text.to_string()))
    }

    fn read(file: &str, text: String) -> Self {
        // Every driver counts as known: the editor decides what the file
        // says, not whether name_to_major lists the driver.
        let (kernel, lines) = AliasFile::parse_lines(text.as_bytes(), file, None);
        AliasesFile {
            file: file.to_string(),
            entries: entries_of(&kernel, &lines),
            diagnostics: diagnostics_of(&kernel),
            text,
            kernel,
            lines,
        }
    }

    /// An empty file (one that does not exist yet).
    pub fn empty(file: &str) -> Self {
        Self::read(file, String::new())
    }

    /// The host path given at parse time.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Problems the kernel would have with lines that are kept as they are.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The kernel's reading of the file.
    pub fn kernel(&self) -> &AliasFile {
        &self.kernel
    }

    /// Entries with their 1-based line numbers: the lines that bind at
    /// least one alias, with the aliases the kernel binds.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries.iter().map(|(n, e)| (*n, e))
    }

    /// Whether the kernel binds `alias` to `driver` from this file: the
    /// first entry with that alias names `driver` (later ones lose,
    /// `make_mbind`).
    pub fn has_alias(&self, driver: &str, alias: &str) -> bool {
        self.kernel
            .entries
            .iter()
            .find(|e| e.alias == alias)
            .is_some_and(|e| e.driver == driver)
    }

    /// Whether the file has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The first word the kernel misreads on a line of `driver` that was
    /// meant as `alias`.
    fn broken_word(&self, driver: &str, alias: &str) -> Option<Range<usize>> {
        self.lines
            .iter()
            .filter(|l| l.driver.as_deref() == Some(driver))
            .flat_map(|l| &l.words)
            .find(|w| w.broken && w.intended == alias)
            .map(|w| w.span.clone())
    }

    /// Makes the kernel bind `alias` to `driver`: nothing when it already
    /// does; a line of `driver` that meant `alias` but is misread (an
    /// unquoted number or path, a missing or stray quote) gets the word
    /// replaced by the quoted alias; otherwise `driver "alias"` is
    /// appended on a line of its own. Returns whether the file changed.
    /// Fails, leaving the file as it was, when the kernel would still not
    /// bind it (another driver's entry binds it first, or an earlier line
    /// swallows the new one).
    pub fn add_alias(&mut self, driver: &str, alias: &str) -> Result<bool, EditError> {
        if alias.is_empty() || alias.contains(['"', '\\', '\n', '\r', '\0']) {
            return Err(self.error(format!(
                "cannot write alias {alias:?}: it is empty or holds a quote, backslash, newline or NUL"
            )));
        }
        if self.has_alias(driver, alias) {
            return Ok(false);
        }
        if let Some(e) = self.kernel.entries.iter().find(|e| e.alias == alias) {
            return Err(self.error(format!(
                "line {} binds \"{alias}\" to {} first, and the kernel keeps the first binding; remove it before adding {driver} \"{alias}\"",
                e.line, e.driver
            )));
        }
        let mut text = self.text.clone();
        // When a line is appended: the file as it is before that line.
        let mut base = None;
        match self.broken_word(driver, alias) {
            Some(span) if text.is_char_boundary(span.start) && text.is_char_boundary(span.end) => {
                text.replace_range(span, &quote(alias));
            }
            _ => {
                let term = file_terminator(&split_lines(&text));
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push_str(term);
                }
                base = Some(text.clone());
                text.push_str(&format!("{driver} {}{term}", quote(alias)));
            }
        }
        let next = Self::read(&self.file, text);
        // An appended line must be read as a line of its own: removing it
        // again gives the file back. A line before it ending in `\` joins
        // the two (kobj_lex), which this catches.
        let joined = base.is_some_and(|base| {
            let mut undo = next.clone();
            undo.remove_alias(driver, alias);
            undo.text != base
        });
        if !next.has_alias(driver, alias) || joined {
            return Err(self.error(format!(
                "cannot add {driver} \"{alias}\": the kernel would not read it back (the line before it does not end cleanly)"
            )));
        }
        *self = next;
        Ok(true)
    }

    fn error(&self, message: String) -> EditError {
        EditError::File {
            file: self.file.clone(),
            message,
        }
    }

    /// Removes `alias` for `driver` everywhere the kernel binds it, and
    /// every misread word of a `driver` line that meant it: a line left
    /// with no alias goes away (with its comment), a line with other
    /// aliases loses just those words. Returns how many words went.
    pub fn remove_alias(&mut self, driver: &str, alias: &str) -> usize {
        let mut cuts: Vec<Range<usize>> = Vec::new();
        let mut whole: Vec<Range<usize>> = Vec::new();
        for l in self
            .lines
            .iter()
            .filter(|l| l.driver.as_deref() == Some(driver))
        {
            let hits: Vec<Range<usize>> = l
                .words
                .iter()
                .filter(|w| {
                    w.intended == alias
                        || self.kernel.entries[l.entries.clone()].iter().any(|e| {
                            e.alias == alias
                                && e.span.start < w.span.end
                                && w.span.start < e.span.end
                        })
                })
                .map(|w| w.span.clone())
                .collect();
            if !hits.is_empty() && hits.len() == l.words.len() {
                if let Some(span) = &l.driver_span {
                    whole.push(self.line_around(span.start));
                }
            }
            cuts.extend(hits);
        }
        if cuts.is_empty() {
            return 0;
        }
        let removed = cuts.len();
        let words_only = self.cut(&cuts, &[]);
        let with_lines = self.cut(&cuts, &whole);
        // A whole line goes only when that removes nothing else the kernel
        // binds (a `\r` inside a line ends a kernel line too).
        let kept = |t: &str| Self::read(&self.file, t.to_string()).bound_pairs();
        let text = if kept(&with_lines) == kept(&words_only) {
            with_lines
        } else {
            words_only
        };
        *self = Self::read(&self.file, text);
        removed
    }

    fn bound_pairs(&self) -> Vec<(String, String)> {
        self.kernel
            .entries
            .iter()
            .map(|e| (e.driver.clone(), e.alias.clone()))
            .collect()
    }

    /// The bytes of the line holding byte `at`, its `\n` included.
    fn line_around(&self, at: usize) -> Range<usize> {
        let b = self.text.as_bytes();
        let start = b[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let end = b[at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |i| at + i + 1);
        start..end
    }

    /// The text with `lines` removed whole and each of `words` cut with the
    /// blanks before it.
    fn cut(&self, words: &[Range<usize>], lines: &[Range<usize>]) -> String {
        let b = self.text.as_bytes();
        let mut spans: Vec<Range<usize>> = lines.to_vec();
        for w in words
            .iter()
            .filter(|w| !lines.iter().any(|l| l.start <= w.start && w.end <= l.end))
        {
            let mut start = w.start;
            while start > 0 && matches!(b[start - 1], b' ' | b'\t') {
                start -= 1;
            }
            spans.push(start..w.end);
        }
        spans.sort_by_key(|s| std::cmp::Reverse(s.start));
        let mut text = self.text.clone();
        for s in spans {
            if text.is_char_boundary(s.start) && text.is_char_boundary(s.end) && s.end <= text.len()
            {
                text.replace_range(s, "");
            }
        }
        text
    }
}

impl fmt::Display for AliasesFile {
    /// The file's bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn aliases(t: &str) -> Vec<(String, bool)> {
        let f = AliasesFile::parse("f", t).unwrap();
        f.entries()
            .flat_map(|(_, e)| e.aliases.iter().map(|a| (a.value.clone(), a.quoted)))
            .collect()
    }

    #[test]
    fn reads_like_the_kernel() {
        let t = r#"ppt "/pci@0,0/a\"b" pci10de,a65 # c "x"#;
        assert_eq!(
            aliases(t),
            [
                ("/pci@0,0/a\"b".to_string(), true),
                ("pci10de,a65".to_string(), false)
            ]
        );
        assert_eq!(aliases(r#"ppt "\101\x""#)[0].0, "Ax");
        // `151` is a number to the kernel: nothing is bound
        assert!(aliases("ppt pciex8086,151\n").is_empty());
        let f = AliasesFile::parse("f", "ppt pciex8086,151\n").unwrap();
        assert!(!f.has_alias("ppt", "pciex8086,151"));
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
    fn unterminated_quote_is_a_diagnostic_and_is_repaired() {
        let text = "# ok\nppt \"/pci@0,0\nppt \"/b@0\"\n";
        let mut f = AliasesFile::parse("/etc/ppt_aliases", text).unwrap();
        let d: Vec<String> = f.diagnostics().iter().map(|d| d.to_string()).collect();
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("/etc/ppt_aliases:2: the closing quote"),
            "{d:?}"
        );
        assert!(!d[0].contains('\n'), "{d:?}");
        assert!(f.add_alias("ppt", "/pci@0,0").unwrap());
        assert_eq!(f.to_string(), "# ok\nppt \"/pci@0,0\"\nppt \"/b@0\"\n");
    }

    #[test]
    fn unquoted_path_is_diagnosed() {
        let f = AliasesFile::parse("/etc/ppt_aliases", "ppt /pci@0,0/x@1\nppt\n").unwrap();
        let d: Vec<String> = f.diagnostics().iter().map(|d| d.to_string()).collect();
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("/etc/ppt_aliases:1: path aliases must be quoted"));
        assert!(d[0].ends_with("write ppt \"/pci@0,0/x@1\""), "{d:?}");
        assert!(d[1].starts_with("/etc/ppt_aliases:2: Missing alias for ppt"));
    }

    /// The line the kernel rejects is replaced, not taken for the alias
    /// (`reserve` used to answer "already reserved" here).
    #[test]
    fn a_misread_line_is_replaced_in_place() {
        let mut f = AliasesFile::parse("f", "# gpu\nppt pciex8086,151\t# bridge\n").unwrap();
        assert!(f.add_alias("ppt", "pciex8086,151").unwrap());
        assert_eq!(f.to_string(), "# gpu\nppt \"pciex8086,151\"\t# bridge\n");
        assert!(f.diagnostics().is_empty(), "{:?}", f.diagnostics());
        // unreserving removes a misread line too
        let mut f = AliasesFile::parse("f", "ppt /pci@0,0/x@1\nppt \"/y@0\"\n").unwrap();
        assert_eq!(f.remove_alias("ppt", "/pci@0,0/x@1"), 1);
        assert_eq!(f.to_string(), "ppt \"/y@0\"\n");
    }

    #[test]
    fn add_keeps_crlf_and_terminates_last_line() {
        let mut f = AliasesFile::parse("x", "# c\r\nppt \"/a\"").unwrap();
        assert!(f.add_alias("ppt", "/b").unwrap());
        assert!(!f.add_alias("ppt", "/a").unwrap());
        assert_eq!(f.to_string(), "# c\r\nppt \"/a\"\r\nppt \"/b\"\r\n");
        assert!(f.add_alias("ppt", "bad\"").is_err());
    }

    #[test]
    fn another_drivers_earlier_binding_is_refused() {
        let mut f = AliasesFile::parse("x", "e1000g \"pciex8086,10d3\"\n").unwrap();
        let e = f.add_alias("ppt", "pciex8086,10d3").unwrap_err();
        assert!(e.to_string().contains("line 1 binds"), "{e}");
        assert_eq!(f.to_string(), "e1000g \"pciex8086,10d3\"\n");
    }

    /// A last line ending in a `\` escape swallows the newline added after
    /// it, so the new line would be another driver's: the edit is refused
    /// rather than written to do nothing.
    #[test]
    fn an_edit_the_kernel_would_not_read_is_refused() {
        let mut f = AliasesFile::parse("x", "e1000g a\\").unwrap();
        assert!(f.add_alias("ppt", "/b@0").is_err());
        assert_eq!(f.to_string(), "e1000g a\\");
    }
}
