//! `pptctl list`: `pptadm list` byte for byte (README.md,
//! docs/illumos.md).
//!
//! Differences from the illumos-gate binary, on purpose: a stale or
//! dangling `/dev/pptN` link still empties the listing as in pptadm, but a
//! warning says why on stderr; any stray operand is an error (pptadm only
//! notices exactly one). SmartOS's `-U` and `-N` are accepted with the
//! meaning its library comment gives (`-U` adds functions with no driver,
//! `-N` shows the binding name of other drivers in `DEV`); the SmartOS
//! binary itself behaves differently (illumos-joyent
//! `usr/src/cmd/pptadm/pptadm.c`, `usr/src/lib/libppt/common/libppt.c`
//! `ppt_list`) and widens `DEV` to 40
//! columns, which we do not.

mod getopt;
mod nvjson;
mod ofmt;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use pci_illumos::libppt;
use pci_illumos::matches::PptMatches;

use crate::error::CliError;
use crate::global::Global;

/// Arguments of `pptctl list`, parsed with pptadm's getopt rules
/// (`-a -j -o FIELDS -p -U -N`, see `pptctl list -h`).
#[derive(Args, Debug)]
#[command(disable_help_flag = true)]
pub struct ListArgs {
    /// pptadm list options: -a, -j, -o FIELDS, -p, -U, -N, -h.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<String>,
}

const USAGE: &str = "Usage:\npptctl list [ -j ] [ -a [-UN]]\npptctl list [-ap [-UN]] [-o fields]\n";

/// illumos `strerror(ENOTTY)`: what `warn(3C)` appends after ofmt's
/// warning when the window-size ioctl on stdout failed.
const ENOTTY_TEXT: &str = "Inappropriate ioctl for device";

/// Rows of the terminal on stdout, or `None` when stdout is not a
/// terminal (libofmt then uses 24).
fn window_rows() -> Option<usize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `struct winsize` through the pointer,
    // which points at a live, properly aligned value.
    let rc = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws as *mut libc::winsize) };
    (rc == 0 && ws.ws_row > 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_row))
}

fn usage_error(getopt: Option<String>, message: &str) -> ExitCode {
    if let Some(g) = getopt {
        eprintln!("{g}");
    }
    eprint!("pptctl: {message}\n{USAGE}");
    ExitCode::from(1)
}

/// pptadm's output: a write error other than a closed pipe is ignored, as
/// pptadm's stdio does.
fn emit(text: &str) {
    let _ = crate::output::emit(text);
}

/// Runs the subcommand.
pub fn run(global: &Global, args: ListArgs) -> Result<ExitCode, CliError> {
    let opts = match getopt::parse(&args.args) {
        Ok(o) => o,
        Err(getopt::Stop::Help) => {
            // `-h` is pptadm's usage alone; `--help` adds what each
            // option and field means.
            if args.args.iter().any(|a| a == "--help") {
                emit(&crate::help::list_long_help(USAGE));
            } else {
                emit(USAGE);
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(getopt::Stop::Usage { getopt, message }) => return Ok(usage_error(getopt, &message)),
    };
    let mut global = global.clone();
    for (name, value) in &opts.globals {
        match name.as_str() {
            "from" => global.from = value.clone(),
            "root" => global.root = PathBuf::from(value),
            "boot-media" => global.boot_media = Some(PathBuf::from(value)),
            "boot-style" => {
                global.boot_style = Some(value.parse().map_err(CliError::input)?);
            }
            _ => global.cfgspace = Some(PathBuf::from(value)),
        }
    }
    // A --root given after `list` is checked like one before it.
    crate::check_root(&global.root)?;
    let mut printer = None;
    if !opts.json {
        match open_printer(&opts) {
            Ok(p) => printer = Some(p),
            Err(code) => return Ok(code),
        }
    }
    let session = global.open()?;
    let matches = if opts.all {
        session
            .matches()
            .map_err(|e| CliError::failed(e.to_string()))?
    } else {
        PptMatches::default()
    };
    let host = session.host();
    let mode = libppt::Mode {
        all: opts.all,
        unknown: opts.unknown,
        native: opts.native,
    };
    // An error: libppt failed as a whole (stale link); pptadm then prints
    // no rows (the JSON frame still appears). The loader has warned.
    let rows = libppt::list(host, mode, &matches).unwrap_or_default();
    emit(&render(&rows, printer.as_mut()));
    Ok(ExitCode::SUCCESS)
}

/// libofmt's printer for `-o`/`-p` (its unknown-field warning on stderr),
/// or pptadm's exit code when the field list is fatal.
fn open_printer(opts: &getopt::Opts) -> Result<ofmt::Printer, ExitCode> {
    let rows_on_tty = window_rows();
    let spec = opts.fields.as_deref().unwrap_or("dev,vendor,device,path");
    match ofmt::open(spec, opts.parsable, rows_on_tty.unwrap_or(24)) {
        ofmt::Opened::Fatal(m) => {
            eprintln!("pptctl: {m}");
            Err(ExitCode::from(1))
        }
        ofmt::Opened::Ok { printer, warning } => {
            if let Some(w) = warning {
                match rows_on_tty {
                    None => eprintln!("pptctl: {w}: {ENOTTY_TEXT}"),
                    Some(_) => eprintln!("pptctl: {w}"),
                }
            }
            Ok(printer)
        }
    }
}

/// The rows as pptadm prints them: the `-j` document when there is no
/// printer, else libofmt's table or parsable lines.
fn render(rows: &[libppt::Row], printer: Option<&mut ofmt::Printer>) -> String {
    let mut out = String::new();
    match printer {
        None => {
            out.push_str("{\n\t\"devices\": [\n");
            let objs: Vec<String> = rows
                .iter()
                .map(|r| format!("\t\t{}", nvjson::object(r)))
                .collect();
            out.push_str(&objs.join(",\n"));
            out.push_str("\n\t]\n}\n");
        }
        Some(p) => {
            for r in rows {
                p.row(&mut out, |k| {
                    r.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone())
                });
            }
        }
    }
    out
}
