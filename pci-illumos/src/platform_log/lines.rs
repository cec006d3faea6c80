//! A line reader for logs of any size: one line at a time, at most
//! [`MAX_LINE_BYTES`] of each line kept, the rest skipped without being
//! stored, so memory stays bounded whatever the input holds (a 1 MB line, a
//! binary file with no newline at all).

use std::io::{BufRead, Read};

/// The longest part of one line that is kept; the rest of the line is read
/// and dropped. Real platform.log lines are well under 4 KiB (bhyve's whole
/// argument vector is logged one argument per line).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line of input, newline and a trailing `\r` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The kept bytes as text (invalid UTF-8 replaced by U+FFFD).
    pub text: String,
    /// The line was longer than [`MAX_LINE_BYTES`]; only its start is kept.
    pub truncated: bool,
    /// The kept bytes were not valid UTF-8.
    pub invalid_utf8: bool,
    /// The line holds NUL or other control bytes no text log writes.
    pub binary: bool,
}

/// Reads [`Line`]s from a [`BufRead`].
#[derive(Debug)]
pub struct Lines<R> {
    inner: R,
    number: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        Lines {
            inner,
            number: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// The next line, `None` at the end of input. A last line without a
    /// newline (a log cut while being written) is returned like any other.
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        // std's read_until finds the newline with its optimised memchr; the
        // take() caps what one line may add to the buffer.
        let n = (&mut self.inner)
            .take(MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            self.done = true;
            return Ok(None);
        }
        let mut truncated = false;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() >= MAX_LINE_BYTES {
            truncated = true;
            self.skip_rest()?;
        } else {
            self.done = true;
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        let binary = self
            .buf
            .iter()
            .any(|&b| b == 0 || (b < 0x20 && b != b'\t' && b != 0x1b && b != b'\r'));
        let (text, invalid_utf8) = match std::str::from_utf8(&self.buf) {
            Ok(s) => (s.to_string(), false),
            Err(e) => {
                // A cut in the middle of a character at the cap is not an
                // encoding error of the input.
                let cut_at_cap = truncated && e.error_len().is_none();
                (String::from_utf8_lossy(&self.buf).into_owned(), !cut_at_cap)
            }
        };
        Ok(Some(Line {
            number: self.number,
            text,
            truncated,
            invalid_utf8,
            binary,
        }))
    }
}

impl<R: BufRead> Lines<R> {
    /// Reads and drops the rest of an over-long line, a capped chunk at a
    /// time.
    fn skip_rest(&mut self) -> std::io::Result<()> {
        let mut scratch = Vec::with_capacity(MAX_LINE_BYTES);
        loop {
            scratch.clear();
            let n = (&mut self.inner)
                .take(MAX_LINE_BYTES as u64)
                .read_until(b'\n', &mut scratch)?;
            if n == 0 {
                self.done = true;
                return Ok(());
            }
            if scratch.last() == Some(&b'\n') {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<Line> {
        let mut r = Lines::new(std::io::BufReader::with_capacity(7, input));
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l);
        }
        out
    }

    #[test]
    fn crlf_and_unterminated_last_line() {
        let l = all(b"a\r\nb\nc");
        let t: Vec<&str> = l.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(t, ["a", "b", "c"]);
        assert_eq!(l[2].number, 3);
        assert!(all(b"").is_empty());
        assert_eq!(all(b"\n").len(), 1);
    }

    #[test]
    fn long_lines_are_capped_and_the_next_line_survives() {
        let mut input = vec![b'x'; MAX_LINE_BYTES * 3];
        input.extend_from_slice(b"\nnext\n");
        let l = all(&input);
        assert_eq!(l.len(), 2);
        assert!(l[0].truncated);
        assert_eq!(l[0].text.len(), MAX_LINE_BYTES);
        assert_eq!(l[1].text, "next");
        assert!(!l[1].truncated);
    }

    #[test]
    fn binary_and_invalid_utf8_are_flagged() {
        let l = all(b"ok\n\xff\xfeab\nnul\0here\n");
        assert!(!l[0].binary && !l[0].invalid_utf8);
        assert!(l[1].invalid_utf8);
        assert!(l[2].binary);
    }
}
