//! SIGINT and SIGTERM during `reserve`/`unreserve`: the interrupted-write
//! matrix. For each media (persistent root, GRUB boot media), each verb,
//! each signal, and each point the writer can stop at (before the locks,
//! before each file), pptctl is signalled exactly there (the
//! `PPTCTL_TEST_STEP_PAUSE_MS` hook announces each point on stderr and
//! pauses) and must then:
//!
//! * exit 130 (SIGINT) or 143 (SIGTERM), saying which files were written
//!   and which were not, and that running the command again completes it;
//! * leave each file byte for byte old or new, exactly the files before the
//!   stopping point new, and boot media that boots: every module line of
//!   `menu.lst` names a file that exists;
//! * leave no temporary file and no lock file behind;
//! * be completed by running the same command again.
//!
//! A signal while pptctl waits for another writer's lock ends the wait.
//! The SIGKILL counterpart is `crash_safety.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PAUSE_ENV: &str = "PPTCTL_TEST_STEP_PAUSE_MS";

type State = BTreeMap<&'static str, Option<Vec<u8>>>;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Media {
    Persistent,
    Grub,
}

impl Media {
    fn files(self) -> &'static [&'static str] {
        match self {
            Media::Persistent => &["root/etc/ppt_aliases", "root/etc/ppt_matches"],
            Media::Grub => &[
                "bm/overlay/etc/ppt_aliases",
                "bm/overlay/etc/ppt_matches",
                "bm/boot/grub/menu.lst",
            ],
        }
    }

    fn args(self, verb: &str) -> Vec<&'static str> {
        let mut v = vec!["--from", "snapshot:host.json", "--root", "root"];
        v.push(if verb == "reserve" {
            "reserve"
        } else {
            "unreserve"
        });
        v.extend(["-y", "--matches", "01:00.0"]);
        if self == Media::Grub {
            v.extend(["--boot-media", "bm"]);
        }
        v
    }
}

fn setup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(support::example_dir().join("root"))
        .arg(dir.join("root"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::copy(
        support::example_dir().join("host.json"),
        dir.join("host.json"),
    )
    .unwrap();
    std::fs::write(dir.join("root/etc/ppt_aliases"), "# hand-written\n").unwrap();
    std::fs::write(dir.join("root/etc/ppt_matches"), "# ids\n").unwrap();
    support::seed_boot_media(&dir.join("bm"));
}

fn read_state(dir: &Path, media: Media) -> State {
    media
        .files()
        .iter()
        .map(|f| (*f, std::fs::read(dir.join(f)).ok()))
        .collect()
}

fn write_state(dir: &Path, s: &State) {
    for (f, v) in s {
        let p = dir.join(f);
        match v {
            Some(b) => {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, b).unwrap();
            }
            None => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

fn pptctl(dir: &Path, args: &[&str]) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pptctl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Temporary and lock files anywhere under the work directory.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let n = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            } else if n.contains(".pptctl-tmp-") || n == ".pptctl.lock" {
                out.push(p);
            }
        }
    }
    out
}

/// Every `module` line of the GRUB menu that loads an overlay file (the
/// lines pptctl manages; the how-to's platform lines name files this test
/// media does not hold) names a file on the media.
fn boots(dir: &Path) {
    let menu = std::fs::read_to_string(dir.join("bm/boot/grub/menu.lst")).unwrap();
    for l in menu.lines() {
        let mut w = l.split_whitespace();
        if w.next() == Some("module") {
            let file = w.next().unwrap().trim_start_matches('/');
            if !file.starts_with("overlay/") {
                continue;
            }
            assert!(
                dir.join("bm").join(file).is_file(),
                "menu.lst loads /{file}, which does not exist:\n{menu}"
            );
        }
    }
}

/// Runs `args` with the step hook and sends `sig` when the `at`-th stop
/// point is announced; returns the exit code, stderr, and the number of
/// stop points seen before the end.
fn run_signalled(dir: &Path, args: &[&str], at: usize, sig: i32) -> (Option<i32>, String, usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .args(args)
        .current_dir(dir)
        .env(PAUSE_ENV, "150")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut text = String::new();
    let mut steps = 0;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(120)) {
        if line.starts_with("pptctl: test: step") {
            if steps == at {
                // SAFETY: kill(2) on our own child's pid.
                let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
                assert_eq!(rc, 0);
            }
            steps += 1;
        }
        text.push_str(&line);
        text.push('\n');
    }
    let status = child.wait().unwrap();
    (status.code(), text, steps)
}

/// The files `verb` changes from `old` to `new`, in the order the tool
/// must write them: the boot configuration after the files it loads on
/// reserve, before them on unreserve.
fn changed_files(media: Media, verb: &str, old: &State, new: &State) -> Vec<&'static str> {
    let mut changed: Vec<&'static str> = media
        .files()
        .iter()
        .copied()
        .filter(|f| old[f] != new[f])
        .collect();
    changed.sort_by_key(|f| f.ends_with("menu.lst") != (verb == "unreserve"));
    changed
}

/// Exactly the files before stop point `at` are new, and stderr names
/// them as written, the rest as not written.
fn check_stopped_at(what: &str, at: usize, changed: &[&str], state: [&State; 3], err: &str) {
    let [old, new, now] = state;
    let mut new_files = Vec::new();
    for (f, v) in now {
        if v == &new[f] && v != &old[f] {
            new_files.push(*f);
        } else {
            assert_eq!(v, &old[f], "{what}: {f} is neither old nor new");
        }
    }
    let done = at.saturating_sub(1);
    assert_eq!(new_files.len(), done, "{what}: new {new_files:?}\n{err}");
    for (i, f) in changed.iter().enumerate() {
        let shown = f.split_once('/').unwrap().1;
        let said = if i < done {
            "pptctl: written:"
        } else {
            "pptctl: not written:"
        };
        assert!(
            err.lines()
                .any(|l| l.starts_with(said) && l.contains(shown)),
            "{what}: {f} not reported as `{said}`:\n{err}"
        );
    }
}

/// One interrupted run: `verb` from `old`, signal `sig` at stop point
/// `at`; the media stay bootable and a rerun completes.
fn interrupt_once(
    work: &Path,
    media: Media,
    verb: &str,
    old: &State,
    new: &State,
    sig: i32,
    at: usize,
) {
    let changed = changed_files(media, verb, old, new);
    setup(work);
    write_state(work, old);
    let args = media.args(verb);
    let (code, err, _) = run_signalled(work, &args, at, sig);
    let what = format!("{media:?} {verb} signal {sig} at stop point {at}");
    assert_eq!(code, Some(128 + sig), "{what}:\n{err}");
    let name = if sig == libc::SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    assert!(
        err.contains(&format!("interrupted by {name}")),
        "{what}:\n{err}"
    );
    assert!(err.contains("run the same command again"), "{what}:\n{err}");
    let now = read_state(work, media);
    check_stopped_at(&what, at, &changed, [old, new, &now], &err);
    if media == Media::Grub {
        boots(work);
    }
    let left = leftovers(work);
    assert!(left.is_empty(), "{what}: left behind {left:?}");
    // The same command completes the job.
    pptctl(work, &args);
    assert_eq!(&read_state(work, media), new, "{what}: rerun");
    if media == Media::Grub {
        boots(work);
    }
    assert!(leftovers(work).is_empty());
}

#[test]
fn signals_at_every_step_leave_bootable_media_and_a_rerun_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    let mut cases = 0;
    for media in [Media::Persistent, Media::Grub] {
        setup(&work);
        let a = read_state(&work, media);
        pptctl(&work, &media.args("reserve"));
        let b = read_state(&work, media);
        assert_ne!(a, b);
        for (verb, old, new) in [("reserve", &a, &b), ("unreserve", &b, &a)] {
            let points = changed_files(media, verb, old, new).len() + 1; // the locks, then each file
            for sig in [libc::SIGINT, libc::SIGTERM] {
                for at in 0..points {
                    interrupt_once(&work, media, verb, old, new, sig, at);
                    cases += 1;
                }
            }
        }
    }
    eprintln!("{cases} interrupted runs, media bootable after each");
    assert!(cases >= 2 * 2 * 2 * 3);
}

#[test]
fn a_signal_ends_the_wait_for_another_writers_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    setup(&work);
    let before = read_state(&work, Media::Persistent);
    // This process holds the lock of ROOT/etc, as another pptctl would.
    let lock = hostfs::atomic::DirLock::acquire(&work.join("root/etc")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .args(Media::Persistent.args("reserve"))
        .current_dir(&work)
        .env(PAUSE_ENV, "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let l = lines.next().expect("pptctl ended before the lock").unwrap();
        if l == "pptctl: test: step lock" {
            break;
        }
    }
    // It is now blocked in fcntl(F_SETLKW) (or about to be).
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let reader = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let mut waited = 0;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        waited += 1;
        if waited > 200 {
            let _ = child.kill();
            panic!("pptctl kept waiting for the lock after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(lock);
    let rest = reader.join().unwrap();
    assert_eq!(status.code(), Some(143), "{rest:?}");
    // It said that it waits, and for whom: this process, by the pid the
    // kernel reports and the command its lock file names.
    let me = format!("held by pid {}: ", std::process::id());
    assert!(
        rest.iter()
            .any(|l| l.starts_with("pptctl: waiting for the lock on ") && l.contains(&me)),
        "{rest:?}"
    );
    assert!(
        rest.iter().any(|l| l == "pptctl: nothing was written"),
        "{rest:?}"
    );
    assert_eq!(read_state(&work, Media::Persistent), before);
}

#[test]
fn backups_live_in_one_place_that_unreserve_clean_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    setup(&work);
    pptctl(&work, &Media::Grub.args("reserve"));
    pptctl(&work, &Media::Grub.args("unreserve"));
    let backups = work.join("bm/.pptctl-backup");
    // The menu was replaced twice and the overlay files removed: their
    // previous versions are under the backup directory, nowhere else.
    assert!(backups.join("boot/grub/menu.lst").is_file());
    assert!(backups.join("overlay/etc/ppt_aliases").is_file());
    let stray: Vec<_> = leftovers(&work)
        .into_iter()
        .chain(
            ["bm/boot/grub", "bm/overlay/etc"]
                .iter()
                .flat_map(|d| std::fs::read_dir(work.join(d)).into_iter().flatten())
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains("pptctl")),
        )
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    // reserve keeps them: --clean belongs to unreserve.
    let o = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .current_dir(&work)
        .args([
            "--root",
            "root",
            "reserve",
            "--clean",
            "--boot-media",
            "bm",
            "01:00.0",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(backups.is_dir());
    // unreserve --clean alone removes the directory, and says so.
    let o = pptctl(
        &work,
        &[
            "--root",
            "root",
            "unreserve",
            "--clean",
            "--boot-media",
            "bm",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("removed"));
    assert!(!backups.exists());
    let o = pptctl(
        &work,
        &[
            "--root",
            "root",
            "unreserve",
            "--clean",
            "--boot-media",
            "bm",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("no backups"));
}

#[test]
fn reserve_json_is_the_plan_then_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    setup(&work);
    let mut args = Media::Grub.args("reserve");
    args.push("--json");
    let mut plan_args: Vec<&str> = args.iter().copied().filter(|a| *a != "-y").collect();
    plan_args.push("--dry-run");
    let before = read_state(&work, Media::Grub);
    let plan: serde_json::Value =
        serde_json::from_slice(&pptctl(&work, &plan_args).stdout).unwrap();
    assert_eq!(read_state(&work, Media::Grub), before, "a plan wrote");
    assert_eq!(plan["format"], "pptctl-reserve/1");
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["complete"], false);
    let files = plan["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{plan:#}");
    assert!(files
        .iter()
        .all(|f| f["outcome"].is_null() && f["diff"].as_str().unwrap().starts_with("---")));
    let done: serde_json::Value = serde_json::from_slice(&pptctl(&work, &args).stdout).unwrap();
    assert_eq!(done["complete"], true);
    assert!(done["interrupted_by"].is_null());
    let outcomes: Vec<&str> = done["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["created", "created", "replaced"], "{done:#}");
    assert!(!done["next_steps"].as_array().unwrap().is_empty());
}
