//! Real config spaces to build synthetic hosts from, extracted from the
//! `lspci -x/-xxx/-xxxx` dumps in `shared/realdata`.
//!
//! The extractor only understands what it needs: a line starting with a slot
//! (`BB:DD.F` or `DDDD:BB:DD.F`) opens a function, `NN: xx xx …` lines (16
//! bytes each, offsets contiguous from 0) fill it. Everything else (`-v`
//! decode lines, shell prompts, other logs) is skipped. Functions whose
//! bytes are not exactly 64, 256 or 4096 long are dropped.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::GenError;

/// One real function's config space, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Raw config bytes: 64, 256 or 4096 of them.
    pub config: Vec<u8>,
    /// The file it came from (relative to the real-data root), for messages.
    pub origin: String,
}

impl Template {
    /// Header type without the multifunction bit (0x0e, PCI 3.0 §6.2.1).
    pub fn header_type(&self) -> u8 {
        self.config[0x0e] & 0x7f
    }

    /// 24-bit class code (0x09..=0x0b).
    pub fn class(&self) -> u32 {
        u32::from(self.config[0x0b]) << 16
            | u32::from(self.config[0x0a]) << 8
            | u32::from(self.config[0x09])
    }
}

/// The templates, split by the role they can play in a topology.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    /// Header type 0 functions (endpoints, host bridges, ...).
    pub endpoints: Vec<Template>,
    /// Header type 1 PCI-to-PCI bridges (root ports, switch ports).
    pub bridges: Vec<Template>,
    /// Endpoints with class 0x0600 (host bridges), used for device 0 of root buses.
    pub host_bridges: Vec<Template>,
}

impl Pool {
    /// Every template (any role), in extraction order.
    pub fn all(&self) -> impl Iterator<Item = &Template> {
        self.endpoints.iter().chain(self.bridges.iter())
    }

    /// Reads every dump under `root` (recursively; `_generated*` folders
    /// and binary files are skipped).
    pub fn from_realdata(root: &Path) -> Result<Pool, GenError> {
        let mut files = Vec::new();
        collect_files(root, &mut files)?;
        files.sort();
        let mut seen = HashSet::new();
        let mut pool = Pool::default();
        for file in files {
            let Ok(bytes) = fs::read(&file) else { continue };
            let Ok(text) = String::from_utf8(bytes) else {
                continue; // binary (the devinfo snapshot), not a dump
            };
            let origin = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string();
            for config in extract(&text) {
                if !seen.insert(config.clone()) {
                    continue;
                }
                pool.add(Template {
                    config,
                    origin: origin.clone(),
                });
            }
        }
        if pool.endpoints.is_empty() || pool.bridges.is_empty() {
            return Err(GenError::NoTemplates(root.to_path_buf()));
        }
        Ok(pool)
    }

    /// Sorts one template into its role; other header types (CardBus) and
    /// absent functions (vendor 0xffff/0) are dropped.
    pub fn add(&mut self, t: Template) {
        let vendor = u16::from_le_bytes([t.config[0], t.config[1]]);
        if vendor == 0xffff || vendor == 0 {
            return;
        }
        match t.header_type() {
            0 => {
                if t.class() >> 8 == 0x0600 {
                    self.host_bridges.push(t.clone());
                }
                self.endpoints.push(t);
            }
            1 => self.bridges.push(t),
            _ => {}
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), GenError> {
    let entries = fs::read_dir(dir).map_err(|e| GenError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| GenError::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("_generated") {
            continue;
        }
        let ft = entry.file_type().map_err(|e| GenError::io(&path, e))?;
        if ft.is_dir() {
            collect_files(&path, out)?;
        } else if ft.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Config spaces found in dump text, in file order.
pub fn extract(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut broken = false;
    let finish = |cur: Option<Vec<u8>>, broken: bool, out: &mut Vec<Vec<u8>>| {
        if let Some(c) = cur {
            if !broken && matches!(c.len(), 64 | 256 | 4096) {
                out.push(c);
            }
        }
    };
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if is_slot_line(line) {
            finish(cur.take(), broken, &mut out);
            cur = Some(Vec::new());
            broken = false;
            continue;
        }
        let Some(c) = cur.as_mut() else { continue };
        if let Some((offset, bytes)) = hex_line(line) {
            if offset != c.len() {
                broken = true;
            } else {
                c.extend_from_slice(&bytes);
            }
        }
    }
    finish(cur, broken, &mut out);
    out
}

/// `BB:DD.F ` or `DDDD:BB:DD.F ` at the start of a line.
fn is_slot_line(line: &str) -> bool {
    let b = line.as_bytes();
    let hex = |s: &[u8]| s.iter().all(u8::is_ascii_hexdigit);
    let short = |s: &[u8]| {
        s.len() >= 8
            && hex(&s[0..2])
            && s[2] == b':'
            && hex(&s[3..5])
            && s[5] == b'.'
            && (b'0'..=b'7').contains(&s[6])
            && s[7] == b' '
    };
    short(b) || (b.len() >= 13 && hex(&b[0..4]) && b[4] == b':' && short(&b[5..]))
}

/// `NN: xx xx … (16 bytes)`, offsets of 2 or 3 hex digits.
fn hex_line(line: &str) -> Option<(usize, [u8; 16])> {
    let (off, rest) = line.split_once(": ")?;
    if !(2..=3).contains(&off.len()) || !off.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let offset = usize::from_str_radix(off, 16).ok()?;
    let mut bytes = [0u8; 16];
    let mut n = 0;
    for tok in rest.split_ascii_whitespace() {
        if n == 16 || tok.len() != 2 {
            return None;
        }
        bytes[n] = u8::from_str_radix(tok, 16).ok()?;
        n += 1;
    }
    (n == 16).then_some((offset, bytes))
}

/// The real-data directory as seen from this crate (`../shared/realdata`
/// from the project root).
pub fn default_realdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_contiguous_dumps_only() {
        let mut text = String::from("00:00.0 Host bridge: x\n\tFlags: y\n");
        for i in 0..4 {
            text.push_str(&format!(
                "{:02x}: 86 80 04 01 00 00 00 00 00 00 00 06 00 00 00 00\n",
                i * 16
            ));
        }
        text.push_str(
            "\n0001:02:03.1 Bad: gap\n00: 86 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n",
        );
        text.push_str("20: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n");
        let got = extract(&text);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), 64);
        assert_eq!(&got[0][..4], &[0x86, 0x80, 0x04, 0x01]);
    }

    #[test]
    fn realdata_pool_has_all_roles() {
        let root = default_realdata();
        if !root.is_dir() {
            eprintln!("skipping: {} absent", root.display());
            return;
        }
        let pool = Pool::from_realdata(&root).unwrap();
        assert!(pool.bridges.len() > 10);
        assert!(pool.endpoints.len() > 100);
        assert!(!pool.host_bridges.is_empty());
        for len in [64, 256, 4096] {
            assert!(pool.all().any(|t| t.config.len() == len), "{len}");
        }
    }
}
