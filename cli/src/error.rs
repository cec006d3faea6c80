//! The one error type of the front end: a message for the user and the exit
//! code it maps to.

use std::process::ExitCode;

/// An error the front end reports and exits with.
#[derive(Debug)]
pub struct CliError {
    /// What failed, where, and what to do next.
    pub message: String,
    /// Process exit code (1 = result is wrong/failed, 2 = usage or unreadable input).
    pub code: u8,
}

impl CliError {
    /// Unreadable input or bad usage: exit 2.
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
        }
    }

    /// A failure of the operation itself: exit 1.
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 1,
        }
    }

    /// Prints `pptctl: message` on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.message.is_empty() {
            // The last guard: values should be escaped where they enter
            // the message; no control byte reaches the terminal either way.
            eprintln!("pptctl: {}", pci_core::text::guard(&self.message));
        }
        ExitCode::from(self.code)
    }
}

/// The largest vmadm payload read (real ones are a few KiB).
const MAX_PAYLOAD: u64 = 16 << 20;

/// Reads a vmadm payload file given on the command line, refusing one
/// larger than [`MAX_PAYLOAD`] without reading it whole. Errors name the
/// file as the user gave it (exit 2).
pub fn read_payload(file: &std::path::Path) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let shown = pci_core::text::EscapedPath(file);
    // The library's wording: a permission error says what to do.
    let reason = |e| pci_illumos::root::ReadError::from_io(shown.to_string(), e).reason();
    let f = hostfs::open_regular(file)
        .map_err(|e| CliError::input(format!("{shown}: cannot read: {}", reason(e))))?;
    let mut bytes = Vec::new();
    f.take(MAX_PAYLOAD + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::input(format!("{shown}: cannot read: {}", reason(e))))?;
    if bytes.len() as u64 > MAX_PAYLOAD {
        return Err(CliError::input(format!(
            "{shown}: larger than {MAX_PAYLOAD} bytes; not a vmadm payload"
        )));
    }
    Ok(bytes)
}
