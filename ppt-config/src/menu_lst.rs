//! Lossless editor for GRUB `menu.lst`.
//!
//! SmartOS's GRUB-era USB key boots entries of the form
//! `title ...` / `kernel$ /platform/i86pc/kernel/amd64/unix ...` /
//! `module /platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk`.
//! A file becomes a boot module (visible at `/system/boot/<name>`) with a
//! line `module /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases` in
//! the entry (John Levon's 2018 how-to: every `module` line needs its
//! `type`). This editor keeps every line and adds or removes only such
//! module lines, in the entries that boot a platform.

use std::fmt;

use crate::edit::{decode, file_terminator, split_lines, terminate_last, EditError, RawLine};

/// A GRUB menu entry (from a `title` line to the next).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    /// The title text.
    pub title: String,
    /// 1-based line number of the `title` line.
    pub line: usize,
    /// Whether the entry loads an illumos platform kernel
    /// (`kernel`/`kernel$` with a `/platform/.../unix` path).
    pub boots_platform: bool,
    /// Paths of the entry's `module`/`module$` lines, in order.
    pub modules: Vec<String>,
}

/// A `menu.lst` held line by line.
#[derive(Debug, Clone)]
pub struct MenuLst {
    file: String,
    lines: Vec<RawLine>,
}

/// GRUB command keyword and arguments of a line, if it is a command.
/// GRUB legacy separates the keyword by blanks or `=`.
pub(crate) fn command(content: &str) -> Option<(&str, Vec<&str>)> {
    let t = content.trim_start_matches([' ', '\t']);
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let end = t.find([' ', '\t', '=']).unwrap_or(t.len());
    let (kw, rest) = t.split_at(end);
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    Some((kw, rest.split_whitespace().collect()))
}

fn is_module(kw: &str) -> bool {
    kw == "module" || kw == "module$"
}

fn is_kernel(kw: &str) -> bool {
    kw == "kernel" || kw == "kernel$"
}

impl MenuLst {
    /// Parses file bytes; `file` is the host path used in messages.
    pub fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Self, EditError> {
        Ok(Self::parse(file, decode(file, bytes)?))
    }

    /// Parses text; GRUB ignores what it does not know, and so does this.
    pub fn parse(file: &str, text: &str) -> Self {
        MenuLst {
            file: file.to_string(),
            lines: split_lines(text),
        }
    }

    /// The host path given at parse time.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Line index ranges of the entries, with their titles.
    fn entry_ranges(&self) -> Vec<(usize, usize, String)> {
        let mut out: Vec<(usize, usize, String)> = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            if let Some(("title", _)) = command(l.content()) {
                if let Some(last) = out.last_mut() {
                    last.1 = i;
                }
                let t = l.content().trim_start_matches([' ', '\t']);
                let title = t["title".len()..]
                    .trim_start_matches(['=', ' ', '\t'])
                    .trim_end()
                    .to_string();
                out.push((i, self.lines.len(), title));
            }
        }
        out
    }

    /// The menu entries.
    pub fn entries(&self) -> Vec<MenuEntry> {
        self.entry_ranges()
            .into_iter()
            .map(|(start, end, title)| {
                let mut boots_platform = false;
                let mut modules = Vec::new();
                for l in &self.lines[start + 1..end] {
                    if let Some((kw, args)) = command(l.content()) {
                        if is_kernel(kw) {
                            boots_platform |= args
                                .first()
                                .is_some_and(|p| p.contains("/platform/") && p.ends_with("/unix"));
                        } else if is_module(kw) {
                            modules.extend(args.first().map(|s| s.to_string()));
                        }
                    }
                }
                MenuEntry {
                    title,
                    line: start + 1,
                    boots_platform,
                    modules,
                }
            })
            .collect()
    }

    /// Adds `module PATH type=file name=NAME` to every entry that boots a
    /// platform and does not load `PATH` yet, after its last `module` line
    /// (or its `kernel` line) with the same indentation. Returns how many
    /// entries changed; an error when no entry boots a platform.
    pub fn ensure_module(&mut self, path: &str, name: &str) -> Result<usize, EditError> {
        let ranges = self.entry_ranges();
        let entries = self.entries();
        if !entries.iter().any(|e| e.boots_platform) {
            return Err(EditError::File {
                file: self.file.clone(),
                message: "no menu entry boots a platform (`kernel$ /platform/.../unix`); \
                          cannot add the boot module"
                    .into(),
            });
        }
        let term = file_terminator(&self.lines);
        let mut inserts: Vec<(usize, RawLine)> = Vec::new();
        for ((start, end, _), e) in ranges.iter().zip(&entries) {
            if !e.boots_platform || e.modules.iter().any(|m| m == path) {
                continue;
            }
            let anchor = (start + 1..*end)
                .rev()
                .find(|&i| command(self.lines[i].content()).is_some_and(|(kw, _)| is_module(kw)))
                .or_else(|| {
                    (start + 1..*end).rev().find(|&i| {
                        command(self.lines[i].content()).is_some_and(|(kw, _)| is_kernel(kw))
                    })
                })
                .unwrap_or(*start);
            let c = self.lines[anchor].content();
            let indent = &c[..c.len() - c.trim_start_matches([' ', '\t']).len()];
            let indent = if anchor == *start && indent.is_empty() {
                "    "
            } else {
                indent
            };
            inserts.push((
                anchor + 1,
                RawLine::new(
                    &format!("{indent}module {path} type=file name={name}"),
                    term,
                ),
            ));
        }
        let changed = inserts.len();
        for (at, line) in inserts.into_iter().rev() {
            if self.lines[at - 1].terminator().is_empty() {
                terminate_last(&mut self.lines[..at], term);
            }
            self.lines.insert(at, line);
        }
        Ok(changed)
    }

    /// Removes every `module PATH ...` line inside menu entries. Returns how
    /// many lines went.
    pub fn remove_module(&mut self, path: &str) -> usize {
        let in_entry: Vec<bool> = {
            let mut v = vec![false; self.lines.len()];
            for (s, e, _) in self.entry_ranges() {
                for x in &mut v[s + 1..e] {
                    *x = true;
                }
            }
            v
        };
        let before = self.lines.len();
        let mut i = 0;
        self.lines.retain(|l| {
            let keep = !(in_entry[i]
                && command(l.content())
                    .is_some_and(|(kw, args)| is_module(kw) && args.first() == Some(&path)));
            i += 1;
            keep
        });
        before - self.lines.len()
    }
}

impl fmt::Display for MenuLst {
    /// The file's bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}
