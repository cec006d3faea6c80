//! Live illumos readers: the devinfo driver's snapshot and config space
//! through `/dev/pptN` (`PPT_CFG_READ`) or the PCI nexus `reg` minor
//! (pcitool, privileged).
//!
//! The system calls are compiled on every Unix, so CI type-checks them on
//! Linux, and called only on illumos; they could not be run where this
//! crate is developed and are kept thin on purpose. Each goes through a
//! typed [`crate::ioctl::Request`], whose codes and argument layouts the
//! `ioctl` tests check. Everything they feed is portable and tested: the
//! snapshot bytes go to [`crate::devinfo::Snapshot::parse`] (the same
//! reader as the cache file, tested on a real OmniOS cache and hand-built
//! buffers, including the page-padded copy-out), and config reads go
//! through [`read_config`], tested here with a fake device.

use pci_core::Host;

use crate::root::HostRoot;

/// Why the live host could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Not running on illumos.
    #[error(
        "the live illumos source needs illumos; use --from devinfo:FILE or snapshot:FILE here"
    )]
    NotIllumos,
    /// A system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done (names the device node).
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A device node that permissions keep closed (the message says what
    /// to do).
    #[error(transparent)]
    Denied(#[from] crate::root::ReadError),
    /// The snapshot the kernel returned did not parse.
    #[error("live devinfo snapshot: {0}")]
    Snapshot(#[from] crate::devinfo::DevinfoError),
}

/// Reads a function's config space one aligned dword at a time with the
/// lengths pcieadm saves (docs/illumos.md): 64 bytes without
/// a capability list or for header types other than 0 and 1, 256 with
/// capabilities but no PCIe capability, 4096 with one. `read` returns
/// `None` for a dword that cannot be read; reading stops there.
pub fn read_config(mut read: impl FnMut(u16) -> Option<u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let mut fill = |out: &mut Vec<u8>, end: u16| {
        let mut off = out.len() as u16;
        while off < end {
            match read(off) {
                Some(v) => out.extend_from_slice(&v.to_le_bytes()),
                None => return false,
            }
            off += 4;
        }
        true
    };
    if !fill(&mut out, 64) {
        return out;
    }
    let has_caps = out[6] & 0x10 != 0;
    let ht = out[0x0e] & 0x7f;
    if !has_caps || ht > 1 {
        return out;
    }
    if !fill(&mut out, 256) {
        out.truncate(64);
        return out;
    }
    if crate::naming::pcie_cap(&out) == crate::naming::PcieCap::None {
        return out;
    }
    if !fill(&mut out, 4096) {
        out.truncate(256);
    }
    out
}

/// Reads the live host: the devinfo snapshot, `/dev/ppt*` under `root`,
/// config space through ppt or pcitool where permitted (others keep an
/// empty config, with a warning).
#[cfg(not(target_os = "illumos"))]
pub fn load_host(_root: &HostRoot) -> Result<Host, LiveError> {
    Err(LiveError::NotIllumos)
}

/// Reads the live host: the devinfo snapshot, `/dev/ppt*` under `root`,
/// config space through ppt or pcitool where permitted (others keep an
/// empty config, with a warning).
#[cfg(target_os = "illumos")]
pub fn load_host(root: &HostRoot) -> Result<Host, LiveError> {
    sys::load_host(root)
}

#[cfg(unix)]
#[cfg_attr(not(target_os = "illumos"), allow(dead_code))]
mod sys {
    //! The system calls: compiled on every Unix, called only on illumos.

    use std::fs::File;
    use std::os::fd::AsRawFd;

    use pci_core::{Diagnostic, Host};

    use super::{read_config, LiveError};
    use crate::devinfo::{to_host, Snapshot};
    use crate::ioctl::*;
    use crate::pptdev::read_links;
    use crate::root::{HostRoot, ReadError};

    /// Issues `req` on `f`.
    ///
    /// # Safety
    /// `arg` must point at memory the driver may read and write for this
    /// request: one `T`, or for a buffer request as many as it copies.
    unsafe fn call<T>(f: &File, req: Request<T>, arg: *mut T) -> i32 {
        // SAFETY: forwarded to the caller; the code and the argument type
        // come from the same typed request.
        unsafe { libc::ioctl(f.as_raw_fd(), req.code() as _, arg) }
    }

    fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LiveError {
        let what = what.into();
        move |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::PermissionDenied {
                LiveError::Denied(ReadError::from_io(what, source))
            } else {
                LiveError::Io { what, source }
            }
        }
    }

    /// Takes a snapshot (subtree, properties, minors) and copies it out.
    pub(super) fn snapshot_bytes() -> Result<Vec<u8>, LiveError> {
        let f = File::open(DEVINFO_NODE)
            .or_else(|_| File::open(DEVINFO_RO_NODE))
            .map_err(io(DEVINFO_NODE))?;
        let mut req = DinfoIo::whole_tree();
        // SAFETY: the snapshot ioctl reads one `struct dinfo_io` from the
        // pointer, which is live and laid out as the kernel expects.
        let size = unsafe { call(&f, SNAPSHOT, &mut req) };
        if size <= 0 {
            return Err(io(format!("{DEVINFO_NODE}: snapshot"))(
                std::io::Error::last_os_error(),
            ));
        }
        // The copy-out is rounded up to a page.
        let len = (size as usize + 0x1fff) & !0xfff;
        let mut buf = vec![0u8; len];
        // SAFETY: DINFOUSRLD writes at most map_size rounded up to a page,
        // which `len` covers.
        let rc = unsafe { call(&f, SNAPSHOT_COPY_OUT, buf.as_mut_ptr()) };
        if rc <= 0 {
            return Err(io(format!("{DEVINFO_NODE}: copy-out"))(
                std::io::Error::last_os_error(),
            ));
        }
        Ok(buf)
    }

    fn ppt_dword(f: &File, off: u16) -> Option<u32> {
        let mut c = PptCfgIo {
            pci_off: u64::from(off),
            pci_width: 4,
            pci_data: 0,
        };
        // SAFETY: PPT_CFG_READ reads and writes one `struct ppt_cfg_io`.
        let rc = unsafe { call(f, PPT_CONFIG_READ, &mut c) };
        (rc == 0).then_some(c.pci_data)
    }

    fn pcitool_dword(f: &File, bus: u8, dev: u8, func: u8, off: u16) -> Option<u32> {
        let mut r = PcitoolReg {
            user_version: PCITOOL_VERSION,
            bus_no: bus,
            dev_no: dev,
            func_no: func,
            barnum: PCITOOL_CONFIG,
            offset: u64::from(off),
            acc_attr: PCITOOL_ACC_ATTR_SIZE_4,
            ..PcitoolReg::default()
        };
        // SAFETY: PCITOOL_DEVICE_GET_REG reads and writes one pcitool_reg_t.
        let rc = unsafe { call(f, PCITOOL_READ, &mut r) };
        (rc == 0).then_some(r.data as u32)
    }

    pub(super) fn load_host(root: &HostRoot) -> Result<Host, LiveError> {
        let bytes = snapshot_bytes()?;
        let snap = Snapshot::parse(&bytes)?;
        let mut host = to_host(&snap, DEVINFO_NODE);
        let (links, diags) = read_links(root);
        host.ppt_links = links;
        host.warnings.extend(diags);
        // Root complex of each function: the first path component.
        let nexus_of = |path: &str| -> Option<String> {
            path.split('/').nth(1).map(|c| format!("/devices/{c}:reg"))
        };
        let mut denied = 0;
        for f in &mut host.functions {
            let Some(n) = &f.illumos else { continue };
            let via_ppt = host
                .ppt_links
                .iter()
                .find(|l| l.path.as_deref() == Some(n.path.as_str()))
                .and_then(|l| root.open_device(&l.dev).ok());
            let config = if let Some(ppt) = via_ppt {
                read_config(|off| ppt_dword(&ppt, off))
            } else if let Some(reg) = nexus_of(&n.path).and_then(|p| root.open_device(&p).ok()) {
                let a = f.address;
                read_config(|off| pcitool_dword(&reg, a.bus, a.device, a.function, off))
            } else {
                denied += 1;
                Vec::new()
            };
            if config.len() >= 64 {
                f.ids.header_type = Some(config[0x0e]);
                f.config = config;
            }
        }
        if denied > 0 {
            host.warnings.push(Diagnostic {
                file: None,
                line: None,
                message: format!(
                    "config space of {denied} function(s) could not be read (not bound to ppt, and the PCI nexus reg minor needs privileges)"
                ),
            });
        }
        Ok(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(cfg: Vec<u8>, readable: usize) -> impl FnMut(u16) -> Option<u32> {
        move |off| {
            let o = off as usize;
            (o + 4 <= readable.min(cfg.len()))
                .then(|| u32::from_le_bytes([cfg[o], cfg[o + 1], cfg[o + 2], cfg[o + 3]]))
        }
    }

    #[test]
    fn lengths_follow_pcieadm() {
        let mut c = vec![0u8; 4096];
        assert_eq!(read_config(device(c.clone(), 4096)).len(), 64);
        c[6] = 0x10;
        c[0x34] = 0x40;
        c[0x40] = 0x05;
        assert_eq!(read_config(device(c.clone(), 4096)).len(), 256);
        c[0x41] = 0x60;
        c[0x60] = 0x10;
        c[0x62] = 0x02;
        assert_eq!(read_config(device(c.clone(), 4096)).len(), 4096);
        // Extended space unreadable: keep the 256 bytes that were read.
        assert_eq!(read_config(device(c.clone(), 300)).len(), 256);
        assert_eq!(read_config(device(c, 10)).len(), 8);
        assert!(
            matches!(load_host(&HostRoot::new("/")), Err(LiveError::NotIllumos))
                || cfg!(target_os = "illumos")
        );
    }
}
