//! Injectable crashes for the crash-safety tests.
//!
//! `PROBABLE_FAILPOINT=LABEL:N` kills the process (SIGKILL, as `kill -9` would: no
//! destructors, no buffered output flushed) at the N-th [`hit`] of `LABEL`, counting from 1.
//! The code calls [`hit`] before every filesystem step whose interruption must be survivable,
//! so a test can crash a run at each of them in turn and check what the next start finds.
//! Without the variable a hit is one relaxed atomic load.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static SPEC: OnceLock<Option<(String, usize)>> = OnceLock::new();
static COUNT: AtomicUsize = AtomicUsize::new(0);

fn spec() -> &'static Option<(String, usize)> {
    SPEC.get_or_init(|| {
        let v = std::env::var("PROBABLE_FAILPOINT").ok()?;
        let (label, n) = v.rsplit_once(':')?;
        Some((label.to_string(), n.parse().ok()?))
    })
}

/// Marks one step labelled `label` (`what` says which, for the crash message).
pub fn hit(label: &str, what: &str) {
    let Some((want, n)) = spec() else { return };
    if want != label {
        return;
    }
    let count = COUNT.fetch_add(1, Ordering::Relaxed) + 1;
    if count == *n {
        eprintln!("failpoint {label}:{n}: killing the process before: {what}");
        kill_self();
    }
}

#[cfg(unix)]
fn kill_self() -> ! {
    // SAFETY: getpid and kill have no preconditions; SIGKILL cannot be caught.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}

#[cfg(not(unix))]
fn kill_self() -> ! {
    std::process::abort()
}
