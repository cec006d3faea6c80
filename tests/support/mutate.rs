//! Byte-level mutations of real samples, shared by the property tests of
//! pci-core, pci-illumos and ppt-config (each includes this file with
//! `#[path]`; each chooses its own weights and interesting bytes).

/// One edit of an input, as hand edits and bad copies damage files.
#[derive(Debug, Clone)]
#[allow(dead_code)] // each test crate builds the variants it needs
pub enum Mutation {
    /// Overwrite the byte at a position.
    Flip(usize, u8),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
    /// Delete up to n bytes from a position.
    Delete(usize, usize),
    /// Cut the input at a position.
    Truncate(usize),
    /// Repeat up to n bytes from a position right after them.
    Duplicate(usize, usize),
    /// Turn every `\n` into `\r\n`.
    Crlf,
    /// Overwrite an aligned 32-bit little-endian field (offsets, counts and
    /// lengths of a binary snapshot pointed somewhere else).
    Word(usize, u32),
}

/// Applies `muts` in order; positions wrap around the current length.
pub fn apply(bytes: &mut Vec<u8>, muts: &[Mutation]) {
    for m in muts {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(p, b) => {
                if !bytes.is_empty() {
                    bytes[p % len] = *b;
                }
            }
            Mutation::Insert(p, ins) => {
                let at = p % (bytes.len() + 1);
                bytes.splice(at..at, ins.iter().copied());
            }
            Mutation::Delete(p, n) => {
                let at = p % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Truncate(p) => bytes.truncate(p % len),
            Mutation::Duplicate(p, n) => {
                let at = p % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    let copy = bytes[at..end].to_vec();
                    bytes.splice(end..end, copy);
                }
            }
            Mutation::Crlf => {
                let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
                for &b in bytes.iter() {
                    if b == b'\n' {
                        out.push(b'\r');
                    }
                    out.push(b);
                }
                *bytes = out;
            }
            Mutation::Word(p, w) => {
                if bytes.len() >= 4 {
                    let at = (p % (bytes.len() - 3)) & !3;
                    bytes[at..at + 4].copy_from_slice(&w.to_le_bytes());
                }
            }
        }
    }
}
