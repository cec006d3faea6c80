//! `ppt_matches` as libppt reads it (docs/illumos.md §1.7), kept private
//! to `list` until the shared `pci_illumos::matches` module lands; then
//! `list` should call that and this file should go.
//!
//! Each line is tried against `pciex%4s,%4s`, `pci%4s,%4s`, `pciex%4s`,
//! `pci%4s` with C `sscanf` semantics (a `%4s` skips leading white space
//! and takes up to four non-white characters, commas included); a line
//! starting with `/` is a path; anything else is ignored.

use std::io::ErrorKind;

use pci_illumos::root::HostRoot;

/// One understood line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A vendor (and maybe device) in the `%4s` form libppt stored.
    Id {
        /// Up to four characters.
        vendor: Vec<u8>,
        /// Up to four characters, when the line had a device part.
        device: Option<Vec<u8>>,
    },
    /// A devfs path, compared byte for byte.
    Path(Vec<u8>),
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `sscanf(line, fmt, ...)` for formats made of literals and `%4s`: the
/// conversions that succeeded (an input failure before the first
/// conversion counts as none).
fn scan(line: &[u8], fmt: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    for piece in fmt {
        if *piece == "%4s" {
            while i < line.len() && is_space(line[i]) {
                i += 1;
            }
            let start = i;
            while i < line.len() && i - start < 4 && !is_space(line[i]) {
                i += 1;
            }
            if i == start {
                return out;
            }
            out.push(line[start..i].to_vec());
        } else {
            for &c in piece.as_bytes() {
                if line.get(i) != Some(&c) {
                    return out;
                }
                i += 1;
            }
        }
    }
    out
}

/// What libppt makes of one line (without its newline).
pub fn parse_line(line: &[u8]) -> Option<Entry> {
    // A C string ends at the first NUL.
    let line = match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    for (fmt, want) in [
        (&["pciex", "%4s", ",", "%4s"][..], 2),
        (&["pci", "%4s", ",", "%4s"][..], 2),
        (&["pciex", "%4s"][..], 1),
        (&["pci", "%4s"][..], 1),
    ] {
        let mut got = scan(line, fmt);
        if got.len() == want {
            let device = (want == 2).then(|| got.pop()).flatten();
            let vendor = got.pop().unwrap_or_default();
            return Some(Entry::Id { vendor, device });
        }
    }
    (line.first() == Some(&b'/')).then(|| Entry::Path(line.to_vec()))
}

/// Reads the file libppt would read: `/system/boot/etc/ppt_matches`, or
/// `/etc/ppt_matches` when that does not exist; none at all is an empty
/// list. Errors name the host path.
pub fn read(root: &HostRoot) -> Result<Vec<Entry>, String> {
    for host_path in ["/system/boot/etc/ppt_matches", "/etc/ppt_matches"] {
        match read_bounded(&root.path(host_path)) {
            Ok(Some(bytes)) => return Ok(parse_file(&bytes)),
            Ok(None) => {
                return Err(format!(
                    "{host_path}: more than {} bytes; a ppt_matches file holds a few lines, check what was written there",
                    pci_illumos::matches::MAX_MATCHES_FILE
                ))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{host_path}: {e}")),
        }
    }
    Ok(Vec::new())
}

/// The file's bytes, or `None` when it is larger than
/// [`pci_illumos::matches::MAX_MATCHES_FILE`] (never read whole).
fn read_bounded(path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let limit = pci_illumos::matches::MAX_MATCHES_FILE;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// All understood lines of a file, in order. `getline` splits after each
/// newline and libppt strips exactly that one newline.
pub fn parse_file(bytes: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    for chunk in bytes.split_inclusive(|&c| c == b'\n') {
        let line = chunk.strip_suffix(b"\n").unwrap_or(chunk);
        if let Some(e) = parse_line(line) {
            out.push(e);
        }
    }
    out
}

/// libppt's `match_ppt`: `path` is the devfs path without `/devices`,
/// `vendor`/`device` the `%x` strings of the node's ids.
pub fn matches(entries: &[Entry], path: &str, vendor: &str, device: &str) -> bool {
    entries.iter().any(|e| match e {
        Entry::Path(p) => p.as_slice() == path.as_bytes(),
        Entry::Id {
            vendor: v,
            device: d,
        } => {
            v.as_slice() == vendor.as_bytes()
                && match d {
                    None => true,
                    Some(d) => d.as_slice() == device.as_bytes(),
                }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(v: &str, d: Option<&str>) -> Option<Entry> {
        Some(Entry::Id {
            vendor: v.as_bytes().to_vec(),
            device: d.map(|d| d.as_bytes().to_vec()),
        })
    }

    #[test]
    fn percent_4s_semantics() {
        assert_eq!(parse_line(b"pciex10de,a65"), id("10de", Some("a65")));
        assert_eq!(parse_line(b"pci10de,15f0"), id("10de", Some("15f0")));
        assert_eq!(
            parse_line(b"pci8086,1528.8086.1528"),
            id("8086", Some("1528"))
        );
        assert_eq!(parse_line(b"pciex10de,15f0 # x"), id("10de", Some("15f0")));
        assert_eq!(parse_line(b"pcie11,ae10"), id("e11,", None));
        assert_eq!(parse_line(b"pciclass,0300"), id("clas", None));
        assert_eq!(parse_line(b"pciex10de"), id("10de", None));
        assert_eq!(parse_line(b"pci10de,"), id("10de", None));
        assert_eq!(parse_line(b"pci 10de,a65"), id("10de", Some("a65")));
        assert_eq!(parse_line(b"# comment"), None);
        assert_eq!(parse_line(b""), None);
        assert_eq!(parse_line(b"pci"), None);
        assert_eq!(
            parse_line(b"/pci@0,0/display@2\r"),
            Some(Entry::Path(b"/pci@0,0/display@2\r".to_vec()))
        );
        assert_eq!(parse_line(b" /pci@0,0"), None);
    }

    #[test]
    fn matching() {
        let e = parse_file(b"pciex10de,a65\npci10DE,be3\n/pci@0,0/x@1\npci8086\n");
        assert!(matches(&e, "/a", "10de", "a65"));
        assert!(!matches(&e, "/a", "10de", "be3"));
        assert!(matches(&e, "/pci@0,0/x@1", "1", "2"));
        assert!(matches(&e, "/b", "8086", "anything"));
        assert!(!matches(&e, "/devices/pci@0,0/x@1", "1", "2"));
    }
}
