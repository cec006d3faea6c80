//! Reading a whole file with a size limit.

use std::fs::File;
use std::io::Read;

use crate::error::ReadError;

/// Reads at most `limit` bytes of `f` (errors name `host_path`), refusing a
/// larger file ([`ReadError::TooLarge`]): by its size first, and while
/// reading for one that grows.
pub fn read_limited(f: File, host_path: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
    let size = f
        .metadata()
        .map_err(|e| ReadError::from_io(host_path, e))?
        .len();
    let too_large = |size| ReadError::TooLarge {
        path: host_path.to_string(),
        size,
        limit,
    };
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::from_io(host_path, e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}
