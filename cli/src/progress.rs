//! Progress of long work on stderr, only when stderr is a terminal: a
//! single line `pptctl: LABEL: N/TOTAL` redrawn in place at most ten times
//! a second and erased when the work ends, so a pipe or a log file never
//! sees it. Hand-rolled: one counter needs no dependency.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(100);

/// A progress line; see the module docs.
pub struct Progress {
    label: &'static str,
    /// `None`: the amount of work is not known in advance (a count only).
    total: Option<u64>,
    done: u64,
    shown: bool,
    on: bool,
    last: Option<Instant>,
}

impl Progress {
    /// Progress over `total` steps, drawn only on a terminal stderr.
    pub fn new(label: &'static str, total: u64) -> Self {
        Self::with_terminal(label, Some(total), std::io::stderr().is_terminal())
    }

    /// A count of steps whose total is not known in advance (files found
    /// while walking directories), drawn only on a terminal stderr.
    pub fn counter(label: &'static str) -> Self {
        Self::with_terminal(label, None, std::io::stderr().is_terminal())
    }

    fn with_terminal(label: &'static str, total: Option<u64>, on: bool) -> Self {
        Progress {
            label,
            total,
            done: 0,
            shown: false,
            on,
            last: None,
        }
    }

    /// One step done.
    pub fn step(&mut self) {
        self.done += 1;
        if !self.on {
            return;
        }
        let now = Instant::now();
        let last_step = self.total.is_some_and(|t| self.done >= t);
        if self.last.is_some_and(|t| now.duration_since(t) < EVERY) && !last_step {
            return;
        }
        self.last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", self.text());
        let _ = err.flush();
        self.shown = true;
    }

    /// Erases the line before something else is written to stderr; the
    /// next step draws it again.
    pub fn clear(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
            self.last = None;
        }
    }

    /// The text of the line as it would be drawn now.
    fn text(&self) -> String {
        match self.total {
            Some(total) => format!("pptctl: {}: {}/{}", self.label, self.done, total),
            None => format!("pptctl: {}: {}", self.label, self.done),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_draws_nothing_off_a_terminal() {
        let mut p = Progress::with_terminal("bench", Some(3), false);
        p.step();
        p.step();
        assert_eq!(p.text(), "pptctl: bench: 2/3");
        assert!(!p.shown);
    }

    #[test]
    fn a_counter_has_no_total() {
        let mut p = Progress::with_terminal("snapshots ingested", None, false);
        p.step();
        assert_eq!(p.text(), "pptctl: snapshots ingested: 1");
        p.clear();
        assert!(!p.shown);
    }
}
