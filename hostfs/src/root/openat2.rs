//! Linux `openat2(2)` with `RESOLVE_IN_ROOT` (Linux 5.6): the kernel
//! resolves the path as if the root were the process root.
use std::os::fd::{OwnedFd, RawFd};
use std::sync::atomic::{AtomicU8, Ordering};

/// `struct open_how` (include/uapi/linux/openat2.h).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// 0 unknown, 1 works, 2 unavailable (ENOSYS, or EPERM from seccomp).
static STATE: AtomicU8 = AtomicU8::new(0);

/// `None` when openat2 is unavailable; otherwise the result.
pub(super) fn open_in(
    root: RawFd,
    host_path: &str,
    flags: libc::c_int,
) -> Option<std::io::Result<OwnedFd>> {
    if STATE.load(Ordering::Relaxed) == 2 {
        return None;
    }
    let rel = host_path.trim_start_matches('/');
    let rel = if rel.is_empty() { "." } else { rel };
    let Ok(c) = std::ffi::CString::new(rel) else {
        return Some(Err(std::io::ErrorKind::InvalidInput.into()));
    };
    let how = OpenHow {
        flags: u64::from((flags | libc::O_CLOEXEC).unsigned_abs()),
        mode: 0,
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: the arguments match openat2(2): a directory descriptor we
    // hold, a C string, a pointer to `open_how` and its size.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if r < 0 {
        let e = std::io::Error::last_os_error();
        if matches!(
            e.raw_os_error(),
            Some(libc::ENOSYS) | Some(libc::EPERM) | Some(libc::E2BIG)
        ) && STATE.load(Ordering::Relaxed) != 1
        {
            STATE.store(2, Ordering::Relaxed);
            return None;
        }
        return Some(Err(e));
    }
    STATE.store(1, Ordering::Relaxed);
    Some(crate::sys::owned(r as libc::c_int))
}
