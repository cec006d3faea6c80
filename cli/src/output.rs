//! Standard output as a Unix filter uses it, and the colour choice.
//!
//! **A reader that goes away** (`pptctl show | head -1`): every write to
//! stdout goes through [`stdout`], whose writer ends the process at once and
//! quietly with exit 0 when the write fails with `EPIPE`, as ripgrep does
//! (git dies of `SIGPIPE`; a shell shows either as "the reader had enough").
//!
//! The alternative, resetting `SIGPIPE` to its default action at start, was
//! not taken: the kernel would then kill the process at whatever instant the
//! write happens, running no destructor. `reserve` removes its lock files and
//! temporary files on the way out and reports what it did; a signal that
//! cannot be caught would skip both. Rust leaves `SIGPIPE` ignored, so a
//! write returns `EPIPE`, and this module turns that into a clean end at a
//! point where no file is being written (`reserve` prints nothing while it
//! writes the boot files).

use std::io::{self, IsTerminal, StdoutLock, Write};

use clap::{Args, ValueEnum};

/// When to do what only makes sense on a terminal (colour, progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum When {
    /// On a terminal, unless TERM is `dumb` (colour: or NO_COLOR is set).
    #[default]
    Auto,
    /// Always, even into a pipe or file.
    Always,
    /// Never.
    Never,
}

/// Output options valid for every subcommand.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Colour the output: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = When::Auto,
        value_name = "WHEN"
    )]
    pub color: When,
    /// Progress of long work (reading a large host or platform.log, bench, fleet ingest) on stderr: auto (a terminal, unless TERM=dumb), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = When::Auto,
        value_name = "WHEN"
    )]
    pub progress: When,
}

impl When {
    /// Whether to colour text written to stdout, given the environment
    /// (`NO_COLOR` set and non-empty, no-color.org; `TERM=dumb`).
    pub fn for_stdout(self) -> bool {
        self.decide(io::stdout().is_terminal(), |k| std::env::var_os(k))
    }

    /// The rule, with the terminal test and the environment given.
    fn decide(self, terminal: bool, env: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
        match self {
            When::Always => true,
            When::Never => false,
            When::Auto => {
                let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
                let dumb = env("TERM").is_some_and(|v| v == "dumb");
                terminal && !no_color && !dumb
            }
        }
    }
}

static COLOR: std::sync::OnceLock<When> = std::sync::OnceLock::new();

/// Records `--color` once, at start.
pub fn set_color(choice: When) {
    let _ = COLOR.set(choice);
}

/// The `--color` choice of this run.
pub fn color() -> When {
    COLOR.get().copied().unwrap_or_default()
}

/// Standard output, locked, ending the process quietly (exit 0) when the
/// reader has gone away.
pub fn stdout() -> Stdout {
    Stdout {
        inner: io::stdout().lock(),
    }
}

/// See [`stdout`].
pub struct Stdout {
    inner: StdoutLock<'static>,
}

/// The end of the process when stdout's reader is gone: nothing more can be
/// said to it, and saying so on stderr would be noise (`| head` is normal).
fn reader_gone() -> ! {
    std::process::exit(0)
}

fn check<T>(r: io::Result<T>) -> io::Result<T> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => reader_gone(),
        r => r,
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        check(self.inner.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        check(self.inner.write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        check(self.inner.flush())
    }
}

/// Makes a `println!`/`eprintln!` that meets a closed pipe end the process
/// quietly with 0 as [`stdout`] does, instead of panicking (exit 101): the
/// standard macros panic with "failed printing to stdout/stderr" on
/// `EPIPE`. This catches writes that do not go through [`stdout`] (all of
/// stderr, `pptctl cmd 2>&1 | head`, and any `println!` a new subcommand
/// brings); every other panic keeps the default report.
pub fn quiet_on_closed_pipes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && is_broken_pipe(msg) {
            reader_gone();
        }
        default(info);
    }));
}

/// Whether a print-macro panic message reports `EPIPE` (its text ends with
/// the OS error, `Broken pipe (os error 32)`).
fn is_broken_pipe(msg: &str) -> bool {
    msg.ends_with(&format!("(os error {})", libc::EPIPE))
}

/// Writes all of `text` to stdout and flushes: the one closed-pipe-safe
/// writer of a command's output. A reader that went away ends the process
/// quietly with 0 (see [`stdout`]); any other failure (a full disk, a
/// closed descriptor) is an error, exit 1.
pub fn emit(text: &str) -> Result<(), crate::error::CliError> {
    let mut out = stdout();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| crate::error::CliError::failed(format!("cannot write the output: {e}")))
}

/// Prints `pptctl: warning: W` on stderr. A warning quotes what it met
/// (file names, lines, values from a host): [`pci_core::text::guard`]
/// keeps control bytes in it off the terminal.
pub fn warn(w: impl std::fmt::Display) {
    eprintln!("pptctl: warning: {}", pci_core::text::guard(&w.to_string()));
}

/// `println!` through [`stdout`]: a closed pipe ends the process quietly
/// instead of panicking; other write errors are ignored like `println!`'s
/// caller would have to.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let mut o = $crate::output::stdout();
        let _ = writeln!(o, $($arg)*);
        let _ = o.flush();
    }};
}

/// `print!` through [`stdout`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let mut o = $crate::output::stdout();
        let _ = write!(o, $($arg)*);
        let _ = o.flush();
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn only_a_print_macro_epipe_panic_is_a_quiet_end() {
        let epipe = io::Error::from_raw_os_error(libc::EPIPE);
        assert!(is_broken_pipe(&format!(
            "failed printing to stderr: {epipe}"
        )));
        let other = io::Error::from_raw_os_error(libc::EIO);
        assert!(!is_broken_pipe(&format!(
            "failed printing to stdout: {other}"
        )));
    }

    #[test]
    fn auto_colours_a_terminal_only() {
        assert!(When::Auto.decide(true, env(&[("TERM", "xterm")])));
        assert!(!When::Auto.decide(false, env(&[("TERM", "xterm")])));
    }

    #[test]
    fn no_color_and_dumb_terminals_win_over_auto_only() {
        assert!(!When::Auto.decide(true, env(&[("NO_COLOR", "1")])));
        assert!(When::Auto.decide(true, env(&[("NO_COLOR", "")])));
        assert!(!When::Auto.decide(true, env(&[("TERM", "dumb")])));
        assert!(When::Always.decide(false, env(&[("NO_COLOR", "1")])));
        assert!(!When::Never.decide(true, env(&[])));
    }
}
