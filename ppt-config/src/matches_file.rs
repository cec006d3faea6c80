//! Lossless editor for `ppt_matches`.
//!
//! libppt reads the file line by line and tries, in order,
//! `sscanf(line, "pciex%4s,%4s")`, `"pci%4s,%4s"`, `"pciex%4s"`, `"pci%4s"`,
//! then takes a line starting with `/` as a path; anything else is ignored
//! (illumos-gate libppt.c `get_matches`). It compares the ids as strings against `%x` of the
//! node's ids, so the only form that can match is lower-case and unpadded
//! (`pciex10de,a65`). The editor keeps every line and reads each one the way
//! libppt does (with the matcher's reading in `pci_illumos::matches`), to
//! know whether an id is already covered.

use std::fmt;

use crate::edit::{decode, file_terminator, split_lines, terminate_last, EditError, RawLine};

/// How libppt reads one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchLine {
    /// A vendor (and optionally device) id, as the strings libppt compares.
    Id {
        /// Up to four characters read by `%4s` (not necessarily hex).
        vendor: String,
        /// Device part, when the line has one.
        device: Option<String>,
    },
    /// A devfs path (the whole line).
    Path(String),
    /// A line libppt ignores (comments, blank lines, anything else).
    Ignored,
}

/// Reads one line (without its `\n`) as libppt does. The reading itself is
/// `pci_illumos::matches::parse_line` (C `sscanf` `%4s` semantics, NUL
/// handling); this only turns it into strings the editor compares.
pub(crate) fn interpret(line: &str) -> MatchLine {
    use pci_illumos::matches::{parse_line, Rule};
    match parse_line(line.as_bytes()).rule {
        Rule::Id { vendor, device } => MatchLine::Id {
            vendor: vendor.to_text(),
            device: Some(device.to_text()),
        },
        Rule::Vendor { vendor } => MatchLine::Id {
            vendor: vendor.to_text(),
            device: None,
        },
        Rule::Path(p) => MatchLine::Path(String::from_utf8_lossy(&p).into_owned()),
        Rule::Ignored => MatchLine::Ignored,
    }
}

/// The line `pptctl` writes for an id: `pciexVVVV,DDDD` for PCI Express
/// functions, `pciVVVV,DDDD` otherwise, lower-case and unpadded, the only
/// spelling libppt's string comparison accepts.
pub fn id_line(vendor: u16, device: u16, pcie: bool) -> String {
    let p = if pcie { "pciex" } else { "pci" };
    format!("{p}{vendor:x},{device:x}")
}

/// Whether libppt can read an id line for `vendor` back as that vendor:
/// `%4s` does not stop at `,`, so a vendor id written with fewer than four
/// hex digits swallows the comma and never matches (libppt.c `get_matches`,
/// e.g. `pcie11,ae10`). Assigned vendor ids are all at least 0x1000.
pub fn id_expressible(vendor: u16) -> bool {
    vendor >= 0x1000
}

/// A `ppt_matches` file held line by line.
#[derive(Debug, Clone)]
pub struct MatchesFile {
    file: String,
    lines: Vec<RawLine>,
}

impl MatchesFile {
    /// Parses file bytes; `file` is the host path used in messages.
    pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Self, EditError> {
        Ok(Self::parse(file, decode(file, bytes)?))
    }

    /// Parses text; every line is valid to libppt (unknown lines are ignored
    /// by it), so this cannot fail.
    pub fn parse(file: &str, text: &str) -> Self {
        MatchesFile {
            file: file.to_string(),
            lines: split_lines(text),
        }
    }

    /// An empty (absent) file.
    pub fn empty(file: &str) -> Self {
        Self::parse(file, "")
    }

    /// The host path given at parse time.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Each line as libppt reads it, with 1-based line numbers. libppt strips
    /// exactly one `\n` and nothing else, so a `\r` stays part of the line.
    pub fn lines(&self) -> impl Iterator<Item = (usize, MatchLine)> + '_ {
        self.lines.iter().enumerate().map(|(i, l)| {
            let s = l.raw.strip_suffix('\n').unwrap_or(&l.raw);
            (i + 1, interpret(s))
        })
    }

    /// Whether libppt would list a device with these ids (by an exact id
    /// line or a vendor-only line).
    pub fn covers(&self, vendor: u16, device: u16) -> bool {
        let (v, d) = (format!("{vendor:x}"), format!("{device:x}"));
        self.lines().any(|(_, m)| match m {
            MatchLine::Id {
                vendor: lv,
                device: ld,
            } => lv == v && ld.is_none_or(|ld| ld == d),
            _ => false,
        })
    }

    /// Whether the file has no bytes.
    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.raw.is_empty())
    }

    /// Appends the id line unless the id is already covered, or libppt
    /// could not read it back (see [`id_expressible`]). Returns whether the
    /// file changed.
    pub fn add_id(&mut self, vendor: u16, device: u16, pcie: bool) -> bool {
        if !id_expressible(vendor) || self.covers(vendor, device) {
            return false;
        }
        let term = file_terminator(&self.lines);
        terminate_last(&mut self.lines, term);
        self.lines
            .push(RawLine::new(&id_line(vendor, device, pcie), term));
        true
    }

    /// Removes the lines libppt reads as exactly this vendor and device
    /// (either prefix); vendor-only lines stay. Returns how many went.
    pub fn remove_id(&mut self, vendor: u16, device: u16) -> usize {
        let want = MatchLine::Id {
            vendor: format!("{vendor:x}"),
            device: Some(format!("{device:x}")),
        };
        let before = self.lines.len();
        self.lines.retain(|l| {
            let s = l.raw.strip_suffix('\n').unwrap_or(&l.raw);
            interpret(s) != want
        });
        before - self.lines.len()
    }
}

impl fmt::Display for MatchesFile {
    /// The file's bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn id(v: &str, d: Option<&str>) -> MatchLine {
        MatchLine::Id {
            vendor: v.into(),
            device: d.map(Into::into),
        }
    }

    #[test]
    fn reads_lines_like_libppt() {
        assert_eq!(interpret("pciex10de,a65"), id("10de", Some("a65")));
        assert_eq!(interpret("pci10de,15f0"), id("10de", Some("15f0")));
        assert_eq!(
            interpret("pci8086,1528.8086.1528"),
            id("8086", Some("1528"))
        );
        assert_eq!(interpret("pciex10de,15f0 # x"), id("10de", Some("15f0")));
        assert_eq!(interpret("pciex10de"), id("10de", None));
        assert_eq!(interpret("pcie11,ae10"), id("e11,", None));
        assert_eq!(interpret("pciclass,0300"), id("clas", None));
        assert_eq!(
            interpret("/pci@0,0/x@1"),
            MatchLine::Path("/pci@0,0/x@1".into())
        );
        assert_eq!(interpret("# comment"), MatchLine::Ignored);
        assert_eq!(interpret(" pci10de,a65"), MatchLine::Ignored);
        assert_eq!(interpret(""), MatchLine::Ignored);
    }

    #[test]
    fn covers_only_lowercase_unpadded() {
        let f = MatchesFile::parse("m", "pci10DE,0A65\npciex10de,0a65\n");
        assert!(!f.covers(0x10de, 0xa65));
        let f = MatchesFile::parse("m", "pci10de\n");
        assert!(f.covers(0x10de, 0xa65));
    }

    #[test]
    fn add_and_remove() {
        let mut f = MatchesFile::parse("m", "# gpus\npci10de,15f0");
        assert!(f.add_id(0x10de, 0xa65, true));
        assert!(!f.add_id(0x10de, 0xa65, false));
        assert_eq!(f.to_string(), "# gpus\npci10de,15f0\npciex10de,a65\n");
        assert_eq!(f.remove_id(0x10de, 0xa65), 1);
        assert_eq!(f.remove_id(0x10de, 0x15f0), 1);
        assert_eq!(f.to_string(), "# gpus\n");
    }
}
