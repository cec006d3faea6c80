//! `-v`, `-vv`, `-vvv`: a readable decode in lspci's shape. It does not copy
//! lspci's wording; it shows every fact README.md lists: identity,
//! header type, BARs with sizes, both capability chains with offsets, PCIe
//! port type, FLR and link, MSI, MSI-X, SR-IOV, ACS, plus what the OS adds
//! (driver, IOMMU group, SR-IOV links, illumos path).

use std::fmt::Write;

use pci_core::caps::{self, CapError, PciePortType};
use pci_core::config::{BarKind, ConfigSpace, HeaderType};
use pci_core::names::PciNames;
use pci_core::text::Escaped;
use pci_core::{Function, PathSource};

use super::{names, Naming};

/// Appends the details of `f` at verbosity `level` (1..=3).
pub fn details(out: &mut String, f: &Function, level: u8, naming: Naming, pci: Option<&PciNames>) {
    let cfg = f.config_space();
    if let (Some(sv), Some(sd)) = (f.ids.subsystem_vendor, f.ids.subsystem) {
        if sv != 0 && sv != 0xffff {
            let name = match pci {
                Some(n) => names::subsystem(n, (f.ids.vendor, f.ids.device), (sv, sd), naming),
                None => format!("{sv:04x}:{sd:04x}"),
            };
            let _ = writeln!(out, "\tSubsystem: {name}");
        }
    }
    if cfg.len() < 64 {
        let _ = writeln!(
            out,
            "\tConfig space: {} bytes only; header, BARs and capabilities unknown",
            cfg.len()
        );
    } else {
        header(out, f, level);
        bars(out, f);
        capabilities(out, f, level);
    }
    if let Some(pf) = f.physfn {
        let _ = writeln!(out, "\tSR-IOV physical function: {pf}");
    }
    if !f.virtfns.is_empty() {
        let vfs: Vec<String> = f.virtfns.iter().map(|a| a.to_string()).collect();
        let _ = writeln!(out, "\tSR-IOV virtual functions: {}", vfs.join(" "));
    }
    if f.boot_vga == Some(true) {
        let _ = writeln!(out, "\tBoot VGA device");
    }
    if let Some(g) = f.iommu_group {
        let _ = writeln!(out, "\tIOMMU group: {g}");
    }
    if let Some(node) = &f.illumos {
        let how = node.path_source.map_or("unknown", PathSource::as_str);
        let _ = writeln!(out, "\tillumos path: {} ({how})", Escaped(&node.path));
    }
    if let Some(d) = &f.driver {
        let _ = writeln!(out, "\tKernel driver in use: {}", Escaped(d));
    }
}

fn header(out: &mut String, f: &Function, level: u8) {
    let cfg = f.config_space();
    let (Some(ht), Some(mf)) = (cfg.header_type(), cfg.multifunction()) else {
        return;
    };
    let kind = match ht {
        HeaderType::Normal => "normal",
        HeaderType::Bridge => "PCI-to-PCI bridge",
        HeaderType::Cardbus => "CardBus bridge",
        HeaderType::Unknown(_) => "unknown",
    };
    let _ = writeln!(
        out,
        "\tHeader type {} ({kind}), multifunction: {}",
        ht.number(),
        if mf { "yes" } else { "no" }
    );
    if let Some(b) = cfg.bridge() {
        let _ = writeln!(
            out,
            "\tBus: primary={:02x}, secondary={:02x}, subordinate={:02x}",
            b.primary_bus, b.secondary_bus, b.subordinate_bus
        );
    }
    if level >= 3 {
        if let (Some(cmd), Some(st)) = (cfg.read_u16(4), cfg.read_u16(6)) {
            let _ = writeln!(out, "\tCommand: {cmd:04x}, Status: {st:04x}");
        }
    }
}

/// `4096` → `4K`, as lspci prints sizes.
fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["", "K", "M", "G", "T"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024 && v.is_multiple_of(1024) && u < UNITS.len() - 1 {
        v /= 1024;
        u += 1;
    }
    format!("{v}{}", UNITS[u])
}

/// ` [size=4K]` after a BAR or ROM whose size is known, nothing otherwise.
fn size_suffix(n: Option<u64>) -> String {
    n.map(|s| format!(" [size={}]", size(s)))
        .unwrap_or_default()
}

fn bars(out: &mut String, f: &Function) {
    for bar in f.bars() {
        match bar {
            Ok(b) => {
                let what = match b.kind {
                    BarKind::Io => format!("I/O ports at {:x}", b.address),
                    BarKind::Mem32 | BarKind::Mem64 => format!(
                        "Memory at {:x} ({}-bit, {}prefetchable)",
                        b.address,
                        if b.kind == BarKind::Mem64 { 64 } else { 32 },
                        if b.prefetchable { "" } else { "non-" }
                    ),
                };
                let _ = writeln!(out, "\tRegion {}: {what}{}", b.index, size_suffix(b.size));
            }
            Err(e) => {
                let _ = writeln!(out, "\tRegion: {e}");
            }
        }
    }
    if let Some(rom) = f.config_space().expansion_rom(f.rom_size) {
        if rom.raw != 0 || rom.size.is_some() {
            let _ = writeln!(
                out,
                "\tExpansion ROM at {:08x} [{}]{}",
                rom.address,
                if rom.enabled { "enabled" } else { "disabled" },
                size_suffix(rom.size)
            );
        }
    }
}

/// The title `lspci -v` prints for a capability (pci-core's table), or
/// its number.
fn cap_title(id: u8) -> String {
    caps::cap_title(id).map_or_else(|| format!("Capability ID {id:#04x}"), str::to_string)
}

/// The title of an extended capability, as [`cap_title`].
fn ext_title(id: u16) -> String {
    caps::ext_cap_title(id)
        .map_or_else(|| format!("Extended Capability ID {id:#x}"), str::to_string)
}

fn plus(b: bool) -> char {
    if b {
        '+'
    } else {
        '-'
    }
}

/// Walks one capability chain: a line per capability (`line` writes it
/// without its newline), and where the chain breaks one `<error>` line and
/// nothing after it — a broken chain cannot be followed further.
fn chain<C>(
    out: &mut String,
    caps: impl Iterator<Item = Result<C, CapError>>,
    mut line: impl FnMut(&mut String, C),
) {
    for cap in caps {
        match cap {
            Ok(c) => {
                line(out, c);
                out.push('\n');
            }
            Err(e) => {
                let _ = writeln!(out, "\tCapabilities: [{:x}] <{e}>", e.offset());
                break;
            }
        }
    }
}

fn capabilities(out: &mut String, f: &Function, level: u8) {
    let cfg = f.config_space();
    chain(out, cfg.capabilities(), |out, cap| {
        let _ = write!(
            out,
            "\tCapabilities: [{:02x}] {}",
            cap.offset,
            cap_title(cap.id)
        );
        match cap.id {
            0x01 => power_management(out, &cfg),
            0x05 => msi(out, &cfg),
            0x11 => msix(out, &cfg, level),
            0x10 => express(out, &cfg),
            _ => {}
        }
    });
    if !cfg.has_extended_space() {
        return;
    }
    chain(out, cfg.extended_capabilities(), |out, cap| {
        let _ = write!(
            out,
            "\tCapabilities: [{:03x} v{}] {}",
            cap.offset,
            cap.version,
            ext_title(cap.id)
        );
        match cap.id {
            0x0010 => sriov(out, &cfg),
            0x000d => acs(out, &cfg),
            _ => {}
        }
    });
}

fn power_management(out: &mut String, cfg: &ConfigSpace<'_>) {
    if let Some(pm) = cfg.power_management() {
        let _ = write!(
            out,
            " version {}: D1{} D2{} NoSoftRst{} state {}",
            pm.version,
            plus(pm.d1()),
            plus(pm.d2()),
            plus(pm.no_soft_reset),
            pm.state.as_str()
        );
    }
}

fn msi(out: &mut String, cfg: &ConfigSpace<'_>) {
    if let Some(msi) = cfg.msi() {
        let _ = write!(
            out,
            ": Enable{} Count={}/{} Maskable{} 64bit{}",
            plus(msi.enabled()),
            msi.vectors_enabled,
            msi.vectors_capable,
            plus(msi.maskable()),
            plus(msi.is_64bit())
        );
    }
}

fn msix(out: &mut String, cfg: &ConfigSpace<'_>, level: u8) {
    if let Some(x) = cfg.msix() {
        let _ = write!(
            out,
            ": Enable{} Count={} Masked{}",
            plus(x.enabled()),
            x.table_size,
            plus(x.masked())
        );
        if level >= 2 {
            let _ = write!(
                out,
                "\n\t\tVector table: BAR={} offset={:08x}\n\t\tPBA: BAR={} offset={:08x}",
                x.table_bir, x.table_offset, x.pba_bir, x.pba_offset
            );
        }
    }
}

fn express(out: &mut String, cfg: &ConfigSpace<'_>) {
    if let Some(e) = cfg.pci_express() {
        let _ = write!(
            out,
            " (v{}) {}, FLReset{}",
            e.version,
            port_type(e.port_type),
            plus(e.flr())
        );
        if let Some(slot) = e.slot_number {
            let _ = write!(out, ", slot {slot}");
        }
        if let Some(l) = e.link {
            let _ = write!(
                out,
                "\n\t\tLnkCap: Port #{}, Speed {}, Width x{}\n\t\tLnkSta: Speed {}, Width x{}",
                l.port,
                l.cap_speed_name(),
                l.cap_width,
                l.speed_name(),
                l.width
            );
        }
    }
}

fn sriov(out: &mut String, cfg: &ConfigSpace<'_>) {
    if let Some(s) = cfg.sriov() {
        let _ = write!(
            out,
            "\n\t\tTotal VFs: {}, Number of VFs: {}, VF offset: {}, stride: {}, VF device ID: {:04x}",
            s.total_vfs, s.num_vfs, s.vf_offset, s.vf_stride, s.vf_device
        );
    }
}

fn acs(out: &mut String, cfg: &ConfigSpace<'_>) {
    if let Some(a) = cfg.acs() {
        let _ = write!(
            out,
            "\n\t\tACSCap: {}\n\t\tACSCtl: {}",
            a.capability.names().join(" "),
            a.control.names().join(" ")
        );
    }
}

fn port_type(t: PciePortType) -> String {
    match t {
        PciePortType::Endpoint => "Endpoint".into(),
        PciePortType::LegacyEndpoint => "Legacy Endpoint".into(),
        PciePortType::RootPort => "Root Port".into(),
        PciePortType::UpstreamPort => "Upstream Port".into(),
        PciePortType::DownstreamPort => "Downstream Port".into(),
        PciePortType::PcieToPciBridge => "PCI-Express to PCI/PCI-X Bridge".into(),
        PciePortType::PciToPcieBridge => "PCI/PCI-X to PCI-Express Bridge".into(),
        PciePortType::RcIntegratedEndpoint => "Root Complex Integrated Endpoint".into(),
        PciePortType::RcEventCollector => "Root Complex Event Collector".into(),
        PciePortType::Unknown(n) => format!("Unknown type {n}"),
    }
}
