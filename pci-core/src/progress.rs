//! Progress of long library work (reading every function of a large host),
//! told to an observer the caller supplies. Libraries never draw: they
//! count units of work, and the program decides whether and how to show
//! them (`pptctl` draws one line on a terminal's stderr).

use std::fmt;
use std::sync::Arc;

/// Something told how far long work has got. Implementations must be
/// cheap: [`Progress::advance`] is called once per unit, from any thread.
pub trait Progress: Send + Sync {
    /// Work called `what` starts, `total` units long when known.
    fn start(&self, what: &str, total: Option<u64>);
    /// `n` more units of the current work are done.
    fn advance(&self, n: u64);
    /// The current work has ended, finished or not.
    fn finish(&self);
}

/// A cloneable handle on an optional [`Progress`]. The default tells
/// nobody, so library callers that do not care pass nothing.
#[derive(Clone, Default)]
pub struct Observer(Option<Arc<dyn Progress>>);

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(..)"
        } else {
            "Observer(none)"
        })
    }
}

impl Observer {
    /// Tells `progress`.
    pub fn new(progress: Arc<dyn Progress>) -> Self {
        Observer(Some(progress))
    }

    /// Tells nobody.
    pub fn none() -> Self {
        Observer(None)
    }

    /// Starts work called `what` of `total` units; the returned task
    /// counts units and finishes the work when dropped (also on an early
    /// return with an error).
    pub fn task(&self, what: &str, total: Option<u64>) -> Task<'_> {
        if let Some(p) = &self.0 {
            p.start(what, total);
        }
        Task { observer: self }
    }
}

/// Work under way; see [`Observer::task`].
#[derive(Debug)]
pub struct Task<'a> {
    observer: &'a Observer,
}

impl Task<'_> {
    /// `n` more units are done.
    pub fn advance(&self, n: u64) {
        if let Some(p) = &self.observer.0 {
            p.advance(n);
        }
    }
}

impl Drop for Task<'_> {
    fn drop(&mut self) {
        if let Some(p) = &self.observer.0 {
            p.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Progress for Log {
        fn start(&self, what: &str, total: Option<u64>) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("start {what} {total:?}"));
        }
        fn advance(&self, n: u64) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("advance {n}"));
        }
        fn finish(&self) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push("finish".into());
        }
    }

    #[test]
    fn a_task_starts_counts_and_finishes_when_dropped() {
        let log = Arc::new(Log::default());
        let observer = Observer::new(log.clone());
        {
            let task = observer.task("reading", Some(2));
            task.advance(1);
            task.advance(1);
        }
        let seen = log.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(
            seen,
            ["start reading Some(2)", "advance 1", "advance 1", "finish"]
        );
    }

    #[test]
    fn the_default_tells_nobody() {
        let observer = Observer::default();
        observer.task("reading", None).advance(5);
        assert_eq!(format!("{observer:?}"), "Observer(none)");
    }
}
