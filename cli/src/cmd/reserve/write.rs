//! The second half of `reserve`/`unreserve`: show the change, ask, write
//! the files interruptibly, report in text or JSON.
//!
//! JSON (`--json`, docs/json.md): one document on stdout,
//! `{"format": "pptctl-reserve/1", "action", "dry_run", "complete",
//! "interrupted_by", "functions": [{address, path, alias, already}],
//! "files": [{file, diff, outcome}], "not_written": [FILE…],
//! "backup_dir", "next_steps": [LINE…]}`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use pci_core::text::{escape, guard, Escaped, EscapedPath};
use pci_core::{Function, Host};
use ppt_config::atomic::WriteOutcome;
use ppt_config::boot_media::Layout;
use ppt_config::reserve::{Action, Plan, ReserveError, Step};
use ppt_config::vmadm;
use serde_json::json;

use super::{reserve_error, update_archive, ReserveArgs};
use crate::error::CliError;
use crate::global::Global;
use crate::signals;

/// Test hook: with `PPTCTL_TEST_STEP_PAUSE_MS=N`, each stop point of the
/// write says `pptctl: test: step <what>` on stderr and pauses N ms, so a
/// test can send a signal at a chosen step (cli/tests/interrupted_write.rs).
const PAUSE_ENV: &str = "PPTCTL_TEST_STEP_PAUSE_MS";

fn outcome_word(o: WriteOutcome) -> &'static str {
    match o {
        WriteOutcome::Unchanged => "unchanged",
        WriteOutcome::Created => "created",
        WriteOutcome::Replaced => "replaced",
        WriteOutcome::Removed => "removed",
    }
}

/// Asks on the terminal; true for yes.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}

/// What the write did.
struct Written {
    done: Vec<(String, WriteOutcome)>,
    not_done: Vec<String>,
    signal: Option<i32>,
}

/// Says on stderr that another writer holds a lock and for whom (its
/// pid as the kernel reports it, and what it wrote in the lock file,
/// escaped: anyone could have written it).
fn say_waiting(h: &ppt_config::atomic::LockHolder) {
    let who = match (h.pid, &h.says) {
        (Some(pid), Some(says)) if says.starts_with(&format!("pid {pid}:")) => {
            escape(says).into_owned()
        }
        (Some(pid), Some(says)) => format!("pid {pid} (its lock file says: {})", escape(says)),
        (None, Some(says)) => escape(says).into_owned(),
        (Some(pid), None) => format!("pid {pid}"),
        (None, None) => "another process".to_string(),
    };
    eprintln!(
        "pptctl: waiting for the lock on {}, held by {who}; Ctrl-C gives up without writing",
        EscapedPath(&h.dir)
    );
}

/// Writes the plan with SIGINT/SIGTERM caught (crate::signals): stops
/// between two files when one arrives.
fn write(plan: &Plan) -> Result<Written, CliError> {
    let pause = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    signals::catch();
    let stop = |step: Step<'_>| {
        if let Step::LockHeld(h) = step {
            say_waiting(h);
            return false;
        }
        if let Some(ms) = pause {
            let said = match step {
                Step::Lock => Some("lock".to_string()),
                Step::Write(f) => Some(format!("write {f}")),
                Step::LockWait | Step::LockHeld(_) => None,
            };
            if let Some(what) = said {
                eprintln!("pptctl: test: step {what}");
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
        }
        signals::received().is_some()
    };
    match plan.apply_until(&stop) {
        Ok(done) => Ok(Written {
            done,
            not_done: Vec::new(),
            signal: signals::received(),
        }),
        Err(ReserveError::Interrupted { done, not_done }) => Ok(Written {
            done,
            not_done,
            signal: Some(signals::received().unwrap_or(libc::SIGINT)),
        }),
        Err(e) => Err(reserve_error(e)),
    }
}

/// The vmadm payload to suggest after a reserve.
fn vm_payload(host: &Host, plan: &Plan) -> Option<String> {
    if plan.action != Action::Reserve {
        return None;
    }
    let funcs: Vec<&Function> = host
        .functions
        .iter()
        .filter(|f| plan.functions.iter().any(|p| p.address == f.address))
        .collect();
    vmadm::pci_devices(&funcs, 0, None)
        .ok()
        .and_then(|d| serde_json::to_string_pretty(&json!({ "pci_devices": d })).ok())
}

/// Shows, asks, writes and reports; `host` is the host the plan was made
/// from.
pub fn finish(
    global: &Global,
    args: &ReserveArgs,
    plan: &Plan,
    host: &Host,
) -> Result<ExitCode, CliError> {
    let reserve = plan.action == Action::Reserve;
    let verb = if reserve { "reserved" } else { "unreserved" };
    let backup_dir = plan.layout.tree_root().join(plan.layout.backup_dir());
    let mut out = crate::output::stdout();
    let mut written: Option<Written> = None;
    if plan.is_noop() {
        if !args.json {
            let _ = writeln!(out, "Nothing to change: every function is already {verb}.");
            for f in &plan.functions {
                let _ = writeln!(out, "  {} {}", f.address, Escaped(&f.alias));
            }
        }
    } else {
        if !args.json {
            let _ = write!(out, "{}", guard(&plan.diff()));
            let _ = out.flush();
        }
        if args.dry_run {
            if args.json {
                print_json(&mut out, plan, None, &[], &backup_dir, args, host);
            }
            eprintln!("pptctl: dry run: nothing was written");
            return Ok(ExitCode::SUCCESS);
        }
        if !args.yes
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal()
            && !confirm("Write these changes?")
        {
            eprintln!("pptctl: nothing was written");
            return Ok(ExitCode::from(1));
        }
        let w = write(plan)?;
        if !args.json {
            report_written(&mut out, &w, &backup_dir);
        }
        if let Some(sig) = w.signal {
            return Ok(interrupted(
                &mut out,
                plan,
                &w,
                sig,
                &backup_dir,
                args,
                host,
            ));
        }
        if args.update_archive {
            update_archive(global)?;
        }
        if !args.json {
            say_done(&mut out, plan, args, verb);
        }
        written = Some(w);
    }
    if args.dry_run {
        if args.json {
            print_json(&mut out, plan, None, &[], &backup_dir, args, host);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.clean {
        clean(&mut out, plan, args.json)?;
    }
    if args.json {
        let done = written.as_ref().map(|w| w.done.as_slice());
        print_json(&mut out, plan, done, &[], &backup_dir, args, host);
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(out);
    for s in next_steps(plan, args, host) {
        let _ = writeln!(out, "{}", guard(&s));
    }
    Ok(ExitCode::SUCCESS)
}

fn next_steps(plan: &Plan, args: &ReserveArgs, host: &Host) -> Vec<String> {
    let vm = vm_payload(host, plan);
    let mut steps = plan.next_steps(vm.as_deref());
    if args.update_archive && !plan.is_noop() {
        steps.retain(|s| !s.contains("bootadm update-archive"));
    }
    steps
}

/// `unreserve --clean`: removes the backup directory.
fn clean(out: &mut crate::output::Stdout, plan: &Plan, json: bool) -> Result<(), CliError> {
    let dir = plan.layout.tree_root().join(plan.layout.backup_dir());
    let removed = Plan::remove_backups(&plan.layout).map_err(reserve_error)?;
    if !json {
        let _ = if removed {
            writeln!(
                out,
                "{}: removed (the backups pptctl kept)",
                EscapedPath(&dir)
            )
        } else {
            writeln!(out, "{}: no backups to remove", EscapedPath(&dir))
        };
    }
    Ok(())
}

/// Says what a signal stopped: what was written, what was not, that the
/// media is consistent and that the same command completes the job.
fn interrupted(
    out: &mut crate::output::Stdout,
    plan: &Plan,
    w: &Written,
    sig: i32,
    backup_dir: &std::path::Path,
    args: &ReserveArgs,
    host: &Host,
) -> ExitCode {
    if args.json {
        print_json(
            out,
            plan,
            Some(&w.done),
            &w.not_done,
            backup_dir,
            args,
            host,
        );
    }
    let name = signals::name(sig);
    eprintln!("pptctl: interrupted by {name}");
    if w.done.is_empty() {
        eprintln!("pptctl: nothing was written");
    } else {
        for (f, o) in &w.done {
            eprintln!(
                "pptctl: written: {} ({})",
                escape(&f.to_string()),
                outcome_word(*o)
            );
        }
    }
    for f in &w.not_done {
        eprintln!("pptctl: not written: {}", escape(&f.to_string()));
    }
    if !w.not_done.is_empty() {
        eprintln!(
            "pptctl: the files are consistent (every boot-loader line names a file that exists); \
             run the same command again to complete it"
        );
    } else if args.update_archive {
        eprintln!("pptctl: every file was written; bootadm update-archive was not run");
    }
    ExitCode::from(signals::exit_code(sig))
}

fn print_json(
    out: &mut crate::output::Stdout,
    plan: &Plan,
    done: Option<&[(String, WriteOutcome)]>,
    not_done: &[String],
    backup_dir: &std::path::Path,
    args: &ReserveArgs,
    host: &Host,
) {
    let files: Vec<serde_json::Value> = plan
        .changes
        .iter()
        .filter(|c| c.changes())
        .map(|c| {
            let outcome = done.and_then(|d| {
                d.iter()
                    .find(|(f, _)| *f == c.file.display)
                    .map(|(_, o)| outcome_word(*o))
            });
            json!({"file": c.file.display, "diff": c.diff(), "outcome": outcome})
        })
        .collect();
    let functions: Vec<serde_json::Value> = plan
        .functions
        .iter()
        .map(|f| {
            json!({
                "address": f.address.to_string(),
                "path": f.path,
                "alias": f.alias,
                "already": f.already,
            })
        })
        .collect();
    let doc = json!({
        "format": "pptctl-reserve/1",
        "action": if plan.action == Action::Reserve { "reserve" } else { "unreserve" },
        "dry_run": args.dry_run,
        "complete": done.is_some() && not_done.is_empty() || plan.is_noop(),
        "interrupted_by": signals::received().map(signals::name),
        "functions": functions,
        "files": files,
        "not_written": not_done,
        "backup_dir": backup_dir.display().to_string(),
        "next_steps": if done.is_some() && not_done.is_empty() || plan.is_noop() {
            next_steps(plan, args, host)
        } else {
            Vec::new()
        },
    });
    let _ = writeln!(out, "{doc:#}");
}

/// `unreserve --clean` without selectors: only remove the backups.
pub fn clean_only(
    layout: &ppt_config::boot_media::Layout,
    json: bool,
) -> Result<ExitCode, CliError> {
    let dir = layout.tree_root().join(layout.backup_dir());
    let removed = Plan::remove_backups(layout).map_err(reserve_error)?;
    let mut out = crate::output::stdout();
    if json {
        let doc = json!({
            "format": "pptctl-reserve/1",
            "action": "clean",
            "backup_dir": dir.display().to_string(),
            "removed": removed,
        });
        let _ = writeln!(out, "{doc:#}");
    } else if removed {
        let _ = writeln!(
            out,
            "{}: removed (the backups pptctl kept)",
            EscapedPath(&dir)
        );
    } else {
        let _ = writeln!(out, "{}: no backups to remove", EscapedPath(&dir));
    }
    Ok(ExitCode::SUCCESS)
}

/// Names each file written and what was done to it.
fn report_written(out: &mut crate::output::Stdout, w: &Written, backup_dir: &std::path::Path) {
    for (file, outcome) in &w.done {
        let what = match outcome {
            WriteOutcome::Unchanged => "unchanged".to_string(),
            WriteOutcome::Created => "created".to_string(),
            WriteOutcome::Replaced | WriteOutcome::Removed => format!(
                "{} (previous version kept in {})",
                if *outcome == WriteOutcome::Replaced {
                    "updated"
                } else {
                    "removed"
                },
                EscapedPath(backup_dir)
            ),
        };
        let _ = writeln!(out, "{}: {what}", escape(&file.to_string()));
    }
}

/// Says which functions are (un)reserved, and when that takes effect.
fn say_done(out: &mut crate::output::Stdout, plan: &Plan, args: &ReserveArgs, verb: &str) {
    // On a persistent root the next boot reads the boot archive:
    // the reservation counts only once it is rebuilt.
    let when = match &plan.layout {
        Layout::PersistentRoot { root } if !args.update_archive => format!(
            "once the boot archive is rebuilt (`{}`)",
            ppt_config::session::archive::update_command(root)
        ),
        _ => "for the next boot".to_string(),
    };
    let _ = writeln!(out, "{} function(s) {verb} {when}:", plan.functions.len());
    for f in &plan.functions {
        let _ = writeln!(out, "  {} {}", f.address, Escaped(&f.alias));
    }
}
