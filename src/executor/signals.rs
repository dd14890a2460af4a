//! SIGINT and SIGTERM during `apply`: the first lets the batches in flight finish (or roll back)
//! and stops the run before the next, resumable; a second aborts at once (the server rolls back
//! the open transactions when the connections drop).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Signals received so far. A process static because a signal handler can reach nothing else;
/// the one static the executor keeps.
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    // Only async-signal-safe calls here: an atomic, write(2) and _exit(2).
    if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
        let msg = b"\nstopping after the batches in flight; send the signal again to abort now\n";
        // SAFETY: write(2) on stderr with a valid buffer.
        unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
    } else {
        let msg = b"\naborted: the batches in flight roll back with their transactions\n";
        // SAFETY: as above; _exit(2) ends the process without running anything else.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(130);
        }
    }
}

/// Handles SIGINT and SIGTERM from now on.
pub fn install() {
    // SAFETY: sigaction with a handler that only does async-signal-safe work.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        action.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

/// Whether a stop was asked for.
pub fn stop_requested() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}
