//! Config space saved by `pcieadm save-cfgspace -a DIR`, joined to devinfo nodes.
//!
//! pcieadm writes one file per function named `%02x-%02x-%02x.pci` (bus,
//! device, function from the node's `reg`), holding raw config bytes: 64,
//! 256 or 4096 of them (docs/illumos.md). The name is the only
//! link to the device, so files are joined to functions by address.

use std::path::Path;

use pci_core::{Address, Diagnostic, Host};

use crate::root::{HostRoot, ReadError};

/// Why a cfgspace directory cannot be used at all.
#[derive(Debug, thiserror::Error)]
#[error("{dir}: {}", .source.reason())]
pub struct CfgspaceError {
    /// The directory as given.
    pub dir: String,
    /// Why it cannot be listed (a permission error says what to do).
    #[source]
    pub source: ReadError,
}

/// Reads at most `limit + 1` bytes of `/name` in the directory taken as a
/// root (a link among the files resolves inside it): enough to tell a
/// file of a wrong size without reading a huge one whole.
fn read_at_most(dir: &HostRoot, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let host_path = format!("/{name}");
    let mut bytes = Vec::new();
    dir.open(&host_path)
        .map_err(|e| format!("cannot read: {}", e.reason()))?
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Parses a `BB-DD-FF.pci` file name.
pub fn parse_name(name: &str) -> Option<Address> {
    let stem = name.strip_suffix(".pci")?;
    let mut it = stem.split('-');
    let (b, d, f) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || [b, d, f].iter().any(|p| p.len() != 2) {
        return None;
    }
    let b = u8::from_str_radix(b, 16).ok()?;
    let d = u8::from_str_radix(d, 16).ok()?;
    let f = u8::from_str_radix(f, 16).ok()?;
    Address::new(0, b, d, f)
}

/// Reads every `*.pci` file of `dir` into the matching function of `host`
/// (config bytes and header type). Files with a bad name or length, files
/// without a function, and files whose vendor/device disagree with the
/// node become warnings. Returns how many files were joined.
pub fn join(host: &mut Host, dir: &Path) -> Result<usize, CfgspaceError> {
    let shown = dir.display().to_string();
    // The directory is the root of what is read: a `.pci` link leads to a
    // file inside it, never to one of the host's.
    let root = HostRoot::new(dir);
    let names: Vec<String> = root
        .read_dir("/")
        .map_err(|source| CfgspaceError {
            dir: shown.clone(),
            source,
        })?
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pci"))
        .collect();
    let mut joined = 0;
    for name in names {
        let file = format!("{shown}/{name}");
        let Some(addr) = parse_name(&name) else {
            host.warnings.push(Diagnostic::at(
                &file,
                None,
                "name is not BB-DD-FF.pci; ignored",
            ));
            continue;
        };
        let bytes = match read_at_most(&root, &name, 4096) {
            Ok(b) => b,
            Err(e) => {
                host.warnings.push(Diagnostic::at(&file, None, e));
                continue;
            }
        };
        if !matches!(bytes.len(), 64 | 256 | 4096) {
            host.warnings.push(Diagnostic::at(
                &file,
                None,
                format!(
                    "{} bytes; pcieadm saves 64, 256 or 4096; ignored",
                    if bytes.len() > 4096 {
                        "more than 4096".to_string()
                    } else {
                        bytes.len().to_string()
                    }
                ),
            ));
            continue;
        }
        let Some(f) = host.functions.iter_mut().find(|f| f.address == addr) else {
            host.warnings.push(Diagnostic::at(
                &file,
                None,
                format!("no device node at {addr}; ignored"),
            ));
            continue;
        };
        let vendor = u16::from_le_bytes([bytes[0], bytes[1]]);
        let device = u16::from_le_bytes([bytes[2], bytes[3]]);
        if (vendor, device) != (f.ids.vendor, f.ids.device) {
            host.warnings.push(Diagnostic::at(
                &file,
                None,
                format!(
                    "holds {vendor:04x}:{device:04x} but the node at {addr} is {:04x}:{:04x}; ignored",
                    f.ids.vendor, f.ids.device
                ),
            ));
            continue;
        }
        f.ids.header_type = Some(bytes[0x0e]);
        f.config = bytes;
        joined += 1;
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pci_core::{Function, Identity};

    #[test]
    fn names() {
        assert_eq!(parse_name("00-1f-03.pci"), Address::new(0, 0, 0x1f, 3));
        assert_eq!(parse_name("01-00-00.pci"), Address::new(0, 1, 0, 0));
        for bad in [
            "1-00-00.pci",
            "00-20-00.pci",
            "00-00-08.pci",
            "00-00-00.bin",
            "00-00.pci",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn joins_by_address() {
        let t = tempfile::tempdir().unwrap();
        let mut c = vec![0u8; 256];
        c[0..4].copy_from_slice(&[0xde, 0x10, 0x65, 0x0a]);
        c[0x0e] = 0x80;
        std::fs::write(t.path().join("01-00-00.pci"), &c).unwrap();
        std::fs::write(t.path().join("01-00-01.pci"), &c[..100]).unwrap();
        std::fs::write(t.path().join("02-00-00.pci"), &c).unwrap();
        let ids = Identity {
            vendor: 0x10de,
            device: 0xa65,
            subsystem_vendor: None,
            subsystem: None,
            class: 0x030000,
            revision: 0,
            header_type: None,
        };
        let mut host = Host {
            functions: vec![
                Function::new(Address::new(0, 1, 0, 0).unwrap(), ids, Vec::new()),
                Function::new(Address::new(0, 1, 0, 1).unwrap(), ids, Vec::new()),
            ],
            ..Host::default()
        };
        assert_eq!(join(&mut host, t.path()).unwrap(), 1);
        assert_eq!(host.functions[0].config.len(), 256);
        assert_eq!(host.functions[0].ids.header_type, Some(0x80));
        assert!(host.functions[1].config.is_empty());
        assert_eq!(host.warnings.len(), 2);
        assert!(join(&mut host, &t.path().join("nope")).is_err());
    }
}
