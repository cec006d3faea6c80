//! Crash safety end to end: `pptctl reserve` and
//! `pptctl unreserve` are SIGKILLed at random moments, on a persistent root
//! and on GRUB boot media. After every kill each file they manage must be
//! byte for byte the old or the new version (or absent where that is one of
//! the versions) and still parse; the backup too. Then a complete run must
//! reach the new version and leave no temporary file behind. Concurrent
//! writers must serialize on the lock: no update is lost.
//!
//! Runs: 240 kills by default (a few seconds to a minute on a loaded
//! machine); `PPTCTL_KILL_RUNS=1000` (or more) for the long run;
//! `PPTCTL_KILL_SEED` replays one. The library-level kill test of the
//! writer alone is `ppt-config/tests/atomic_crash.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ppt_config::aliases_file::AliasesFile;
use ppt_config::matches_file::MatchesFile;
use ppt_config::menu_lst::MenuLst;

fn example() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018"
    ))
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The managed files (relative to the work directory) and their bytes;
/// `None` is "absent".
type State = BTreeMap<&'static str, Option<Vec<u8>>>;

#[derive(Clone, Copy, Debug)]
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
        if let Media::Grub = self {
            v.extend(["--boot-media", "bm"]);
        }
        v
    }
}

/// A fresh work directory in the "nothing reserved" state.
fn setup(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(example().join("root"))
        .arg(dir.join("root"))
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::copy(example().join("host.json"), dir.join("host.json")).unwrap();
    std::fs::write(dir.join("root/etc/ppt_aliases"), "# hand-written\r\n").unwrap();
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

/// Each file parses with the editor that owns it.
fn parses(name: &str, bytes: &[u8]) {
    let r = if name.ends_with("ppt_aliases") {
        AliasesFile::parse_bytes(name, bytes).map(drop)
    } else if name.ends_with("ppt_matches") {
        MatchesFile::parse_bytes(name, bytes).map(drop)
    } else {
        MenuLst::parse_bytes(name, bytes).map(drop)
    };
    r.unwrap_or_else(|e| panic!("{name} does not parse after a kill: {e}"));
}

/// Names in the managed directories that are not a managed file, its
/// backup or the lock: leftovers of a killed writer.
fn leftovers(dir: &Path, media: Media) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = media
        .files()
        .iter()
        .map(|f| dir.join(f).parent().unwrap().to_path_buf())
        .collect();
    dirs.dedup();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.contains(".pptctl-tmp-") {
                out.push(format!("{}/{n}", d.display()));
            }
        }
    }
    out
}

/// Where pptctl keeps the previous version of a managed file: the
/// layout's one backup directory, under the path inside the tree.
fn backup_of(f: &str) -> String {
    match f.split_once('/') {
        Some(("root", rest)) => format!("root/var/pptctl/backup/{rest}"),
        Some(("bm", rest)) => format!("bm/.pptctl-backup/{rest}"),
        _ => panic!("unknown tree of {f}"),
    }
}

/// The old and new state of a verb from `from`, by running it to the end.
fn transition(work: &Path, media: Media, verb: &str, from: &State) -> (State, Duration) {
    write_state(work, from);
    let t = Instant::now();
    pptctl(work, &media.args(verb));
    let took = t.elapsed();
    (read_state(work, media), took)
}

/// How many runs and the random seed (from the environment when set, so
/// a failure can be replayed).
fn kill_settings() -> (usize, u64) {
    let runs: usize = std::env::var("PPTCTL_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let seed: u64 = std::env::var("PPTCTL_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    (runs, seed)
}

/// One media's two versions, nothing reserved (A) and reserved (B), and
/// how long the slower verb takes.
type Plan = (Media, State, State, Duration);

/// The versions of each media, by running reserve and unreserve to the end.
fn make_plans(work: &Path) -> Vec<Plan> {
    let mut plans = Vec::new();
    for media in [Media::Persistent, Media::Grub] {
        setup(work);
        let a = read_state(work, media);
        let (b, t1) = transition(work, media, "reserve", &a);
        let (a2, t2) = transition(work, media, "unreserve", &b);
        assert_ne!(a, b, "{media:?}: reserve changed nothing");
        // reserve + unreserve gives back the original bytes (a file
        // emptied by unreserve is removed only when pptctl created it).
        for (f, v) in &a2 {
            if a[f].is_some() {
                assert_eq!(v, &a[f], "{media:?} {f}: unreserve did not restore it");
            }
        }
        plans.push((media, a2, b, t1.max(t2)));
    }
    plans
}

/// Each file of `now` is the old or the new version (or both, when they
/// agree) and parses, as does its backup; the kind of each.
fn classify(work: &Path, what: &str, old: &State, new: &State, now: &State) -> Vec<&'static str> {
    let mut kinds = Vec::new();
    for (f, v) in now {
        let kind = if v == &old[f] && v == &new[f] {
            "same"
        } else if v == &old[f] {
            "old"
        } else if v == &new[f] {
            "new"
        } else {
            panic!(
                "{what}: {f} is neither the old nor the new version:\n{:?}",
                v.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
            );
        };
        if let Some(b) = v {
            parses(f, b);
        }
        if let Ok(b) = std::fs::read(work.join(backup_of(f))) {
            parses(f, &b);
        }
        kinds.push(kind);
    }
    kinds
}

/// Runs `verb` from `old` and kills it at a random moment over a little
/// more than a whole run; what it left, classified.
fn kill_one(
    work: &Path,
    plan: &Plan,
    verb: &str,
    old: &State,
    new: &State,
    rng: &mut Rng,
    what: &str,
) -> &'static str {
    let (media, _, _, took) = plan;
    write_state(work, old);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pptctl"))
        .args(media.args(verb))
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let window = took.as_micros() as u64 * 5 / 4 + 1;
    std::thread::sleep(Duration::from_micros(rng.next() % window));
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    let kinds = classify(work, what, old, new, &read_state(work, *media));
    if finished || status.success() {
        "completed"
    } else if kinds.iter().all(|k| *k != "new") {
        "killed, all old"
    } else if kinds.iter().all(|k| *k != "old") {
        "killed, all new"
    } else {
        "killed, some files new"
    }
}

#[test]
fn sigkill_at_random_moments_leaves_old_or_new() {
    let (runs, seed) = kill_settings();
    eprintln!("PPTCTL_KILL_SEED={seed} PPTCTL_KILL_RUNS={runs}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    setup(&work);
    let plans = make_plans(&work);

    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    for run in 0..runs {
        let plan = &plans[(rng.next() % plans.len() as u64) as usize];
        let (media, a, b, _) = plan;
        let reserve = rng.next().is_multiple_of(2);
        let (old, new, verb) = if reserve {
            (a, b, "reserve")
        } else {
            (b, a, "unreserve")
        };
        // The other media's files back to their start, so each plan sees
        // the world it was made in.
        for (m, a0, _, _) in &plans {
            if m.files() != media.files() {
                write_state(&work, a0);
            }
        }
        let what = format!("run {run} (seed {seed}) {media:?} {verb}");
        let k = kill_one(&work, plan, verb, old, new, &mut rng, &what);
        *tally.entry(k.to_string()).or_default() += 1;
        // A complete run now reaches the new version, cleans any
        // temporary file and is not blocked by a lock the dead one held.
        pptctl(&work, &media.args(verb));
        assert_eq!(
            &read_state(&work, *media),
            new,
            "{what}: rerun did not finish the job"
        );
        let left = leftovers(&work, *media);
        assert!(left.is_empty(), "{what}: temporary files left: {left:?}");
    }
    eprintln!(
        "{runs} SIGKILL runs in {:.1?}, no file torn or lost; {tally:?}",
        started.elapsed()
    );
    assert_eq!(tally.values().sum::<usize>(), runs);
}

/// Writers racing on one root serialize on the lock: every alias a writer
/// reports as written is in the final file (no lost update), the file
/// parses, and a writer that lost the race says the file changed.
#[test]
fn concurrent_writers_serialize() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    for round in 0..6 {
        setup(&work);
        let sels = ["01:00.0", "01:00.1", "00:01.0"];
        let children: Vec<_> = sels
            .iter()
            .map(|s| {
                let mut args = vec![
                    "--from",
                    "snapshot:host.json",
                    "--root",
                    "root",
                    "reserve",
                    "-y",
                    "--matches",
                    "--single-function",
                    "--force",
                ];
                args.push(s);
                Command::new(env!("CARGO_BIN_EXE_pptctl"))
                    .args(&args)
                    .current_dir(&work)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let text = std::fs::read_to_string(work.join("root/etc/ppt_aliases")).unwrap();
        let parsed = AliasesFile::parse("/etc/ppt_aliases", &text).unwrap();
        let paths = [
            "/pci@0,0/pci8086,151@1/display@0",
            "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
            "/pci@0,0/pci8086,151@1",
        ];
        for ((o, sel), path) in outs.iter().zip(sels).zip(paths) {
            let err = String::from_utf8_lossy(&o.stderr);
            match o.status.code() {
                Some(0) => assert!(
                    parsed.has_alias("ppt", path),
                    "round {round}: {sel} reported success but its alias is lost:\n{text}"
                ),
                Some(1) => assert!(
                    err.contains("changed while pptctl was planning"),
                    "round {round}: {sel}: {err}"
                ),
                other => panic!("round {round}: {sel}: exit {other:?}: {err}"),
            }
        }
        assert!(
            text.starts_with("# hand-written\r\n"),
            "round {round}: {text:?}"
        );
    }
}
