#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::temp::TMP_INFIX;

#[test]
fn creates_replaces_and_backs_up() {
    let t = tempfile::tempdir().unwrap();
    let tree = Tree::new(t.path()).unwrap();
    let p = tree.root().join("etc/ppt_aliases");
    assert_eq!(tree.write(&p, b"one\n").unwrap(), WriteOutcome::Created);
    assert_eq!(tree.write(&p, b"one\n").unwrap(), WriteOutcome::Unchanged);
    assert!(!tree.backup_path(&p).exists());
    assert_eq!(tree.write(&p, b"two\n").unwrap(), WriteOutcome::Replaced);
    assert_eq!(fs::read(&p).unwrap(), b"two\n");
    assert_eq!(
        tree.backup_path(&p),
        tree.root().join(".pptctl-backup/etc/ppt_aliases")
    );
    assert_eq!(fs::read(tree.backup_path(&p)).unwrap(), b"one\n");
    let real = tree.resolve(&p).unwrap();
    let dir = real.parent().unwrap();
    let lock = DirLock::acquire(dir).unwrap();
    assert!(dir.join(LOCK_NAME).exists());
    // The holder names itself in the lock file, for a waiter's message.
    let stamp = fs::read_to_string(dir.join(LOCK_NAME)).unwrap();
    assert!(
        stamp.starts_with(&format!("pid {}: ", std::process::id())) && stamp.ends_with('\n'),
        "{stamp:?}"
    );
    assert_eq!(tree.remove_locked(&real).unwrap(), WriteOutcome::Removed);
    drop(lock);
    assert!(!dir.join(LOCK_NAME).exists(), "the lock file stays");
    assert!(!p.exists());
    assert_eq!(fs::read(tree.backup_path(&p)).unwrap(), b"two\n");
    assert!(tree.remove_backups().unwrap());
    assert!(!tree.backup_dir().exists());
    assert!(!tree.remove_backups().unwrap());
    let names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(TMP_INFIX)), "{names:?}");
}

#[test]
fn keeps_mode() {
    let t = tempfile::tempdir().unwrap();
    let tree = Tree::new(t.path()).unwrap();
    let p = tree.root().join("menu.lst");
    fs::write(&p, b"a").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    tree.write(&p, b"b").unwrap();
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
    assert_eq!(
        fs::metadata(tree.backup_path(&p)).unwrap().mode() & 0o7777,
        0o640
    );
}

#[test]
fn follows_links_inside_and_refuses_links_outside() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let tree = Tree::new(t.path()).unwrap();
    let r = tree.root();
    fs::create_dir_all(r.join("real")).unwrap();
    fs::write(r.join("real/file"), b"x").unwrap();
    std::os::unix::fs::symlink("real/file", r.join("rel")).unwrap();
    std::os::unix::fs::symlink(r.join("real"), r.join("absdir")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("f"), r.join("out")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../tmp", r.join("up")).unwrap();

    tree.write(&r.join("rel"), b"y").unwrap();
    assert!(fs::symlink_metadata(r.join("rel"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(r.join("real/file")).unwrap(), b"y");
    tree.write(&r.join("absdir/file"), b"z").unwrap();
    assert_eq!(fs::read(r.join("real/file")).unwrap(), b"z");

    for bad in ["out", "up/x", "../x"] {
        let e = tree.write(&r.join(bad), b"no").unwrap_err();
        assert!(matches!(e, AtomicError::Escapes { .. }), "{bad}: {e}");
    }
    assert!(!outside.path().join("f").exists());
}

#[test]
fn refuses_directories() {
    let t = tempfile::tempdir().unwrap();
    let tree = Tree::new(t.path()).unwrap();
    fs::create_dir(tree.root().join("d")).unwrap();
    let e = tree.write(&tree.root().join("d"), b"x").unwrap_err();
    assert!(matches!(e, AtomicError::NotRegular { .. }));
}

#[test]
fn stale_temps_are_removed() {
    let t = tempfile::tempdir().unwrap();
    let tree = Tree::new(t.path()).unwrap();
    let p = tree.root().join("f");
    let stale = tree.root().join(".f.pptctl-tmp-1-0");
    fs::write(&stale, b"partial").unwrap();
    tree.write(&p, b"ok").unwrap();
    assert!(!stale.exists());
}

#[test]
fn backup_dir_can_be_chosen_and_stays_inside() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let tree = Tree::new(t.path())
        .unwrap()
        .with_backup_dir(Path::new("var/pptctl/backup"));
    let p = tree.root().join("etc/ppt_aliases");
    tree.write(&p, b"a").unwrap();
    tree.write(&p, b"b").unwrap();
    assert_eq!(
        fs::read(tree.root().join("var/pptctl/backup/etc/ppt_aliases")).unwrap(),
        b"a"
    );
    // A backup directory that is a link out of the tree is refused.
    let tree = Tree::new(t.path()).unwrap();
    std::os::unix::fs::symlink(outside.path(), tree.backup_dir()).unwrap();
    let e = tree.write(&p, b"c").unwrap_err();
    assert!(matches!(e, AtomicError::Escapes { .. }), "{e}");
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn stop_gives_up_before_locking() {
    let t = tempfile::tempdir().unwrap();
    let e = DirLock::acquire_until(t.path(), &|| true).unwrap_err();
    assert!(matches!(e, AtomicError::Interrupted));
    let e = lock_dirs_until([t.path()], &|| true).unwrap_err();
    assert!(matches!(e, AtomicError::Interrupted));
}
