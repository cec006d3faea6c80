//! Dumps followed by binary padding (a copy preallocated on a USB key, a
//! truncated transfer): the dump before the padding is kept, the padding
//! is named and never read to its end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pci_core::sources::dump::parse_dump_bytes;

/// Regression (found by cli/tests/robustness.rs): a dump followed by a
/// gigabyte of NUL bytes was scanned to the end in silence. Now the dump is
/// kept and a warning names the line where the binary data starts.
#[test]
fn dump_padded_with_zeros_stops_at_the_padding() {
    let mut b =
        b"00:00.0 Host bridge\n00: 86 80 57 0d 06 00 10 20 00 00 00 06 00 00 00 00\n".to_vec();
    b.extend(std::iter::repeat_n(0u8, 1 << 20));
    b.extend_from_slice(b"\n01:00.0 x\n00: 86 80 57 0d 06 00 10 20 00 00 00 06 00 00 00 00\n");
    let host = parse_dump_bytes(&b, "padded.txt").unwrap();
    assert_eq!(host.functions.len(), 1);
    let w = host
        .warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(w.contains("padded.txt:3: binary data"), "{w}");
}

/// Regression (found by the full robustness matrix: a 60 s timeout): the
/// NUL padding was one line of 1 GiB, read to its end before the check.
/// Now reading stops inside it; a reader that fails past the first
/// megabyte proves it.
#[test]
fn zero_padding_is_not_read_to_its_end() {
    struct Zeros(u64);
    impl std::io::Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            assert!(self.0 < 1 << 20, "read past the first MiB of padding");
            let n = buf.len().min(8192);
            buf[..n].fill(0);
            self.0 += n as u64;
            Ok(n)
        }
    }
    let text = b"00:00.0 Host bridge\n00: 86 80 57 0d 06 00 10 20 00 00 00 06 00 00 00 00\n";
    let r = std::io::Read::chain(&text[..], Zeros(0));
    let host = pci_core::sources::dump::parse_dump_reader(r, "z.txt").unwrap();
    assert_eq!(host.functions.len(), 1);
    let r = std::io::Read::chain(&b"junk\n"[..], Zeros(0));
    let e = pci_core::sources::dump::parse_dump_reader(r, "z.txt")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("z.txt: binary data"), "{e}");
}
