//! Bounds-checked reads from snapshot bytes in the writer's byte order.
//!
//! Every `di_off_t` in a snapshot is a signed 32-bit byte offset from the
//! start of the buffer (`di_off_t`, illumos-gate `devinfo_impl.h`). Nothing here trusts an
//! offset: each read checks it against the valid length (`map_size`).

use super::DevinfoError;

/// Byte order of the writer (x86 files are little-endian, SPARC big-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endian {
    /// Little-endian (x86).
    Little,
    /// Big-endian (SPARC).
    Big,
}

/// A view of the valid part of a snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Buf<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) endian: Endian,
}

impl<'a> Buf<'a> {
    fn slice(&self, at: usize, n: usize, what: &'static str) -> Result<&'a [u8], DevinfoError> {
        at.checked_add(n)
            .and_then(|end| self.data.get(at..end))
            .ok_or(DevinfoError::OutOfBounds {
                what,
                offset: at as i64,
                len: self.data.len(),
            })
    }

    /// A 32-bit unsigned value at `at`.
    pub(crate) fn u32(&self, at: usize, what: &'static str) -> Result<u32, DevinfoError> {
        let s = self.slice(at, 4, what)?;
        let b = [s[0], s[1], s[2], s[3]];
        Ok(match self.endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    /// A 32-bit signed value at `at`.
    pub(crate) fn i32(&self, at: usize, what: &'static str) -> Result<i32, DevinfoError> {
        self.u32(at, what).map(|v| v as i32)
    }

    /// A 64-bit unsigned value at `at`.
    pub(crate) fn u64(&self, at: usize, what: &'static str) -> Result<u64, DevinfoError> {
        let s = self.slice(at, 8, what)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        Ok(match self.endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }

    /// Raw bytes `at..at+n`.
    pub(crate) fn bytes(
        &self,
        at: usize,
        n: usize,
        what: &'static str,
    ) -> Result<&'a [u8], DevinfoError> {
        self.slice(at, n, what)
    }

    /// Reads the `di_off_t` stored at `at` and checks it: 0 is "none",
    /// `-1` is "none" where `minus_one_ok`, anything else must lie inside
    /// the buffer.
    pub(crate) fn off(
        &self,
        at: usize,
        what: &'static str,
        minus_one_ok: bool,
    ) -> Result<Option<usize>, DevinfoError> {
        let v = self.i32(at, what)?;
        self.check_off(v, what, minus_one_ok)
    }

    /// Checks an offset value read elsewhere (see [`Buf::off`]).
    pub(crate) fn check_off(
        &self,
        v: i32,
        what: &'static str,
        minus_one_ok: bool,
    ) -> Result<Option<usize>, DevinfoError> {
        if v == 0 || (v == -1 && minus_one_ok) {
            return Ok(None);
        }
        if v < 0 || v as usize >= self.data.len() {
            return Err(DevinfoError::OutOfBounds {
                what,
                offset: i64::from(v),
                len: self.data.len(),
            });
        }
        Ok(Some(v as usize))
    }

    /// A NUL-terminated string starting at `at` (bytes that are not UTF-8
    /// are replaced, names are ASCII in practice).
    pub(crate) fn cstr(&self, at: usize, what: &'static str) -> Result<String, DevinfoError> {
        let rest = self.data.get(at..).ok_or(DevinfoError::OutOfBounds {
            what,
            offset: at as i64,
            len: self.data.len(),
        })?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(DevinfoError::Unterminated { what, offset: at })?;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// The string at the offset stored at `at`, `None` when the offset is
    /// 0 (or -1 where allowed).
    pub(crate) fn str_at_off(
        &self,
        at: usize,
        what: &'static str,
        minus_one_ok: bool,
    ) -> Result<Option<String>, DevinfoError> {
        match self.off(at, what, minus_one_ok)? {
            Some(o) => self.cstr(o, what).map(Some),
            None => Ok(None),
        }
    }
}

/// Splits a packed NUL-separated string list (compatible names, string
/// properties) into its strings; a trailing NUL does not add an empty entry.
pub(crate) fn split_strings(b: &[u8]) -> Vec<String> {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    if b.is_empty() {
        return Vec::new();
    }
    b.split(|&c| c == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}
