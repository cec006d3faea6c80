//! Showing a string from outside on a terminal: the one owner of "this
//! text was written by someone else".
//!
//! Driver names, devfs paths, `/dev/ppt*` names, zone entries, lines of
//! `ppt_aliases` and `ppt_matches`, platform.log lines, database rows and
//! file names are written by other people and other machines. Printed raw,
//! an `ESC [2J` clears the operator's screen, an OSC sets the window title,
//! and a carriage return or line feed forges a line of output. Every text
//! renderer that prints such a value wraps it in [`Escaped`] (a `&str`),
//! [`EscapedBytes`] (bytes that may not be UTF-8) or [`EscapedPath`] (a file
//! name), or calls [`escape`] for an owned string.
//!
//! The form is visible and reversible, like `ls -b` and git's quoted file
//! names (docs/output.md):
//!
//! | byte(s) | shown as |
//! |---|---|
//! | `\` | `\\` |
//! | BEL, BS, TAB, LF, VT, FF, CR, ESC | `\a` `\b` `\t` `\n` `\v` `\f` `\r` `\e` |
//! | any other C0 byte (0x00–0x1f), DEL (0x7f) | `\xHH` (two lower-case hex digits) |
//! | a C1 character U+0080–U+009F | its two UTF-8 bytes, `\xc2\xHH` |
//! | a byte that is not part of valid UTF-8 | `\xHH` |
//!
//! Everything else, printable non-ASCII included, is shown as it is, so
//! ordinary data prints byte for byte as before. Reading `\xHH` as the byte
//! HH, the named escapes as their bytes and `\\` as one backslash gives the
//! original bytes back.
//!
//! JSON output never goes through this: its own string escaping already
//! keeps every C0 byte off the terminal, and escaping twice would change
//! the value.

use std::borrow::Cow;
use std::fmt::{self, Display, Write as _};
use std::path::Path;

/// A `&str` from outside, shown with its control characters escaped.
///
/// ```
/// use pci_core::text::Escaped;
/// assert_eq!(Escaped("ppt\x1b[2J\r").to_string(), "ppt\\e[2J\\r");
/// assert_eq!(Escaped("/pci@0,0/display@0").to_string(), "/pci@0,0/display@0");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

/// Bytes from outside that may not be UTF-8 (a log line, a file's
/// content), shown with control characters and invalid bytes escaped.
///
/// ```
/// use pci_core::text::EscapedBytes;
/// assert_eq!(EscapedBytes(b"a\x9b\xffb").to_string(), "a\\x9b\\xffb");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EscapedBytes<'a>(pub &'a [u8]);

/// A file name, shown by its bytes with [`EscapedBytes`]'s escapes (a
/// name that is not UTF-8 stays reversible, unlike `Path::display`).
#[derive(Debug, Clone, Copy)]
pub struct EscapedPath<'a>(pub &'a Path);

/// The escaped form of `s`, borrowed when nothing needed escaping.
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.chars().any(needs_escape) {
        Cow::Owned(Escaped(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// The escaped form of bytes that may not be UTF-8.
pub fn escape_bytes(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => escape(s),
        Err(_) => Cow::Owned(EscapedBytes(b).to_string()),
    }
}

/// The escaped form of a file name.
pub fn escape_path(p: &Path) -> Cow<'_, str> {
    escape_bytes(path_bytes(p))
}

/// A whole message assembled elsewhere (an error or warning whose parts
/// may not all have been escaped where they were put in), made safe for a
/// terminal as a last guard: every control character except the line feed
/// (the message's own layout) is escaped as above; backslashes are left
/// alone, so parts escaped already are not escaped twice. Values must
/// still be wrapped where they enter a message: only that escapes a line
/// feed inside a value.
pub fn guard(message: &str) -> Cow<'_, str> {
    controls_only(message, true)
}

/// Escapes every control character (line feeds included) in the form
/// above and leaves backslashes as they are: for a value inside a format
/// that already gives the backslash a meaning of its own (libofmt's
/// parsable output escapes `\` and `:` itself), where ordinary data must
/// stay byte for byte what the original tool prints.
pub fn escape_controls(value: &str) -> Cow<'_, str> {
    controls_only(value, false)
}

fn controls_only(s: &str, keep_lf: bool) -> Cow<'_, str> {
    let shown = |c: char| c.is_control() && !(keep_lf && c == '\n');
    if !s.chars().any(shown) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if shown(c) {
            let _ = write!(out, "{}", Escaped(c.encode_utf8(&mut [0u8; 4])));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` is shown escaped: the backslash, C0, DEL and C1.
pub fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control()
}

fn path_bytes(p: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes()
}

/// Writes one character in its shown form.
fn write_char(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\\' => f.write_str("\\\\"),
        '\u{7}' => f.write_str("\\a"),
        '\u{8}' => f.write_str("\\b"),
        '\t' => f.write_str("\\t"),
        '\n' => f.write_str("\\n"),
        '\u{b}' => f.write_str("\\v"),
        '\u{c}' => f.write_str("\\f"),
        '\r' => f.write_str("\\r"),
        '\u{1b}' => f.write_str("\\e"),
        c if c.is_control() => {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                write!(f, "\\x{b:02x}")?;
            }
            Ok(())
        }
        c => f.write_char(c),
    }
}

/// Whether the format asks for padding or truncation (`{:<40}`), which
/// applies to the escaped text.
fn padded(f: &fmt::Formatter<'_>) -> bool {
    f.width().is_some() || f.precision().is_some()
}

impl Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if padded(f) {
            return f.pad(&escape(self.0));
        }
        let mut rest = self.0;
        while let Some(i) = rest.find(needs_escape) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or_default();
            write_char(f, c)?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

impl Display for EscapedBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if padded(f) {
            return f.pad(&escape_bytes(self.0));
        }
        for chunk in self.0.utf8_chunks() {
            Escaped(chunk.valid()).fmt(f)?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl Display for EscapedPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        EscapedBytes(path_bytes(self.0)).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reverses the escapes (the documented form), for the round trip.
    fn unescape(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut it = s.bytes().peekable();
        while let Some(b) = it.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let named = match it.next() {
                Some(b'a') => 7,
                Some(b'b') => 8,
                Some(b't') => 9,
                Some(b'n') => 10,
                Some(b'v') => 11,
                Some(b'f') => 12,
                Some(b'r') => 13,
                Some(b'e') => 27,
                Some(b'\\') => b'\\',
                Some(b'x') => {
                    let h: String = [it.next(), it.next()]
                        .iter()
                        .flatten()
                        .map(|&b| b as char)
                        .collect();
                    u8::from_str_radix(&h, 16).unwrap_or(0)
                }
                other => panic!("bad escape {other:?}"),
            };
            out.push(named);
        }
        out
    }

    #[test]
    fn the_attack_is_visible_and_holds_no_control_byte() {
        let attack = "x\u{1b}[2J\u{1b}]0;t\u{7}\r\nfake\u{9b}6n\u{7f}\t\0\\";
        let shown = Escaped(attack).to_string();
        assert_eq!(
            shown,
            "x\\e[2J\\e]0;t\\a\\r\\nfake\\xc2\\x9b6n\\x7f\\t\\x00\\\\"
        );
        assert!(!shown.chars().any(char::is_control));
        assert_eq!(unescape(&shown), attack.as_bytes());
    }

    #[test]
    fn invalid_utf8_is_escaped_byte_by_byte_and_reversible() {
        let raw = b"ok \xff\xfe\x9b\x1b caf\xc3\xa9 \xe2\x82";
        let shown = EscapedBytes(raw).to_string();
        assert_eq!(shown, "ok \\xff\\xfe\\x9b\\e caf\u{e9} \\xe2\\x82");
        assert_eq!(unescape(&shown), raw);
        assert_eq!(escape_bytes(raw), shown);
    }

    #[test]
    fn ordinary_data_is_borrowed_unchanged() {
        for s in [
            "/pci@0,0/pci8086,151@1/display@0",
            "ppt",
            "caf\u{e9} \u{4e2d}",
            "",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s}");
            assert_eq!(Escaped(s).to_string(), s);
        }
    }

    #[test]
    fn file_names_that_are_not_utf8_stay_reversible() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/a\xff\n"));
        assert_eq!(EscapedPath(p).to_string(), "/tmp/a\\xff\\n");
        assert_eq!(escape_path(p), "/tmp/a\\xff\\n");
    }

    #[test]
    fn a_guarded_message_keeps_its_lines_and_backslashes() {
        let m = "pptctl: a \\e b\u{1b}[2J\r\n  hint: c\u{9b}\n";
        assert_eq!(guard(m), "pptctl: a \\e b\\e[2J\\r\n  hint: c\\xc2\\x9b\n");
        assert!(matches!(guard("plain\nlines\\"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\\b\nc\u{1b}"), "a\\b\\nc\\e");
    }

    #[test]
    fn padding_applies_to_the_escaped_text() {
        assert_eq!(format!("{:<6}|", Escaped("a\rb")), "a\\rb  |");
        assert_eq!(format!("{:>5}|", EscapedBytes(b"\xff")), " \\xff|");
        assert_eq!(format!("{:<4}|", escape("ab")), "ab  |");
    }
}
