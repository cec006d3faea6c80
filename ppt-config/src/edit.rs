//! What the lossless editors share: splitting text into lines that keep
//! their exact terminators, and the error type naming file and line.

/// Why a file could not be read into a lossless model or edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// A line the editor cannot safely keep or change.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// Host path of the file, as the user knows it.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A problem with the file as a whole, or with a requested edit.
    #[error("{file}: {message}")]
    File {
        /// Host path of the file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// One line of a file: its exact bytes including the terminator (`\n`,
/// `\r\n`, or nothing on an unterminated last line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// The line as it is in the file, terminator included.
    pub raw: String,
}

impl RawLine {
    /// A new line with the given content and terminator.
    pub fn new(content: &str, terminator: &str) -> Self {
        RawLine {
            raw: format!("{content}{terminator}"),
        }
    }

    /// The line without its terminator (`\n` or `\r\n`).
    pub fn content(&self) -> &str {
        // Only `\r\n` and `\n` end a line: a lone `\r` at the end of the
        // file is content, or a line appended after it would be glued to it
        // (`\rpci10de,a65`, which libppt and the kernel do not read).
        match self.raw.strip_suffix("\r\n") {
            Some(s) => s,
            None => self.raw.strip_suffix('\n').unwrap_or(&self.raw),
        }
    }

    /// The terminator (`\n`, `\r\n` or empty).
    pub(crate) fn terminator(&self) -> &str {
        &self.raw[self.content().len()..]
    }
}

/// Splits `text` after every `\n`, keeping every byte.
pub(crate) fn split_lines(text: &str) -> Vec<RawLine> {
    text.split_inclusive('\n')
        .map(|s| RawLine { raw: s.to_string() })
        .collect()
}

/// The terminator a file uses (the first one found), `\n` by default, so new
/// lines match the file's style.
pub(crate) fn file_terminator(lines: &[RawLine]) -> &'static str {
    match lines
        .iter()
        .map(RawLine::terminator)
        .find(|t| !t.is_empty())
    {
        Some("\r\n") => "\r\n",
        _ => "\n",
    }
}

/// Makes sure the last line is terminated before a line is appended after it.
pub(crate) fn terminate_last(lines: &mut [RawLine], terminator: &str) {
    if let Some(last) = lines.last_mut() {
        if last.terminator().is_empty() {
            last.raw.push_str(terminator);
        }
    }
}

/// Decodes file bytes as UTF-8, naming the first bad line.
pub fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, EditError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        EditError::Syntax {
            file: file.to_string(),
            line,
            message: "not valid UTF-8; refusing to edit a file it cannot keep byte for byte".into(),
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_every_byte() {
        for text in ["", "a", "a\n", "a\r\nb", "\n\n", "x\ny\r\n"] {
            let lines = split_lines(text);
            let back: String = lines.iter().map(|l| l.raw.as_str()).collect();
            assert_eq!(back, text);
        }
        let l = split_lines("a\r\nb");
        assert_eq!(l[0].content(), "a");
        assert_eq!(l[0].terminator(), "\r\n");
        assert_eq!(l[1].terminator(), "");
        assert_eq!(file_terminator(&l), "\r\n");
    }

    #[test]
    fn bad_utf8_names_the_line() {
        let e = decode("/etc/x", b"ok\nok\n\xff\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/x:3: not valid UTF-8; refusing to edit a file it cannot keep byte for byte"
        );
    }
}
