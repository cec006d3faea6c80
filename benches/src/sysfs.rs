//! Writes a generated host as a Linux sysfs tree, the layout both the
//! kernel (drivers/pci/pci-sysfs.c, drivers/pci/probe.c) and
//! `lspci -A linux-sysfs -O sysfs.path=DIR/bus/pci` use:
//!
//! * `DIR/devices/pciDDDD:00/DDDD:BB:DD.F/…`, nested under each bridge;
//! * `DIR/bus/pci/devices/DDDD:BB:DD.F` → `../../../devices/…` symlinks;
//! * per function: `config`, `vendor`, `device`, `class`, `revision`,
//!   `subsystem_vendor`, `subsystem_device`, `irq`, `resource`, and the
//!   `driver` and `iommu_group` links a real tree has.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::error::GenError;
use crate::topology::{GenFunction, GenHost};

/// The sysfs directory (below `devices/`) of every function, by index.
pub fn device_dirs(host: &GenHost) -> Vec<String> {
    let mut dirs: Vec<String> = Vec::with_capacity(host.functions.len());
    for f in &host.functions {
        let dir = match f.parent {
            // Parents sort before children (smaller bus), so they are set.
            Some(p) if p < dirs.len() => format!("{}/{}", dirs[p], f.address),
            _ => format!("pci{:04x}:00/{}", f.address.domain, f.address),
        };
        dirs.push(dir);
    }
    dirs
}

/// The Linux driver a function of this class would typically bind, so the
/// tree has `driver` links like a real one (some functions stay unbound).
pub fn linux_driver(f: &GenFunction, index: usize) -> Option<&'static str> {
    if f.is_bridge() {
        return Some("pcieport");
    }
    if index % 7 == 3 {
        return None;
    }
    Some(match f.class() >> 8 {
        0x0106 => "ahci",
        0x0108 => "nvme",
        0x0200 => "e1000e",
        0x0300 | 0x0302 => "vfio-pci",
        0x0403 => "snd_hda_intel",
        0x0c03 => "xhci_hcd",
        0x0c05 => "i801_smbus",
        0x0600 => return None,
        _ => "vfio-pci",
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), GenError> {
    fs::write(path, bytes).map_err(|e| GenError::io(path, e))
}

fn link(target: &str, at: &Path) -> Result<(), GenError> {
    symlink(target, at).map_err(|e| GenError::io(at, e))
}

/// BAR sizes (0..6) the tree's `resource` file reports, derived from each
/// BAR's address alignment (a BAR is naturally aligned to its size, PCI 3.0
/// §6.2.5.1), capped so the numbers stay plausible.
pub fn bar_sizes(f: &GenFunction) -> [Option<u64>; 6] {
    let mut out = [None; 6];
    let count = match f.header_type() {
        0 => 6,
        1 => 2,
        _ => 0,
    };
    let c = &f.config;
    let dword = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
    let mut i = 0;
    while i < count {
        let v = dword(0x10 + 4 * i);
        if v & 1 == 1 {
            let addr = u64::from(v & !3);
            if addr != 0 {
                out[i] = Some(lowest_bit(addr).clamp(4, 256));
            }
            i += 1;
        } else {
            let is64 = (v >> 1) & 3 == 2 && i + 1 < count;
            let mut addr = u64::from(v & !0xf);
            if is64 {
                addr |= u64::from(dword(0x14 + 4 * i)) << 32;
            }
            if addr != 0 {
                out[i] = Some(lowest_bit(addr).clamp(4096, 1 << 30));
            }
            i += if is64 { 2 } else { 1 };
        }
    }
    out
}

fn lowest_bit(v: u64) -> u64 {
    1u64 << v.trailing_zeros()
}

/// The text of a `resource` file: one `0x%016x 0x%016x 0x%016x` line per
/// resource (start, end, flags); 7 lines for endpoints (6 BARs and the
/// ROM), 11 for bridges (plus the 4 window resources), as a kernel without
/// SR-IOV writes it.
pub fn resource_text(f: &GenFunction) -> String {
    // IORESOURCE_* flags from include/linux/ioport.h.
    const IO: u64 = 0x100;
    const MEM: u64 = 0x200;
    const PREFETCH: u64 = 0x2000;
    const MEM_64: u64 = 0x10_0000;
    let sizes = bar_sizes(f);
    let c = &f.config;
    let lines = if f.is_bridge() { 11 } else { 7 };
    let mut s = String::with_capacity(lines * 57);
    for (i, size) in sizes.iter().enumerate() {
        let (start, flags) = match size {
            Some(_) => {
                let off = 0x10 + 4 * i;
                let v = u32::from_le_bytes([c[off], c[off + 1], c[off + 2], c[off + 3]]);
                if v & 1 == 1 {
                    (u64::from(v & !3), IO)
                } else {
                    let mut start = u64::from(v & !0xf);
                    let mut flags = MEM;
                    if (v >> 1) & 3 == 2 && off + 8 <= 0x28 {
                        let hi =
                            u32::from_le_bytes([c[off + 4], c[off + 5], c[off + 6], c[off + 7]]);
                        start |= u64::from(hi) << 32;
                        flags |= MEM_64;
                    }
                    if v & 8 != 0 {
                        flags |= PREFETCH;
                    }
                    (start, flags)
                }
            }
            None => (0, 0),
        };
        if let (Some(size), true) = (size, flags != 0) {
            s.push_str(&format!(
                "0x{:016x} 0x{:016x} 0x{:016x}\n",
                start,
                start + size - 1,
                flags
            ));
        } else if i < 6 {
            s.push_str("0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
        }
    }
    for _ in 6..lines {
        s.push_str("0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    }
    s
}

/// Writes the tree under `dir` (which must not exist or be empty); returns
/// the path to give `--from sysfs:` (`dir` itself).
pub fn write_sysfs(host: &GenHost, dir: &Path) -> Result<PathBuf, GenError> {
    let devices = dir.join("devices");
    let bus_devices = dir.join("bus/pci/devices");
    let drivers = dir.join("bus/pci/drivers");
    let groups = dir.join("kernel/iommu_groups");
    for d in [&devices, &bus_devices, &drivers, &groups] {
        fs::create_dir_all(d).map_err(|e| GenError::io(d, e))?;
    }
    for name in [
        "ahci",
        "nvme",
        "e1000e",
        "vfio-pci",
        "snd_hda_intel",
        "xhci_hcd",
        "i801_smbus",
        "pcieport",
    ] {
        let d = drivers.join(name);
        fs::create_dir_all(&d).map_err(|e| GenError::io(&d, e))?;
    }
    let dirs = device_dirs(host);
    let mut group = 0u32;
    for (i, (f, rel)) in host.functions.iter().zip(&dirs).enumerate() {
        let d = devices.join(rel);
        fs::create_dir_all(&d).map_err(|e| GenError::io(&d, e))?;
        let (ssv, ssd) = f.subsystem();
        write(&d.join("config"), &f.config)?;
        write(
            &d.join("vendor"),
            format!("0x{:04x}\n", f.vendor()).as_bytes(),
        )?;
        write(
            &d.join("device"),
            format!("0x{:04x}\n", f.device()).as_bytes(),
        )?;
        write(
            &d.join("class"),
            format!("0x{:06x}\n", f.class()).as_bytes(),
        )?;
        write(
            &d.join("revision"),
            format!("0x{:02x}\n", f.revision()).as_bytes(),
        )?;
        write(
            &d.join("subsystem_vendor"),
            format!("0x{ssv:04x}\n").as_bytes(),
        )?;
        write(
            &d.join("subsystem_device"),
            format!("0x{ssd:04x}\n").as_bytes(),
        )?;
        write(&d.join("irq"), format!("{}\n", f.config[0x3c]).as_bytes())?;
        write(&d.join("resource"), resource_text(f).as_bytes())?;
        // Relative links, as the kernel makes them: from
        // devices/<depth dirs>/X to the top of the tree.
        let up = "../".repeat(rel.matches('/').count() + 1);
        if let Some(drv) = linux_driver(f, i) {
            link(&format!("{up}bus/pci/drivers/{drv}"), &d.join("driver"))?;
        }
        // All functions of a device share a group (no ACS between them).
        if f.address.function == 0 {
            group += 1;
        }
        let g = groups.join(group.to_string()).join("devices");
        fs::create_dir_all(&g).map_err(|e| GenError::io(&g, e))?;
        link(
            &format!("{up}kernel/iommu_groups/{group}"),
            &d.join("iommu_group"),
        )?;
        link(
            &format!("../../../../devices/{rel}"),
            &g.join(f.address.to_string()),
        )?;
        link(
            &format!("../../../devices/{rel}"),
            &bus_devices.join(f.address.to_string()),
        )?;
    }
    Ok(dir.to_path_buf())
}
