//! `-x`, `-xxx`, `-xxxx`: config space in hex, laid out as lspci does.

use std::fmt::Write;

use pci_core::Function;

/// Appends the hex dump of `f`: 64 bytes (128 for a CardBus bridge), 256
/// with `-xxx` and 4096 with `-xxxx`, each only when the source has that
/// many bytes, 16 per line as `OO: xx xx ...`.
pub fn dump(out: &mut String, f: &Function, level: u8) {
    let len = f.config.len();
    if len < 64 {
        // lspci prints this when even the 64-byte header could not be read.
        out.push_str("WARNING: Cannot show hex-dump of the config space\n");
        return;
    }
    let cardbus = f.config[0x0e] & 0x7f == 2;
    let mut count = if cardbus && len >= 128 { 128 } else { 64 };
    if level >= 3 && len >= 256 {
        count = 256;
        if level >= 4 && len >= 4096 {
            count = 4096;
        }
    }
    for (row, chunk) in f.config[..count].chunks(16).enumerate() {
        let _ = write!(out, "{:02x}:", row * 16);
        for b in chunk {
            let _ = write!(out, " {b:02x}");
        }
        out.push('\n');
    }
}
