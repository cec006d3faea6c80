//! `alternate ROUNDS OUTDIR NAME=CMD…`: runs each command once per round,
//! in turn (A B C, A B C, …), so machine noise hits all of them alike, and
//! prints per command the median/min/max wall time, median CPU time (user +
//! system) and peak RSS, measured by the kernel for the child
//! (`wait4(2)`'s rusage). Each CMD is split on spaces (no shell, so no shell
//! cost in the numbers). The first round's stdout of NAME goes to
//! OUTDIR/NAME.out for the caller to compare; a non-zero exit is an error.

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

struct Run {
    wall: f64,
    cpu: f64,
    rss_kib: i64,
}

fn run_once(argv: &[String], out: Option<&PathBuf>) -> Result<Run, String> {
    let stdout = match out {
        Some(p) => Stdio::from(File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => Stdio::null(),
    };
    let start = Instant::now();
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data the kernel fills; wait4 reaps our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed().as_secs_f64();
    if r != pid {
        return Err(format!("wait4 failed for {}", argv[0]));
    }
    let st = std::process::ExitStatus::from_raw(status);
    if !st.success() {
        return Err(format!("`{}` failed: {st}", argv.join(" ")));
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Run {
        wall,
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        rss_kib: ru.ru_maxrss,
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: alternate ROUNDS OUTDIR NAME=CMD...");
        return ExitCode::from(2);
    }
    let Ok(rounds) = args[0].parse::<usize>() else {
        eprintln!("alternate: ROUNDS must be a number");
        return ExitCode::from(2);
    };
    let outdir = PathBuf::from(&args[1]);
    let mut cmds = Vec::new();
    for spec in &args[2..] {
        let Some((name, cmd)) = spec.split_once('=') else {
            eprintln!("alternate: `{spec}` is not NAME=CMD");
            return ExitCode::from(2);
        };
        let argv: Vec<String> = cmd
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if argv.is_empty() {
            eprintln!("alternate: empty command for {name}");
            return ExitCode::from(2);
        }
        cmds.push((name.to_string(), argv, Vec::<Run>::new()));
    }
    for round in 0..rounds.max(1) {
        for (name, argv, runs) in &mut cmds {
            let out = (round == 0).then(|| outdir.join(format!("{name}.out")));
            match run_once(argv, out.as_ref()) {
                Ok(r) => runs.push(r),
                Err(e) => {
                    eprintln!("alternate: {e}");
                    return ExitCode::from(1);
                }
            }
        }
    }
    println!(
        "{:<14} {:>6} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "command", "rounds", "wall_med", "wall_min", "wall_max", "cpu_med", "rss_kib"
    );
    for (name, _, runs) in &cmds {
        let mut wall: Vec<f64> = runs.iter().map(|r| r.wall).collect();
        let mut cpu: Vec<f64> = runs.iter().map(|r| r.cpu).collect();
        let wmed = median(&mut wall);
        let rss = runs.iter().map(|r| r.rss_kib).max().unwrap_or(0);
        println!(
            "{:<14} {:>6} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>9}",
            name,
            runs.len(),
            wmed,
            wall[0],
            wall[wall.len() - 1],
            median(&mut cpu),
            rss
        );
    }
    ExitCode::SUCCESS
}
