#![allow(clippy::unwrap_used)]
use super::*;
use crate::error::{ReadError, MAX_SYMLINKS};
use crate::read::read_limited;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::symlink;

thread_local! {
    /// Makes this thread's reads take the component walk, as where
    /// `openat2` is missing (illumos, old Linux, seccomp).
    pub(super) static FORCE_WALK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Every read method gives the same answer through `openat2` and
/// through the walk alone, on every path of the escape fixture.
#[test]
fn every_method_agrees_with_the_walk() {
    let f = fixture();
    symlink(f.outside.join("x"), f.root.join("etc/abs_host")).unwrap();
    symlink("/tmp/x", f.root.join("etc/abs_root")).unwrap();
    symlink("../../../../tmp", f.root.join("etc/dir_rel")).unwrap();
    symlink(&f.outside, f.root.join("etc/dir_host")).unwrap();
    symlink("b", f.root.join("etc/a")).unwrap();
    symlink("a", f.root.join("etc/b")).unwrap();
    let r = HostRoot::held(&f.root).unwrap();
    let paths = [
        "/",
        "/etc",
        "/tmp/x",
        "/etc/abs_host",
        "/etc/abs_root",
        "/etc/dir_rel",
        "/etc/dir_rel/x",
        "/etc/dir_host",
        "/etc/dir_host/x",
        "/etc/a",
        "/nothing",
        "/tmp/x/deeper",
        "/../../tmp/x",
    ];
    let all = |p: &str| {
        let kind = |m: Result<Metadata, ReadError>| {
            m.map(|m| (m.is_dir(), m.is_file(), m.file_type().is_symlink(), m.len()))
                .map_err(|e| e.to_string())
        };
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            r.read(p, 100).map_err(|e| e.to_string()),
            r.try_read(p, 100).map_err(|e| e.to_string()),
            r.read_link(p).map_err(|e| e.to_string()),
            r.try_read_link(p).map_err(|e| e.to_string()),
            r.read_dir(p).map_err(|e| e.to_string()),
            kind(r.metadata(p)),
            kind(r.symlink_metadata(p)),
            r.canonical(p).map_err(|e| e.to_string()),
        )
    };
    // Only the walk names the link an error went through (openat2 does
    // not say); the answers must be the same otherwise.
    let without_link = |mut s: String| {
        while let Some(i) = s.find(" (through the link ") {
            let end = s[i..].find(')').map_or(s.len(), |j| i + j + 1);
            s.replace_range(i..end, "");
        }
        s
    };
    for p in paths {
        let fast = all(p);
        FORCE_WALK.with(|w| w.set(true));
        let walked = all(p);
        FORCE_WALK.with(|w| w.set(false));
        assert_eq!(without_link(fast.clone()), without_link(walked), "{p}");
        assert!(!fast.contains("HOST"), "{p}: {fast}");
    }
}

#[test]
fn joins_under_root() {
    let r = HostRoot::new("/tmp/x");
    assert_eq!(
        r.path("/etc/ppt_matches"),
        PathBuf::from("/tmp/x/etc/ppt_matches")
    );
    assert_eq!(
        HostRoot::new("/").path("/dev/ppt0"),
        PathBuf::from("/dev/ppt0")
    );
    assert!(HostRoot::new("/").is_host());
    assert!(!HostRoot::new("/tmp/x").is_host());
}

/// A root and, beside it, a "host" directory whose file must never be
/// read through the root.
struct Fixture {
    _t: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("root");
    let outside = t.path().join("host");
    for d in ["etc", "tmp", "data/sub", "devices"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("tmp/x"), b"root").unwrap();
    std::fs::write(root.join("data/sub/f"), b"root").unwrap();
    std::fs::write(outside.join("x"), b"HOST").unwrap();
    Fixture {
        _t: t,
        root,
        outside,
    }
}

/// Opens through openat2 (where present) and through the walk; both
/// must agree.
fn read_both(r: &HostRoot, p: &str) -> Result<Vec<u8>, String> {
    let a = r.read(p, 1 << 20).map_err(|e| e.to_string());
    let b = r
        .open_fd_walk(p, libc::O_RDONLY)
        .map_err(|e| e.to_string())
        .and_then(|fd| read_limited(File::from(fd), p, 1 << 20).map_err(|e| e.to_string()));
    assert_eq!(a, b, "openat2 and the walk disagree on {p}");
    let c = HostRoot::held(r.dir())
        .unwrap()
        .read(p, 1 << 20)
        .map_err(|e| e.to_string());
    assert_eq!(a, c, "a held root disagrees on {p}");
    a
}

#[test]
fn absolute_link_stays_in_root() {
    let f = fixture();
    let out = f.outside.join("x");
    symlink(&out, f.root.join("etc/abs_host")).unwrap();
    symlink("/tmp/x", f.root.join("etc/abs_root")).unwrap();
    let r = HostRoot::new(&f.root);
    // A link to the host's own path of the outside file: read as
    // ROOT/<that path>, which does not exist.
    let e = read_both(&r, "/etc/abs_host").unwrap_err();
    assert!(e.contains("/etc/abs_host"), "{e}");
    assert!(
        e.contains(&out.display().to_string()),
        "names the link: {e}"
    );
    assert_eq!(read_both(&r, "/etc/abs_root").unwrap(), b"root");
}

#[test]
fn relative_dotdot_chain_clamps_at_root() {
    let f = fixture();
    symlink("../../../../../../../../tmp/x", f.root.join("etc/rel")).unwrap();
    symlink("../host/x", f.root.join("etc/up")).unwrap();
    let r = HostRoot::new(&f.root);
    assert_eq!(read_both(&r, "/etc/rel").unwrap(), b"root");
    assert!(read_both(&r, "/etc/up").is_err());
    // `..` in the host path itself.
    assert_eq!(read_both(&r, "/../../etc/../tmp/x").unwrap(), b"root");
    assert!(read_both(&r, "/../host/x").is_err());
}

#[test]
fn link_in_intermediate_directory() {
    let f = fixture();
    symlink(&f.outside, f.root.join("etc/dir_abs")).unwrap();
    symlink("../../..", f.root.join("data/sub/up")).unwrap();
    symlink("/data", f.root.join("etc/d")).unwrap();
    let r = HostRoot::new(&f.root);
    assert!(read_both(&r, "/etc/dir_abs/x").is_err());
    assert_eq!(read_both(&r, "/data/sub/up/tmp/x").unwrap(), b"root");
    assert_eq!(read_both(&r, "/etc/d/sub/f").unwrap(), b"root");
    assert!(read_both(&r, "/data/sub/up/host/x").is_err());
    // The other read methods resolve the same way.
    let names = r.read_dir("/etc/d/sub").unwrap();
    assert!(names.iter().any(|n| n == "f"), "{names:?}");
    assert!(r.read_dir("/etc/dir_abs").is_err());
    assert!(r.is_file("/etc/d/sub/f"));
    assert!(!r.exists("/etc/dir_abs/x"));
    assert_eq!(
        r.resolve("/data/sub/up/tmp/x").unwrap(),
        f.root.join("tmp/x")
    );
}

#[test]
fn loop_names_the_link() {
    let f = fixture();
    symlink("b", f.root.join("etc/a")).unwrap();
    symlink("a", f.root.join("etc/b")).unwrap();
    let r = HostRoot::new(&f.root);
    let e = read_both(&r, "/etc/a").unwrap_err();
    assert!(e.contains("/etc/a") && e.contains("symbolic links"), "{e}");
    assert!(
        e.contains("/etc/b -> a") || e.contains("/etc/a -> b"),
        "{e}"
    );
    assert!(matches!(
        r.metadata("/etc/a"),
        Err(ReadError::LinkLoop { .. })
    ));
}

#[test]
fn forty_links_resolve_forty_one_do_not() {
    let f = fixture();
    std::fs::write(f.root.join("etc/l0"), b"end").unwrap();
    for i in 1..=MAX_SYMLINKS + 1 {
        symlink(format!("l{}", i - 1), f.root.join(format!("etc/l{i}"))).unwrap();
    }
    let r = HostRoot::new(&f.root);
    assert_eq!(
        read_both(&r, &format!("/etc/l{MAX_SYMLINKS}")).unwrap(),
        b"end"
    );
    let e = read_both(&r, &format!("/etc/l{}", MAX_SYMLINKS + 1)).unwrap_err();
    assert!(e.contains("symbolic links"), "{e}");
}

#[test]
fn read_link_and_symlink_metadata_do_not_follow_the_last() {
    let f = fixture();
    symlink("/devices/x", f.root.join("etc/ppt0")).unwrap();
    symlink("/etc", f.root.join("data/e")).unwrap();
    let r = HostRoot::new(&f.root);
    assert_eq!(
        r.read_link("/data/e/ppt0").unwrap(),
        PathBuf::from("/devices/x")
    );
    assert!(r
        .symlink_metadata("/data/e/ppt0")
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!r.exists("/data/e/ppt0"));
}

#[test]
fn size_limit() {
    let f = fixture();
    let r = HostRoot::new(&f.root);
    assert_eq!(r.read("/tmp/x", 4).unwrap(), b"root");
    let e = r.read("/tmp/x", 3).unwrap_err();
    assert!(
        matches!(
            e,
            ReadError::TooLarge {
                size: 4,
                limit: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(r.read_to_string("/tmp/x", 10).unwrap(), "root");
}

#[test]
fn not_found_is_not_found() {
    let f = fixture();
    let r = HostRoot::new(&f.root);
    let e = r.open("/etc/nothing").unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.path(), "/etc/nothing");
    assert!(!r.exists("/etc/nothing"));
}

#[test]
fn permission_error_says_what_to_do() {
    let e = ReadError::from_io(
        "/etc/ppt_matches",
        io::Error::from_raw_os_error(libc::EACCES),
    );
    let s = e.to_string();
    assert!(
        s.starts_with("cannot read /etc/ppt_matches: Permission denied"),
        "{s}"
    );
    assert!(
        s.contains("pfexec or sudo") && s.contains("--from snapshot:"),
        "{s}"
    );
}

/// A FIFO or device under the root is named and refused at once, through
/// `openat2` and through the walk, by every reading method.
#[test]
fn a_fifo_in_the_root_is_refused_not_waited_for() {
    let f = fixture();
    let c = std::ffi::CString::new(f.root.join("etc/fifo").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; the result is checked.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
    symlink("/etc/fifo", f.root.join("etc/to_fifo")).unwrap();
    let r = HostRoot::held(&f.root).unwrap();
    for walk in [false, true] {
        FORCE_WALK.with(|w| w.set(walk));
        for p in ["/etc/fifo", "/etc/to_fifo"] {
            for e in [
                r.read(p, 10).unwrap_err(),
                r.try_read(p, 10).unwrap_err(),
                r.open(p).unwrap_err(),
            ] {
                assert!(
                    e.to_string()
                        .contains("a FIFO (named pipe), not a regular file"),
                    "{e}"
                );
                assert!(e.to_string().contains(p), "{e}");
            }
        }
        assert!(r.open_device("/etc/fifo").is_err());
    }
    FORCE_WALK.with(|w| w.set(false));
    let host = HostRoot::new("/");
    let e = host.read("/dev/zero", 10).unwrap_err();
    assert!(e.to_string().contains("a character device"), "{e}");
}
