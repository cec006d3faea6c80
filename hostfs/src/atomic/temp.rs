//! Temporary files: created under a random name with
//! `O_CREAT | O_EXCL | O_NOFOLLOW`, so nothing planted at a name (a link, a
//! FIFO, a file) is ever opened, followed or truncated; the name cannot be
//! guessed ahead, and a collision only means another name is tried.

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Infix of temporary files (`.NAME.pptctl-tmp-RANDOM`).
pub(crate) const TMP_INFIX: &str = ".pptctl-tmp-";

/// How many random names are tried before giving up (each collision is a
/// name someone else holds; 16 in a row do not happen by chance).
const ATTEMPTS: usize = 16;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable bits: the standard library's per-process random hash
/// keys (seeded from the operating system), mixed with the process id, a
/// counter and the time.
fn random() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// A fresh temporary name beside `target`: `.NAME.pptctl-tmp-RANDOM`.
pub(crate) fn temp_name(target: &Path) -> PathBuf {
    let mut tmp = OsString::from(".");
    tmp.push(target.file_name().unwrap_or_default());
    tmp.push(format!("{TMP_INFIX}{:016x}", random()));
    target.with_file_name(tmp)
}

/// Creates the new file `path` for writing with `mode` (less the umask):
/// `O_CREAT | O_EXCL | O_NOFOLLOW`, so whatever already exists there,
/// a dangling link included, is `AlreadyExists` and left alone.
pub(crate) fn open_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// A new temporary file beside `target` and its name.
pub(crate) fn create_temp(target: &Path, mode: u32) -> io::Result<(File, PathBuf)> {
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..ATTEMPTS {
        let tmp = temp_name(target);
        match open_new(&tmp, mode) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Removes temporary files a killed writer left for `target` (a file or
/// its backup). Safe only under the directory lock of the file; failures
/// are ignored because a leftover temporary file is harmless. Removing
/// never follows a link.
pub(crate) fn remove_stale_temps(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}{TMP_INFIX}", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(prefix.as_str()) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// `fsync` of the directory `dir`, so a rename in it survives a power cut.
/// Some file systems (and platforms) refuse `fsync` on a directory; the
/// rename is still atomic there, only its durability is weaker.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    let d = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(dir)?;
    match d.sync_all() {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::EBADF)) => Ok(()),
        r => r,
    }
}
