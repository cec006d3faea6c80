//! The one-line-per-function form (`lspci`, `lspci -n`, `lspci -nn`).

use std::fmt::Write;

use pci_core::names::PciNames;
use pci_core::Function;

use super::{names, Naming};

/// The slot as lspci prints it: `BB:DD.F`, with `DDDD:` in front when
/// domains are shown.
pub fn slot(f: &Function, domains: bool) -> String {
    if domains {
        format!("{:04x}:{}", f.address.domain, f.address.short())
    } else {
        f.address.short()
    }
}

/// Appends `BB:DD.F CCCC: VVVV:DDDD (rev RR)` (or its named forms); with
/// `-v` also ` (prog-if PP [name])` as lspci does.
pub fn line(
    out: &mut String,
    f: &Function,
    domains: bool,
    naming: Naming,
    names: Option<&PciNames>,
    verbose: bool,
) {
    let class = (f.ids.class >> 8) as u16;
    let _ = write!(out, "{} ", slot(f, domains));
    match names {
        Some(n) if naming != Naming::Numeric => {
            let _ = write!(
                out,
                "{}: {}",
                names::class(n, class, naming),
                names::vendor_device(n, f.ids.vendor, f.ids.device, naming)
            );
        }
        _ => {
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
    if verbose {
        let prog_if = (f.ids.class & 0xff) as u8;
        let name = names.and_then(|n| n.prog_if((class >> 8) as u8, class as u8, prog_if));
        match name {
            Some(name) => {
                let _ = write!(out, " (prog-if {prog_if:02x} [{name}])");
            }
            None if prog_if != 0 => {
                let _ = write!(out, " (prog-if {prog_if:02x})");
            }
            None => {}
        }
    }
    out.push('\n');
}
