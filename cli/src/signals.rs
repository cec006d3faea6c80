//! SIGINT and SIGTERM while `reserve`/`unreserve` write: noted, not fatal.
//!
//! Until [`catch`] is called the default actions apply: a signal ends
//! pptctl at once, which is right while it only reads and prints. Before
//! the first file is written, `reserve` calls [`catch`]; from then on a
//! signal only sets a flag that the writer checks between two files
//! (`ppt_config::reserve::Plan::apply_until`), so the file being written is
//! finished, no temporary file is abandoned, the lock files are removed,
//! and pptctl says what was and was not written, then exits with
//! 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a shell
//! reports a process a signal ended.
//!
//! The handlers are installed without `SA_RESTART`, so a wait for another
//! pptctl's lock (`fcntl(F_SETLKW)`) returns `EINTR` and can give up too.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first SIGINT or SIGTERM received since [`catch`], or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    let _ = RECEIVED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// Catches SIGINT and SIGTERM from now on (see the module docs).
pub fn catch() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `sigaction` is given a zero-initialised struct (valid for
        // this plain C type) with a handler that only does an atomic store,
        // which is async-signal-safe; the old action is not needed.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = note as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = 0; // no SA_RESTART: interrupt the lock wait
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The signal received since [`catch`], if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The exit code after `sig`: 128 + its number (130 for SIGINT, 143 for
/// SIGTERM).
pub fn exit_code(sig: i32) -> u8 {
    u8::try_from(128 + sig).unwrap_or(u8::MAX)
}

/// The signal's conventional name.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_shells() {
        assert_eq!(exit_code(libc::SIGINT), 130);
        assert_eq!(exit_code(libc::SIGTERM), 143);
    }
}
