//! The generator's error type.

use std::path::PathBuf;

/// Why a synthetic host could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The real-data directory holds no usable config spaces.
    #[error(
        "no usable config spaces found under {0} (the generator builds hosts from real dumps)"
    )]
    NoTemplates(PathBuf),
    /// A request the generator cannot satisfy.
    #[error("{0}")]
    Invalid(String),
    /// Serialising the JSON snapshot failed.
    #[error("JSON snapshot: {0}")]
    Json(#[from] serde_json::Error),
}

impl GenError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GenError::Io {
            path: path.into(),
            source,
        }
    }
}
