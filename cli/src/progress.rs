//! Progress of long work on stderr: a single line `pptctl: LABEL: N/TOTAL`
//! redrawn in place at most ten times a second and erased when the work
//! ends. `--progress auto` (the default) draws it only on a terminal
//! (not `TERM=dumb`) and only once the work has lasted a quarter of a
//! second (`PPTCTL_PROGRESS_DELAY` seconds, as git's
//! `GIT_PROGRESS_DELAY`), so a pipe, a log file or a quick command never
//! sees it;
//! `always` draws it from the first step wherever stderr goes; `never`
//! not at all. Hand-rolled: one counter needs no dependency.
//!
//! The libraries count (`pci_core::progress`); [`observer`] hands them a
//! [`Line`]. Commands that count their own work (`bench`, `fleet ingest`)
//! use [`Progress`].

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use pci_core::progress::Observer;

use crate::output::When;

/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(100);

/// `--progress auto` draws nothing for work shorter than this, unless
/// `PPTCTL_PROGRESS_DELAY` gives another number of seconds.
const DELAY: Duration = Duration::from_millis(250);

/// The delay `PPTCTL_PROGRESS_DELAY` asks for (seconds, fractions
/// allowed), else [`DELAY`]; a value that is not a number of seconds is
/// ignored.
fn delay(env: Option<&str>) -> Duration {
    env.and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(DELAY)
}

static MODE: OnceLock<When> = OnceLock::new();

/// Records `--progress` once, at start.
pub fn set_mode(when: When) {
    let _ = MODE.set(when);
}

/// Whether and after how long to draw, given `--progress`, whether stderr
/// is a terminal and `TERM`.
fn decide(when: When, terminal: bool, term: Option<&str>, delay: Duration) -> Option<Duration> {
    match when {
        When::Always => Some(Duration::ZERO),
        When::Never => None,
        When::Auto => (terminal && term != Some("dumb")).then_some(delay),
    }
}

/// A progress line on stderr as `--progress` says, or `None`.
fn stderr_line() -> Option<Line> {
    let term = std::env::var("TERM").ok();
    let wait = delay(std::env::var("PPTCTL_PROGRESS_DELAY").ok().as_deref());
    let when = MODE.get().copied().unwrap_or_default();
    decide(when, std::io::stderr().is_terminal(), term.as_deref(), wait)
        .map(|delay| Line::new(Box::new(std::io::stderr()), delay))
}

/// What a library is told to report progress to: the stderr line, or
/// nobody when `--progress` says not to draw.
pub fn observer() -> Observer {
    match stderr_line() {
        Some(line) => Observer::new(Arc::new(line)),
        None => Observer::none(),
    }
}

/// The drawing state of a [`Line`].
struct State {
    sink: Box<dyn Write + Send>,
    label: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last: Option<Instant>,
    shown: bool,
}

impl State {
    fn text(&self) -> String {
        match self.total {
            Some(total) => format!("pptctl: {}: {}/{}", self.label, self.done, total),
            None => format!("pptctl: {}: {}", self.label, self.done),
        }
    }

    fn draw(&mut self, now: Instant) {
        let text = self.text();
        let _ = write!(self.sink, "\r\x1b[2K{text}");
        let _ = self.sink.flush();
        self.last = Some(now);
        self.shown = true;
    }

    fn erase(&mut self) {
        if self.shown {
            let _ = write!(self.sink, "\r\x1b[2K");
            let _ = self.sink.flush();
            self.shown = false;
            self.last = None;
        }
    }
}

/// One progress line drawn into a sink (stderr), after `delay`.
pub struct Line {
    state: Mutex<State>,
    delay: Duration,
}

impl Line {
    fn new(sink: Box<dyn Write + Send>, delay: Duration) -> Self {
        Line {
            state: Mutex::new(State {
                sink,
                label: String::new(),
                total: None,
                done: 0,
                started: Instant::now(),
                last: None,
                shown: false,
            }),
            delay,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut state)
    }

    /// Erases the line before something else is written to stderr; the
    /// next step draws it again.
    pub fn clear(&self) {
        self.with(State::erase);
    }
}

impl pci_core::progress::Progress for Line {
    fn start(&self, what: &str, total: Option<u64>) {
        self.with(|s| {
            s.erase();
            s.label = what.to_string();
            s.total = total;
            s.done = 0;
            s.started = Instant::now();
        });
    }

    fn advance(&self, n: u64) {
        let delay = self.delay;
        self.with(|s| {
            s.done = s.done.saturating_add(n);
            let now = Instant::now();
            if now.duration_since(s.started) < delay {
                return;
            }
            let last_step = s.total.is_some_and(|t| s.done >= t);
            if s.last.is_some_and(|t| now.duration_since(t) < EVERY) && !last_step {
                return;
            }
            s.draw(now);
        });
    }

    fn finish(&self) {
        self.with(State::erase);
    }
}

/// Progress a command counts itself: `bench` iterations, files ingested.
pub struct Progress {
    line: Option<Line>,
}

impl Progress {
    /// Progress over `total` steps.
    pub fn new(label: &str, total: u64) -> Self {
        Self::start(label, Some(total))
    }

    /// A count of steps whose total is not known in advance (files found
    /// while walking directories).
    pub fn counter(label: &str) -> Self {
        Self::start(label, None)
    }

    fn start(label: &str, total: Option<u64>) -> Self {
        use pci_core::progress::Progress as _;
        let line = stderr_line();
        if let Some(l) = &line {
            l.start(label, total);
        }
        Progress { line }
    }

    /// One step done.
    pub fn step(&mut self) {
        self.advance(1);
    }

    /// `n` steps done.
    pub fn advance(&mut self, n: u64) {
        use pci_core::progress::Progress as _;
        if let Some(l) = &self.line {
            l.advance(n);
        }
    }

    /// Erases the line before something else is written to stderr; the
    /// next step draws it again.
    pub fn clear(&mut self) {
        if let Some(l) = &self.line {
            l.clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A byte stream read with progress in MiB (`pptctl: LABEL (MiB): 40/100`):
/// a large platform.log takes seconds.
pub struct Reading<R> {
    inner: R,
    bytes: u64,
    progress: Progress,
}

impl<R: std::io::BufRead> Reading<R> {
    /// Reads `inner`, `total` bytes long when known (a file; not a pipe).
    pub fn new(inner: R, label: &str, total: Option<u64>) -> Self {
        let label = format!("{label} (MiB)");
        let progress = Progress::start(&label, total.map(|t| t / MIB));
        Reading {
            inner,
            bytes: 0,
            progress,
        }
    }
}

/// Bytes in a MiB.
const MIB: u64 = 1 << 20;

impl<R: std::io::Read> std::io::Read for Reading<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count(n);
        Ok(n)
    }
}

impl<R> Reading<R> {
    fn count(&mut self, n: usize) {
        let before = self.bytes / MIB;
        self.bytes = self.bytes.saturating_add(n as u64);
        let after = self.bytes / MIB;
        if after > before {
            self.progress.advance(after - before);
        }
    }
}

impl<R: std::io::BufRead> std::io::BufRead for Reading<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.count(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pci_core::progress::Progress as _;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }

    #[test]
    fn auto_draws_only_on_a_terminal_that_is_not_dumb() {
        let d = DELAY;
        assert_eq!(decide(When::Auto, true, Some("xterm"), d), Some(DELAY));
        assert_eq!(decide(When::Auto, true, None, d), Some(DELAY));
        assert_eq!(decide(When::Auto, false, Some("xterm"), d), None);
        assert_eq!(decide(When::Auto, true, Some("dumb"), d), None);
        assert_eq!(decide(When::Always, false, None, d), Some(Duration::ZERO));
        assert_eq!(decide(When::Never, true, Some("xterm"), d), None);
    }

    #[test]
    fn the_delay_is_seconds_from_the_environment() {
        assert_eq!(delay(None), DELAY);
        assert_eq!(delay(Some("0")), Duration::ZERO);
        assert_eq!(delay(Some("1.5")), Duration::from_millis(1500));
        assert_eq!(delay(Some("soon")), DELAY);
        assert_eq!(delay(Some("-1")), DELAY);
        assert_eq!(delay(Some("inf")), DELAY);
    }

    #[test]
    fn draws_the_first_and_last_step_and_erases_at_the_end() {
        let sink = Shared::default();
        let line = Line::new(Box::new(sink.clone()), Duration::ZERO);
        line.start("reading sysfs functions", Some(3));
        for _ in 0..3 {
            line.advance(1);
        }
        line.finish();
        let text = sink.text();
        assert!(text.starts_with("\r\x1b[2Kpptctl: reading sysfs functions: 1/3"));
        assert!(text.contains("\r\x1b[2Kpptctl: reading sysfs functions: 3/3"));
        assert!(text.ends_with("3/3\r\x1b[2K"), "{text:?}");
    }

    #[test]
    fn short_work_draws_nothing() {
        let sink = Shared::default();
        let line = Line::new(Box::new(sink.clone()), Duration::from_secs(3600));
        line.start("reading sysfs functions", Some(2));
        line.advance(1);
        line.advance(1);
        line.finish();
        assert_eq!(sink.text(), "");
    }

    #[test]
    fn a_counter_has_no_total_and_clear_erases() {
        let sink = Shared::default();
        let line = Line::new(Box::new(sink.clone()), Duration::ZERO);
        line.start("snapshots ingested", None);
        line.advance(1);
        line.clear();
        assert_eq!(
            sink.text(),
            "\r\x1b[2Kpptctl: snapshots ingested: 1\r\x1b[2K"
        );
    }
}
