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
            eprintln!("pptctl: {}", self.message);
        }
        ExitCode::from(self.code)
    }
}
