//! Reading `ppt_matches` as libppt does: which file, line by line within
//! limits, and the first rule that matches a node.

use pci_core::text::{escape, Escaped};
use std::io::{self, BufRead, ErrorKind};

use pci_core::Diagnostic;

use super::lints::text_lints;
use super::{
    is_c_space, parse_line, Lint, LintCode, MatchLine, NodeIds, NodeStrings, Rule, MATCHES_FILES,
    MAXPATHLEN,
};
use crate::files::{ConfigFiles, FileState, Origin};
use crate::root::{HostRoot, ReadError};

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
    pub(crate) fn load_with(
        root: &HostRoot,
        limits: ReadLimits,
    ) -> Result<PptMatches, MatchesError> {
        let mut files = ConfigFiles::default();
        for p in MATCHES_FILES {
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
    pub(crate) fn from_files_with(
        files: &ConfigFiles,
        limits: ReadLimits,
    ) -> Result<PptMatches, MatchesError> {
        for host_path in MATCHES_FILES {
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
