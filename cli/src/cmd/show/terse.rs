//! The one-line-per-function form (`lspci`, `lspci -n`, `lspci -nn`).

use std::fmt::Write;

use pci_core::Function;

use super::Naming;

/// The slot as lspci prints it: `BB:DD.F`, with `DDDD:` in front when
/// domains are shown.
pub fn slot(f: &Function, domains: bool) -> String {
    if domains {
        format!("{:04x}:{}", f.address.domain, f.address.short())
    } else {
        f.address.short()
    }
}

/// Appends `BB:DD.F CCCC: VVVV:DDDD (rev RR)` (or its named forms).
pub fn line(out: &mut String, f: &Function, domains: bool, naming: Naming) {
    let class = f.ids.class >> 8;
    let _ = write!(out, "{} ", slot(f, domains));
    match naming {
        Naming::Numeric | Naming::Names | Naming::Both => {
            let _ = write!(
                out,
                "{class:04x}: {:04x}:{:04x}",
                f.ids.vendor, f.ids.device
            );
        }
    }
    if f.ids.revision != 0 {
        let _ = write!(out, " (rev {:02x})", f.ids.revision);
    }
    out.push('\n');
}

/// Appends the `-v` details of `f`.
pub fn details(out: &mut String, f: &Function, _level: u8) {
    if let (Some(sv), Some(sd)) = (f.ids.subsystem_vendor, f.ids.subsystem) {
        if sv != 0 && sv != 0xffff {
            let _ = writeln!(out, "\tSubsystem: {sv:04x}:{sd:04x}");
        }
    }
    if let Some(d) = &f.driver {
        let _ = writeln!(out, "\tKernel driver in use: {d}");
    }
}
