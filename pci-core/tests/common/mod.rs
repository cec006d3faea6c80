//! Test-only helpers shared by the corpus tests: a tiny reader for the
//! hex part of `lspci -x…` dumps (the real dump source is
//! `pci_core::sources`, owned elsewhere; this one mirrors exactly what the
//! `_generated_lspci-3.9.0` hex-only copies kept).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

/// `../shared/realdata` relative to the workspace.
pub fn realdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ))
}

/// Writes the hex-only copy lspci 3.9.0 can read: device header lines
/// (cut to 200 characters) and well-formed hex lines.
pub fn hex_only_copy(text: &str) -> String {
    let mut out = String::new();
    for raw in text.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if parse_slot(line).is_some() {
            let cut: String = line.chars().take(200).collect();
            out.push_str(&cut);
            out.push('\n');
        } else if hex_line(line).is_some() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `OFF: xx xx ...` with a 2..=8 digit offset and only hex pairs.
pub fn hex_line(line: &str) -> Option<(usize, Vec<u8>)> {
    let (off, rest) = line.split_once(": ")?;
    if !(2..=8).contains(&off.len()) || !off.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let at = usize::from_str_radix(off, 16).ok()?;
    let vals: Option<Vec<u8>> = rest
        .split(' ')
        .map(|t| {
            (t.len() == 2)
                .then(|| u8::from_str_radix(t, 16).ok())
                .flatten()
        })
        .collect();
    Some((at, vals?))
}

pub type Slot = (u32, u8, u8, u8);

/// `[DDDD:]BB:DD.F` at the start of `line`, followed by a space.
pub fn parse_slot(line: &str) -> Option<Slot> {
    let head = line.split(' ').next()?;
    if line.len() == head.len() {
        return None;
    }
    let parts: Vec<&str> = head.split(':').collect();
    let (dom, bus, df) = match parts.as_slice() {
        [b, df] if b.len() == 2 => ("0", *b, *df),
        [d, b, df] if (4..=5).contains(&d.len()) && b.len() == 2 => (*d, *b, *df),
        _ => return None,
    };
    let (dev, func) = df.split_once('.')?;
    if dev.len() != 2 || func.len() != 1 {
        return None;
    }
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    if !(hex(dom) && hex(bus) && hex(dev) && func.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((
        u32::from_str_radix(dom, 16).ok()?,
        u8::from_str_radix(bus, 16).ok()?,
        u8::from_str_radix(dev, 16).ok()?,
        func.parse().ok()?,
    ))
}

/// Functions of a dump file in file order: slot and config bytes (length
/// = highest byte seen + 1, as pciutils' dump reader counts it).
pub fn extract_dumps(text: &str) -> Vec<(Slot, Vec<u8>)> {
    let mut out: Vec<(Slot, Vec<u8>)> = Vec::new();
    let mut current: Option<usize> = None;
    for raw in text.lines() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(slot) = parse_slot(line) {
            out.push((slot, Vec::new()));
            current = Some(out.len() - 1);
            continue;
        }
        let Some(cur) = current else { continue };
        // A line that is not entirely hex pairs (e.g. a kernel message
        // spliced into it) is dropped whole, as the hex-only copy did;
        // lspci itself would reject the file as "Malformed line".
        let Some((mut at, vals)) = hex_line(line) else {
            continue;
        };
        let bytes = &mut out[cur].1;
        for v in vals {
            if at >= 4096 {
                break;
            }
            if bytes.len() <= at {
                bytes.resize(at + 1, 0);
            }
            bytes[at] = v;
            at += 1;
        }
    }
    out
}
