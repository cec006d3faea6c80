//! The writer of created files against what a hostile neighbour plants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{symlink, FileTypeExt, PermissionsExt};
use std::path::Path;

use super::temp::{open_new, temp_name};
use super::{write_file, CreateError, NewFile};
use crate::FileKind;

fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; the result is checked.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
}

/// A sticky, world-writable directory and a victim file outside it.
fn setup() -> (tempfile::TempDir, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o1777)).unwrap();
    let other = tempfile::tempdir().unwrap();
    let victim = other.path().join("victim");
    fs::write(&victim, "VICTIM").unwrap();
    (dir, other, victim)
}

/// Whatever is planted at a temporary name (a link to a victim, a dangling
/// link, a FIFO) is never opened: creation says it exists, at once.
#[test]
fn a_temporary_name_is_never_opened_through_what_is_planted() {
    let (dir, _o, victim) = setup();
    let target = dir.path().join("report.html");
    let link = temp_name(&target);
    symlink(&victim, &link).unwrap();
    let dangling = temp_name(&target);
    symlink(dir.path().join("nothing"), &dangling).unwrap();
    let fifo = temp_name(&target);
    mkfifo(&fifo);
    for p in [&link, &dangling, &fifo] {
        let e = open_new(p, 0o644).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{}", p.display());
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "VICTIM");
    assert!(!dir.path().join("nothing").exists());
    // The writer itself picks other, unpredictable names.
    assert_ne!(temp_name(&target), temp_name(&target));
    write_file(&target, b"page").unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"page");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "VICTIM");
}

#[test]
fn a_link_at_the_target_is_replaced_and_a_fifo_refused() {
    let (dir, _o, victim) = setup();
    let target = dir.path().join("a.html");
    symlink(&victim, &target).unwrap();
    write_file(&target, b"new").unwrap();
    assert!(fs::symlink_metadata(&target).unwrap().is_file());
    assert_eq!(fs::read_to_string(&victim).unwrap(), "VICTIM");

    let fifo = dir.path().join("f.html");
    mkfifo(&fifo);
    let e = write_file(&fifo, b"x").unwrap_err();
    assert!(
        matches!(
            e,
            CreateError::NotRegular {
                found: FileKind::Fifo,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("FIFO"), "{e}");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let e = write_file(dir.path(), b"x").unwrap_err();
    assert!(matches!(e, CreateError::IsDirectory { .. }), "{e}");
    let slash = format!("{}/", dir.path().join("new").display());
    let e = write_file(&slash, b"x").unwrap_err();
    assert!(matches!(e, CreateError::IsDirectory { .. }), "{e}");
}

/// A write abandoned before commit leaves the target as it was and no
/// temporary file; an existing file keeps its mode.
#[test]
fn an_abandoned_write_leaves_nothing_and_a_commit_keeps_the_mode() {
    let (dir, _o, _v) = setup();
    let target = dir.path().join("page.html");
    fs::write(&target, "old").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
    let mut f = NewFile::create(&target).unwrap();
    f.write_all(b"half").unwrap();
    drop(f);
    assert_eq!(fs::read_to_string(&target).unwrap(), "old");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    let mut f = NewFile::create(&target).unwrap();
    f.write_all(b"whole").unwrap();
    f.commit().unwrap();
    assert_eq!(fs::read_to_string(&target).unwrap(), "whole");
    let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// A link or FIFO planted at a directory's lock name is refused, not
/// followed or waited on.
#[test]
fn a_planted_lock_file_is_refused() {
    let (dir, _o, victim) = setup();
    symlink(&victim, dir.path().join(super::LOCK_NAME)).unwrap();
    let e = super::DirLock::acquire(dir.path()).unwrap_err();
    assert!(e.to_string().contains("opening lock file"), "{e}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "VICTIM");
    fs::remove_file(dir.path().join(super::LOCK_NAME)).unwrap();
    mkfifo(&dir.path().join(super::LOCK_NAME));
    let e = super::DirLock::acquire(dir.path()).unwrap_err();
    assert!(e.to_string().contains("FIFO"), "{e}");
}
