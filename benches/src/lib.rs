//! Support for `pptctl` benchmarks: a generator of large synthetic hosts
//! built from real config spaces (the dumps in `shared/realdata`), written
//! as every input format pptctl reads — a Linux sysfs tree, an `lspci
//! -xxxx` dump, an illumos devinfo snapshot cache, a JSON host snapshot —
//! and `ppt_matches` files of many rules.

pub mod devinfo;
pub mod dump;
pub mod error;
pub mod fleet;
pub mod matches;
pub mod pool;
pub mod rng;
pub mod snapshot;
pub mod sysfs;
pub mod topology;

pub use error::GenError;
pub use pool::{Pool, Template};
pub use topology::{generate, GenFunction, GenHost, GenOptions};

use std::fs;
use std::path::{Path, PathBuf};

/// The formats [`write_all`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// `DIR/sysfs` (a tree with `bus/` and `devices/`).
    pub sysfs: bool,
    /// `DIR/lspci-xxxx.txt`.
    pub dump: bool,
    /// `DIR/snapshot_cache`.
    pub devinfo: bool,
    /// `DIR/snapshot.json`.
    pub json: bool,
    /// `DIR/ppt_matches` with this many rules.
    pub matches: Option<usize>,
}

impl Formats {
    /// Every format, with `rules` ppt_matches rules.
    pub fn all(rules: usize) -> Self {
        Formats {
            sysfs: true,
            dump: true,
            devinfo: true,
            json: true,
            matches: Some(rules),
        }
    }
}

/// Paths of what [`write_all`] wrote.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The sysfs root (give `--from sysfs:` this path).
    pub sysfs: Option<PathBuf>,
    /// The dump file.
    pub dump: Option<PathBuf>,
    /// The devinfo snapshot cache.
    pub devinfo: Option<PathBuf>,
    /// The JSON snapshot.
    pub json: Option<PathBuf>,
    /// The ppt_matches file.
    pub matches: Option<PathBuf>,
}

fn put(path: PathBuf, bytes: &[u8]) -> Result<PathBuf, GenError> {
    fs::write(&path, bytes).map_err(|e| GenError::io(&path, e))?;
    Ok(path)
}

/// Writes the requested formats of `host` into `dir` (created if needed).
pub fn write_all(
    host: &GenHost,
    dir: &Path,
    formats: Formats,
    seed: u64,
) -> Result<Written, GenError> {
    fs::create_dir_all(dir).map_err(|e| GenError::io(dir, e))?;
    let mut w = Written::default();
    if formats.sysfs {
        w.sysfs = Some(sysfs::write_sysfs(host, &dir.join("sysfs"))?);
    }
    if formats.dump {
        w.dump = Some(put(
            dir.join("lspci-xxxx.txt"),
            dump::dump_text(host).as_bytes(),
        )?);
    }
    if formats.devinfo {
        w.devinfo = Some(put(
            dir.join("snapshot_cache"),
            &devinfo::snapshot_bytes(host),
        )?);
    }
    if formats.json {
        w.json = Some(put(
            dir.join("snapshot.json"),
            snapshot::snapshot_json(host)?.as_bytes(),
        )?);
    }
    if let Some(rules) = formats.matches {
        w.matches = Some(put(
            dir.join("ppt_matches"),
            matches::matches_text(host, rules, seed).as_bytes(),
        )?);
    }
    Ok(w)
}

/// Generates a host of `functions` functions from the real data at
/// `realdata` and writes the requested formats into `dir`.
pub fn generate_into(
    realdata: &Path,
    functions: usize,
    seed: u64,
    dir: &Path,
    formats: Formats,
) -> Result<(GenHost, Written), GenError> {
    let pool = Pool::from_realdata(realdata)?;
    let host = generate(
        &pool,
        &GenOptions {
            functions,
            seed,
            full_config: true,
        },
    )?;
    let w = write_all(&host, dir, formats, seed)?;
    Ok((host, w))
}

/// A temporary directory for generated hosts: `$PPTCTL_BENCH_TMP` if set,
/// else `/dev/shm` when it is a writable directory (tmpfs, in memory like
/// a real sysfs, and much faster to fill than a disk), else the system
/// temporary directory. Removed when dropped.
pub fn bench_tempdir() -> Result<tempfile::TempDir, GenError> {
    let base = std::env::var_os("PPTCTL_BENCH_TMP")
        .map(PathBuf::from)
        .or_else(|| {
            let shm = PathBuf::from("/dev/shm");
            shm.is_dir().then_some(shm)
        });
    let made = match &base {
        Some(b) => tempfile::Builder::new()
            .prefix("pptctl-bench-")
            .tempdir_in(b),
        None => tempfile::Builder::new().prefix("pptctl-bench-").tempdir(),
    };
    match made {
        Ok(d) => Ok(d),
        // /dev/shm may exist read-only; fall back to the usual place.
        Err(_) if base.is_some() => tempfile::Builder::new()
            .prefix("pptctl-bench-")
            .tempdir()
            .map_err(|e| GenError::io(std::env::temp_dir(), e)),
        Err(e) => Err(GenError::io(std::env::temp_dir(), e)),
    }
}
