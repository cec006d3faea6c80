//! What an aliases file binds, line by line: the entries the kernel's
//! parser ([`super::interpret`]) produces and the diagnostics
//! ([`super::diagnostics`]) judge, kept apart from both so neither needs
//! the other's types.

use std::ops::Range;

use crate::matches::Lint;

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
    /// Problems on this entry's line (syntax, unquoted path, ...), given
    /// once per line: on the line's first entry.
    pub lints: Vec<Lint>,
    /// Its bytes in the file, from its first token to its last.
    pub span: Range<usize>,
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

/// One word the author wrote after the driver: tokens with no blank
/// between them (and words joined by a comma, which the kernel glues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Its bytes in the file.
    pub span: Range<usize>,
    /// What the author meant: its pieces with the quotes taken out.
    pub intended: String,
    /// Whether the kernel binds something other than `intended` for it
    /// (an unquoted `/` or number, a stray or missing quote).
    pub broken: bool,
}

/// One line of an aliases file as written, for editors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasLine {
    /// 1-based line of its first token.
    pub line: usize,
    /// The driver named on the line, if one was read.
    pub driver: Option<String>,
    /// The driver's bytes in the file.
    pub driver_span: Option<Range<usize>>,
    /// The words after the driver.
    pub words: Vec<Word>,
    /// The line's entries: indices into [`AliasFile::entries`].
    pub entries: Range<usize>,
}
