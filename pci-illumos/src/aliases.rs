//! Binding files of the kernel: the aliases files (`ppt_aliases`,
//! `driver_aliases`) and the other files the prediction needs
//! (`name_to_major`, `path_to_inst`).
//!
//! The kernel reads `/etc/ppt_aliases` and then `/etc/driver_aliases` with
//! the same parser (illumos-gate `usr/src/uts/common/os/modsysfile.c`:
//! `make_aliases` calls `parse_aliases` on each, which reads tokens from
//! `kobj_lex`; docs/illumos.md). This module is the one reading of that
//! syntax in pptctl, for the prediction, `match`, the editors and the
//! fleet alike:
//!
//! * [`lexer`]: `kobj_lex`, each token with its byte range;
//! * [`interpret`]: `parse_aliases`, what each line binds;
//! * [`diagnostics`]: what is wrong with a line, said once, with the line
//!   to write;
//! * [`binding_files`]: `name_to_major` and `path_to_inst`
//!   (`read_binding_file`), and the binding hash they all fill.

pub mod binding_files;
pub mod diagnostics;
pub mod entries;
pub mod interpret;
pub mod lexer;

pub use binding_files::{Binding, BindingTable, InstanceRecord, NameToMajor, PathToInst};
pub use entries::{AliasEntry, AliasFile, AliasLine, AliasLineProblem, Word};
pub use lexer::{Lexed, Lexer, Token};

use crate::files::{ConfigFiles, FileState};
use crate::root::ReadError;

/// Largest kernel binding file pptctl reads (the real `driver_aliases` is a
/// few tens of kilobytes; the kernel loads these whole at boot).
pub const MAX_BINDING_FILE: u64 = crate::files::MAX_CONFIG_FILE;

/// `/etc/ppt_aliases`, parsed by the kernel before `driver_aliases`.
pub const PPT_ALIASES: &str = "/etc/ppt_aliases";
/// `/etc/driver_aliases`.
pub const DRIVER_ALIASES: &str = "/etc/driver_aliases";
/// `/etc/name_to_major`: the drivers the kernel knows.
pub(crate) const NAME_TO_MAJOR: &str = "/etc/name_to_major";
/// `/etc/path_to_inst`: instance numbers per path and driver.
pub(crate) const PATH_TO_INST: &str = "/etc/path_to_inst";

/// Errors reading a kernel binding file.
#[derive(Debug, thiserror::Error)]
pub enum BindingFileError {
    /// The file exists but cannot be read; the error names the file, and
    /// the link when one was being followed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file is larger than [`MAX_BINDING_FILE`].
    #[error("{file} is {size} bytes, more than the {limit} bytes pptctl reads")]
    TooLarge {
        /// Host path.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Which copy of a kernel-read file is in effect in the captured `files`:
/// the boot-module copy under `/system/boot` when it exists (the kernel
/// searches `/system/boot` before `/`, docs/illumos.md), else the file
/// itself. Returns the host path and the bytes, or `None` when neither
/// exists.
pub fn kernel_file_in<'a>(
    files: &'a ConfigFiles,
    host_path: &str,
) -> Result<Option<(String, &'a [u8])>, BindingFileError> {
    let boot = format!("/system/boot{host_path}");
    for p in [boot.as_str(), host_path] {
        if let Some(bytes) = file_bytes(p, files.root(p))? {
            return Ok(Some((p.to_string(), bytes)));
        }
    }
    Ok(None)
}

/// The bytes of a captured file named `shown` in messages: `None` when it
/// does not exist, an error when it could not be read.
pub fn file_bytes<'a>(
    shown: &str,
    state: &'a FileState,
) -> Result<Option<&'a [u8]>, BindingFileError> {
    match state {
        FileState::Present(b) => Ok(Some(b)),
        FileState::Absent => Ok(None),
        FileState::TooLarge { size } => Err(BindingFileError::TooLarge {
            file: shown.to_string(),
            size: *size,
            limit: MAX_BINDING_FILE,
        }),
        FileState::Unreadable { kind, message } => Err(BindingFileError::Read(
            state.read_error(shown).unwrap_or_else(|| ReadError::Io {
                path: shown.to_string(),
                link: None,
                source: std::io::Error::new(*kind, message.clone()),
            }),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by libFuzzer (the `aliases` target, 40 inputs/s): every line
    /// of a file with problems was found again from the start of the file,
    /// so 8 copies of a real `driver_aliases` took 29 s under the fuzzer.
    /// 20,000 bad lines now parse in one pass, each problem with its text.
    #[test]
    fn many_bad_lines_keep_their_text() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("\"/pci@0,0/x@{i}\" {i} \"ppt\"\n"));
        }
        let n2m = NameToMajor::parse(b"ppt 1\n", "/etc/name_to_major");
        let f = AliasFile::parse(text.as_bytes(), "/etc/driver_aliases", Some(&n2m));
        assert_eq!(f.problems.len(), 20_000);
        assert_eq!(f.problems[19_999].line, 20_000);
        assert!(
            f.problems[19_999].text.contains("19999"),
            "{:?}",
            f.problems[19_999]
        );
    }
}
