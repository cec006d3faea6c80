//! Writes a generated host as `lspci -n -xxxx` text: one header line per
//! function (`[DDDD:]BB:DD.F CCCC: VVVV:DDDD[ (rev RR)]`), its config space
//! as `NN: xx …` lines of 16 bytes, and a blank line.

use std::fmt::Write as _;

use crate::topology::GenHost;

/// The dump text. Domains are written when any function is outside domain
/// 0, as lspci does.
pub fn dump_text(host: &GenHost) -> String {
    let with_domain = host.functions.iter().any(|f| f.address.domain != 0);
    let mut s = String::with_capacity(host.functions.len() * 13_000);
    for f in &host.functions {
        if with_domain {
            let _ = write!(s, "{}", f.address);
        } else {
            s.push_str(&f.address.short());
        }
        let _ = write!(
            s,
            " {:04x}: {:04x}:{:04x}",
            f.class() >> 8,
            f.vendor(),
            f.device()
        );
        if f.revision() != 0 {
            let _ = write!(s, " (rev {:02x})", f.revision());
        }
        s.push('\n');
        for (row, chunk) in f.config.chunks(16).enumerate() {
            let _ = write!(s, "{:02x}:", row * 16);
            for b in chunk {
                let _ = write!(s, " {b:02x}");
            }
            s.push('\n');
        }
        s.push('\n');
    }
    s
}
