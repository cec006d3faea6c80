//! Lossless editor for loader `loader.conf.local`.
//!
//! SmartOS's loader makes a file a boot module with a stanza of four
//! variables sharing an arbitrary prefix (smartos-docs
//! `docs/modifying-boot-files.md`, docs/illumos.md):
//!
//! ```text
//! etc_system_load=YES
//! etc_system_type=file
//! etc_system_name=/boot/bootfs/etc/system
//! etc_system_flags="name=/etc/system"
//! ```
//!
//! `_name` is the file's path relative to the boot volume's root, the
//! `name=` flag the path the kernel sees (under `/system/boot`). The file is
//! `name=value` lines, values optionally in double quotes, `#` comments.
//! The editor finds a stanza by its `name=` flag, whatever its prefix, so it
//! never adds a second one beside a hand-written stanza.

use std::fmt;

use crate::edit::{decode, file_terminator, split_lines, terminate_last, EditError, RawLine};

/// A `name=value` assignment and where its value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Variable name.
    pub key: String,
    /// Value without quotes.
    pub value: String,
}

/// Reads a `key=value` line; `None` for blank, comment and other lines.
pub(crate) fn assignment(content: &str) -> Option<Assignment> {
    let t = content.trim_start_matches([' ', '\t']);
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let (key, rest) = t.split_once('=')?;
    let key = key.trim_end_matches([' ', '\t']);
    if key.is_empty() || key.contains([' ', '\t']) {
        return None;
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let value = if let Some(q) = rest.strip_prefix('"') {
        q.split_once('"').map(|(v, _)| v).unwrap_or(q)
    } else {
        rest.split(['#', ' ', '\t']).next().unwrap_or("")
    };
    Some(Assignment {
        key: key.to_string(),
        value: value.to_string(),
    })
}

/// The suffixes of one module stanza that belong to it.
const STANZA_KEYS: [&str; 7] = ["load", "type", "name", "flags", "before", "after", "error"];

/// A `loader.conf.local` held line by line.
#[derive(Debug, Clone)]
pub struct LoaderConf {
    file: String,
    lines: Vec<RawLine>,
}

impl LoaderConf {
    /// Parses file bytes; `file` is the host path used in messages.
    pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Self, EditError> {
        Ok(Self::parse(file, decode(file, bytes)?))
    }

    /// Parses text; lines that are not assignments are kept as they are.
    pub fn parse(file: &str, text: &str) -> Self {
        LoaderConf {
            file: file.to_string(),
            lines: split_lines(text),
        }
    }

    /// The host path given at parse time.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Assignments with 1-based line numbers.
    pub fn assignments(&self) -> impl Iterator<Item = (usize, Assignment)> + '_ {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| assignment(l.content()).map(|a| (i + 1, a)))
    }

    /// The prefix of the stanza whose `_flags` hold `name=KERNEL_NAME`.
    pub fn module_prefix(&self, kernel_name: &str) -> Option<String> {
        let want = format!("name={kernel_name}");
        self.assignments().find_map(|(_, a)| {
            let prefix = a.key.strip_suffix("_flags")?;
            a.value
                .split_whitespace()
                .any(|w| w == want)
                .then(|| prefix.to_string())
        })
    }

    fn value_of(&self, key: &str) -> Option<(usize, String)> {
        self.assignments()
            .filter(|(_, a)| a.key == key)
            .last()
            .map(|(n, a)| (n - 1, a.value))
    }

    /// Makes sure a stanza loads `volume_path` as `kernel_name`. An existing
    /// stanza for that name is kept (and its `_load` set to `YES` if it was
    /// not); otherwise four lines are appended with `prefix` (or
    /// `pptctl_<prefix>` when `prefix` is taken by something else). Returns
    /// whether the file changed.
    pub fn ensure_module(&mut self, prefix: &str, volume_path: &str, kernel_name: &str) -> bool {
        let term = file_terminator(&self.lines);
        if let Some(p) = self.module_prefix(kernel_name) {
            let key = format!("{p}_load");
            return match self.value_of(&key) {
                Some((_, v)) if v.eq_ignore_ascii_case("yes") => false,
                Some((i, _)) => {
                    let t = self.lines[i].terminator().to_string();
                    self.lines[i] = RawLine::new(&format!("{key}=YES"), &t);
                    true
                }
                None => {
                    terminate_last(&mut self.lines, term);
                    self.lines.push(RawLine::new(&format!("{key}=YES"), term));
                    true
                }
            };
        }
        let taken = self
            .assignments()
            .any(|(_, a)| STANZA_KEYS.iter().any(|s| a.key == format!("{prefix}_{s}")));
        let prefix = if taken {
            format!("pptctl_{prefix}")
        } else {
            prefix.to_string()
        };
        terminate_last(&mut self.lines, term);
        for l in [
            format!("{prefix}_load=YES"),
            format!("{prefix}_type=file"),
            format!("{prefix}_name={volume_path}"),
            format!("{prefix}_flags=\"name={kernel_name}\""),
        ] {
            self.lines.push(RawLine::new(&l, term));
        }
        true
    }

    /// Removes the stanza that loads `kernel_name` (its `_load`, `_type`,
    /// `_name`, `_flags`, `_before`, `_after`, `_error` lines). Returns how
    /// many lines went.
    pub fn remove_module(&mut self, kernel_name: &str) -> usize {
        let Some(p) = self.module_prefix(kernel_name) else {
            return 0;
        };
        let keys: Vec<String> = STANZA_KEYS.iter().map(|s| format!("{p}_{s}")).collect();
        let before = self.lines.len();
        self.lines
            .retain(|l| !assignment(l.content()).is_some_and(|a| keys.contains(&a.key)));
        before - self.lines.len()
    }
}

impl fmt::Display for LoaderConf {
    /// The file's bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}
