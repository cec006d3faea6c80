//! `dump:FILE|-`: the text `lspci -x`, `-xxx` or `-xxxx` writes, optionally
//! mixed with `-v…` decode lines, read the way `lspci -F` reads it.
//!
//! The rules follow what pciutils' dump reader (lib/dump.c) does, observed
//! as behaviour:
//! * a *header line* starts with a slot and a space: `BB:DD.F `,
//!   `DDDD:BB:DD.F ` or `DDDDD:BB:DD.F ` (hex, function in decimal); it
//!   starts a new function, even when the slot was seen before;
//! * an empty line ends the current function;
//! * while a function is open, a line that starts with 2 to 8 hex digits,
//!   `:` and a space is a *hex line*: an offset, then hex byte pairs
//!   separated by single spaces; anything else on such a line is an error;
//! * every other line (decode text, comments) is ignored;
//! * bytes not given read as `ff`; a function has as many bytes as its
//!   highest offset given, at most 4096.
//!
//! Unlike lspci 3.9.0 we accept lines of any length (its reader stops at
//! 254 characters with "line too long"), a last line without a newline, and
//! we keep only the first [`LINE_KEEP`] bytes of a line in memory, so input
//! size does not decide memory use.

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{identity_from_config, sort_functions, Source, SourceError};
use crate::address::Address;
use crate::function::Function;
use crate::host::{Diagnostic, Host};

/// Largest config space a dump can describe (PCIe extended config space).
pub(crate) const MAX_CONFIG: usize = 4096;

/// Bytes of one line kept in memory; the longest possible hex line (an
/// 8-digit offset and 4096 byte pairs) is shorter than this, so a longer
/// line is decode text or junk either way.
pub const LINE_KEEP: usize = 16 * 1024;

/// Where a dump is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpInput {
    /// A file.
    File(PathBuf),
    /// Standard input (`dump:-`).
    Stdin,
}

/// The `dump:` source.
#[derive(Debug, Clone)]
pub struct DumpSource {
    /// What to read.
    pub input: DumpInput,
}

impl DumpSource {
    /// A dump in a file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        DumpSource {
            input: DumpInput::File(path.into()),
        }
    }

    /// A dump on standard input.
    pub fn stdin() -> Self {
        DumpSource {
            input: DumpInput::Stdin,
        }
    }
}

impl Source for DumpSource {
    fn load(&self) -> Result<Host, SourceError> {
        match &self.input {
            DumpInput::File(path) => {
                let file = hostfs::open_regular(path).map_err(|e| SourceError::io(path, e))?;
                parse_dump(BufReader::new(file), &path.display().to_string())
            }
            DumpInput::Stdin => parse_dump(io::stdin().lock(), "-"),
        }
    }
}

/// Reads a dump from a file path (convenience for tests and tools).
pub fn load_dump_file(path: &Path) -> Result<Host, SourceError> {
    DumpSource::file(path).load()
}

/// One function being assembled.
struct Pending {
    address: Address,
    line: usize,
    data: Vec<u8>,
    len: usize,
}

/// Parses dump text from `reader`; `name` is used in messages.
pub fn parse_dump<R: BufRead>(mut reader: R, name: &str) -> Result<Host, SourceError> {
    let mut host = Host::default();
    let mut state = Reading::default();
    let mut line = Vec::with_capacity(128);
    let mut lineno = 0usize;
    let mut saw_binary = false;

    loop {
        line.clear();
        let more = read_line_capped(&mut reader, &mut line, LINE_KEEP)
            .map_err(|e| SourceError::io(name, e))?;
        let Some(truncated) = more else { break };
        lineno += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.contains(&0) {
            saw_binary = true;
            // Text followed by NUL bytes: a copy padded with zeros (a file
            // preallocated on a USB key, a truncated transfer). Keep what
            // was read and stop, rather than scan a gigabyte of zeros.
            if state.current.is_some() || !state.done.is_empty() {
                host.warnings.push(Diagnostic::at(
                    name,
                    Some(lineno),
                    "binary data (NUL bytes) after the dump; the rest of the file was not read",
                ));
            }
            // Nothing after binary data is read: no dump follows NUL bytes,
            // and a huge binary file must not be scanned to its end.
            break;
        }
        let at = Line {
            name,
            number: lineno,
            truncated,
        };
        if let Some(w) = state.line(&line, &at)? {
            host.warnings.push(w);
        }
    }
    state.finish();
    if state.done.is_empty() {
        let message = if saw_binary {
            "binary data, not an lspci -x dump (no `BB:DD.F` line followed by `00: xx xx ...` lines)"
        } else {
            "no PCI function found; expected lspci -x/-xxx/-xxxx output \
             (a `BB:DD.F ...` line followed by `00: xx xx ...` lines)"
        };
        return Err(SourceError::NotRecognised {
            file: name.to_string(),
            message: message.to_string(),
        });
    }
    add_functions(&mut host, state.done, name);
    sort_functions(&mut host.functions);
    Ok(host)
}

/// Where a line is, for messages.
struct Line<'a> {
    name: &'a str,
    number: usize,
    /// The line was longer than what is kept of it.
    truncated: bool,
}

/// The functions read so far and the one being read.
#[derive(Default)]
struct Reading {
    done: Vec<Pending>,
    current: Option<Pending>,
}

impl Reading {
    /// Takes one line (without its line end): a slot header starts a
    /// function, an empty line ends it, a hex line adds to it. Returns a
    /// warning about the line, if any.
    fn line(&mut self, line: &[u8], at: &Line<'_>) -> Result<Option<Diagnostic>, SourceError> {
        if let Some(slot) = header_slot(line) {
            self.finish();
            return Ok(match slot {
                Ok(address) => {
                    self.current = Some(Pending {
                        address,
                        line: at.number,
                        data: vec![0xff; 256],
                        len: 0,
                    });
                    None
                }
                Err(text) => Some(Diagnostic::at(
                    at.name,
                    Some(at.number),
                    format!(
                        "slot `{text}` has a device number above 1f or a function above 7; \
                         skipping this function"
                    ),
                )),
            });
        }
        if line.is_empty() {
            self.finish();
            return Ok(None);
        }
        let Some(p) = self.current.as_mut() else {
            return Ok(None);
        };
        let Some(offset_len) = hex_offset_len(line) else {
            return Ok(None);
        };
        if at.truncated {
            return Err(malformed(at.name, at.number, "hex line is too long"));
        }
        let w =
            parse_hex_line(line, offset_len, p).map_err(|m| malformed(at.name, at.number, m))?;
        Ok(w.map(|w| Diagnostic::at(at.name, Some(at.number), w)))
    }

    /// Ends the function being read, if any.
    fn finish(&mut self) {
        if let Some(p) = self.current.take() {
            self.done.push(p);
        }
    }
}

/// The functions read, in file order, with warnings for repeated slots
/// and short config space.
fn add_functions(host: &mut Host, done: Vec<Pending>, name: &str) {
    let mut seen = std::collections::HashSet::new();
    for p in done {
        if !seen.insert(p.address) {
            host.warnings.push(Diagnostic::at(
                name,
                Some(p.line),
                format!("{} appears more than once; showing every copy", p.address),
            ));
        }
        if p.len < 64 {
            let what = if p.len == 0 {
                "has no hex lines (was the dump made without -x?)".to_string()
            } else {
                format!("has only {} bytes of config space (64 expected)", p.len)
            };
            host.warnings.push(Diagnostic::at(
                name,
                Some(p.line),
                format!("{} {what}; registers past the end read as ff", p.address),
            ));
        }
        let mut config = p.data;
        config.truncate(p.len);
        let ids = identity_from_config(&config);
        host.functions.push(Function::new(p.address, ids, config));
    }
}

fn malformed(name: &str, line: usize, message: impl Into<String>) -> SourceError {
    SourceError::Malformed {
        file: name.to_string(),
        line,
        message: message.into(),
    }
}

/// Reads one line (through `\n`) into `buf`, keeping at most `keep` bytes
/// and discarding the rest of the line. `None` at end of input, else
/// whether the line was cut.
fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    keep: usize,
) -> io::Result<Option<bool>> {
    let mut any = false;
    let mut truncated = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(any.then_some(truncated));
        }
        any = true;
        let (take, end) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = keep.saturating_sub(buf.len());
        let first_cut = take > room && !truncated;
        if take > room {
            truncated = true;
        }
        buf.extend_from_slice(&chunk[..take.min(room)]);
        reader.consume(take);
        if end {
            return Ok(Some(truncated));
        }
        // A line too long to keep that holds NUL bytes is binary data: the
        // caller stops there, so do not read the rest of it (it may be a
        // gigabyte of zeros).
        if first_cut && buf.contains(&0) {
            return Ok(Some(true));
        }
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex_value(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |acc, &b| {
        (acc << 4) | (b as char).to_digit(16).unwrap_or(0)
    })
}

/// Checks `line` against a pattern where `#` is a hex digit.
fn matches_pattern(line: &[u8], pattern: &[u8]) -> bool {
    line.len() >= pattern.len()
        && pattern
            .iter()
            .zip(line)
            .all(|(&p, &c)| if p == b'#' { is_hex(c) } else { p == c })
}

/// If `line` is a header line, its slot: `Ok` for a valid address, `Err`
/// with the slot text when lspci would take it but it is out of range.
fn header_slot(line: &[u8]) -> Option<Result<Address, String>> {
    let (domain, rest) = if matches_pattern(line, b"##:##.# ") {
        (0, line)
    } else if matches_pattern(line, b"####:##:##.# ") {
        (hex_value(&line[..4]), &line[5..])
    } else if matches_pattern(line, b"#####:##:##.# ") {
        (hex_value(&line[..5]), &line[6..])
    } else {
        return None;
    };
    // lspci reads the function with `%d`: a hex letter there makes the
    // line an ordinary text line.
    if !rest[6].is_ascii_digit() {
        return None;
    }
    let bus = hex_value(&rest[..2]) as u8;
    let device = hex_value(&rest[3..5]) as u8;
    let function = rest[6] - b'0';
    let text_len = line.len() - rest.len() + 7;
    Some(
        Address::new(domain, bus, device, function)
            .ok_or_else(|| String::from_utf8_lossy(&line[..text_len]).into_owned()),
    )
}

/// If `line` starts like a hex line (`2..=8` hex digits, `:`, space), the
/// number of offset digits.
fn hex_offset_len(line: &[u8]) -> Option<usize> {
    let digits = line.iter().take_while(|&&b| is_hex(b)).count();
    ((2..=8).contains(&digits)
        && line.get(digits) == Some(&b':')
        && line.get(digits + 1) == Some(&b' '))
    .then_some(digits)
}

/// Stores the bytes of one hex line into `p`; `Ok(Some(..))` is a warning.
fn parse_hex_line(
    line: &[u8],
    offset_len: usize,
    p: &mut Pending,
) -> Result<Option<String>, String> {
    let mut pos = hex_value(&line[..offset_len]) as usize;
    let mut rest = &line[offset_len + 2..];
    while rest.len() >= 2
        && is_hex(rest[0])
        && is_hex(rest[1])
        && (rest.len() == 2 || rest[2] == b' ')
    {
        if pos >= MAX_CONFIG {
            return Err(format!(
                "offset {pos:#x} is past the end of config space (at most 4096 bytes)"
            ));
        }
        if pos >= p.data.len() {
            p.data.resize(MAX_CONFIG, 0xff);
        }
        p.data[pos] = hex_value(&rest[..2]) as u8;
        pos += 1;
        p.len = p.len.max(pos);
        rest = &rest[2..];
        if !rest.is_empty() {
            rest = &rest[1..];
        }
    }
    if rest.is_empty() {
        return Ok(None);
    }
    // What follows the last good pair decides: more hex (a cut or mangled
    // pair, `00 0`, `1 f1`, double spaces) is a broken dump and an error,
    // as in lspci; words (`pcilib: ... read failed`, stderr that a
    // `2>&1` capture wrote into the middle of the line, seen in real
    // coreboot logs) are dropped with a warning and the bytes before them
    // kept. lspci rejects both; we keep the dump usable.
    let token: Vec<u8> = rest.iter().copied().take_while(|&b| b != b' ').collect();
    let shown: String = String::from_utf8_lossy(&rest[..rest.len().min(40)]).into_owned();
    if token.is_empty() || token.iter().all(|&b| is_hex(b)) {
        return Err(format!(
            "malformed hex line: expected hex byte pairs separated by single spaces, found `{shown}`"
        ));
    }
    Ok(Some(format!(
        "text after the hex bytes ignored (`{shown}`); bytes from offset {pos:#x} on this line read as ff"
    )))
}

/// Reads a dump from any reader (e.g. bytes in memory).
pub fn parse_dump_bytes(bytes: &[u8], name: &str) -> Result<Host, SourceError> {
    parse_dump(bytes, name)
}

/// Reads from `reader` into a [`parse_dump`] (for readers without buffering).
pub fn parse_dump_reader<R: Read>(reader: R, name: &str) -> Result<Host, SourceError> {
    parse_dump(BufReader::new(reader), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "00:1f.3 Audio device: Intel Corporation Foo (rev 04)\n\
        \tSubsystem: whatever\n\
        00: 86 80 c8 a2 06 04 10 00 04 00 03 04 10 00 00 00\n\
        10: 04 00 10 f1 00 00 00 00 00 00 00 00 00 00 00 00\n\
        20: 04 00 00 f1 00 00 00 00 00 00 00 00 43 10 f1 86\n\
        30: 00 00 00 00 50 00 00 00 00 00 00 00 ff 01 00 00\n\
        \n";

    #[test]
    fn one_function() {
        let h = parse_dump_bytes(ONE.as_bytes(), "t").unwrap();
        assert_eq!(h.functions.len(), 1);
        let f = &h.functions[0];
        assert_eq!(f.address.to_string(), "0000:00:1f.3");
        assert_eq!(f.config.len(), 64);
        assert_eq!(f.ids.vendor, 0x8086);
        assert_eq!(f.ids.device, 0xa2c8);
        assert_eq!(f.ids.class, 0x040300);
        assert_eq!(f.ids.revision, 4);
        assert!(h.warnings.is_empty());
    }

    #[test]
    fn crlf_uppercase_and_domain() {
        let text = ONE.replace("00:1f.3", "0001:00:1F.3").replace('\n', "\r\n");
        let text = text.replace("c8 a2", "C8 A2");
        let h = parse_dump_bytes(text.as_bytes(), "t").unwrap();
        assert_eq!(h.functions[0].address.to_string(), "0001:00:1f.3");
        assert_eq!(h.functions[0].ids.device, 0xa2c8);
    }

    #[test]
    fn malformed_line_names_line() {
        let text = ONE.replace("10: 04 00 10 f1", "10: 04 00 1 f1");
        match parse_dump_bytes(text.as_bytes(), "x.txt") {
            Err(SourceError::Malformed { file, line, .. }) => {
                assert_eq!((file.as_str(), line), ("x.txt", 4))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn interleaved_stderr_is_a_warning() {
        let text = ONE.replace(
            "10: 04 00 10 f1 00 00 00 00 00 00 00 00 00 00 00 00",
            "10: 04 00 10 f1 0pcilib: sysfs_read_vpd: read failed\n0 00 00",
        );
        let h = parse_dump_bytes(text.as_bytes(), "t").unwrap();
        assert_eq!(h.functions[0].config.len(), 64);
        assert_eq!(h.functions[0].config[0x13], 0xf1);
        assert_eq!(h.functions[0].config[0x14], 0xff);
        assert_eq!(h.warnings.len(), 1);
        assert_eq!(h.warnings[0].line, Some(4));
        for bad in ["10: 04 00 10 f", "10: 04  00", "10: 04 00 100"] {
            let text = ONE.replace("10: 04 00 10 f1 00 00 00 00 00 00 00 00 00 00 00 00", bad);
            assert!(parse_dump_bytes(text.as_bytes(), "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let err = parse_dump_bytes(b"\x00\x01\xff\xfe random\nbytes", "g").unwrap_err();
        assert!(err.to_string().contains("binary data"), "{err}");
        assert!(parse_dump_bytes(b"", "e").is_err());
    }

    #[test]
    fn long_lines_and_no_final_newline() {
        let long = "x".repeat(100_000);
        let text = format!("00:00.0 Host bridge {long}\n\t{long}\n00: 86 80 57 0d");
        let h = parse_dump_bytes(text.as_bytes(), "t").unwrap();
        assert_eq!(h.functions[0].config, vec![0x86, 0x80, 0x57, 0x0d]);
        assert_eq!(h.functions[0].ids.class, 0xffffff);
        assert_eq!(h.warnings.len(), 1);
    }

    #[test]
    fn sorted_and_gaps_read_as_ff() {
        let text = "00:02.0 x\n00: 01 02\n20: aa\n\n00:01.0 y\n00: 03 04\n";
        let h = parse_dump_bytes(text.as_bytes(), "t").unwrap();
        assert_eq!(h.functions[0].address.short(), "00:01.0");
        let f = &h.functions[1];
        assert_eq!(f.config.len(), 0x21);
        assert_eq!(f.config[0x10], 0xff);
        assert_eq!(f.config[0x20], 0xaa);
    }

    #[test]
    fn offset_past_4096() {
        let text = "00:02.0 x\n1000: 01\n";
        assert!(matches!(
            parse_dump_bytes(text.as_bytes(), "t"),
            Err(SourceError::Malformed { line: 2, .. })
        ));
        let text = "00:02.0 x\nff0: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n";
        let h = parse_dump_bytes(text.as_bytes(), "t").unwrap();
        assert_eq!(h.functions[0].config.len(), 4096);
    }

    #[test]
    fn hex_lines_outside_a_function_are_ignored() {
        let text = "00: zz\n00:00.0 x\n00: 86 80\n\n10: not hex\n";
        let h = parse_dump_bytes(text.as_bytes(), "t").unwrap();
        assert_eq!(h.functions.len(), 1);
    }
}
