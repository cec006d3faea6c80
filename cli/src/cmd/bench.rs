//! `pptctl bench [--iterations N] [--json]`: times the phases of discovery
//! on this host (or any `--from` source) with the real code paths, and
//! prints min/median/max per phase and the median per function.
//!
//! Phases:
//! * `tree walk` — sysfs only: listing `bus/pci/devices` (the source's scan);
//! * `config reads` — sysfs only: opening and reading every `config` file;
//! * `load (identity)` — the source as `show -n` runs it;
//! * `load (full)` — the source as `show -v`, `check`, `list` run it;
//! * `decode` — every function's header, BARs and capability decoders;
//! * `matching` — the compiled `ppt_matches` matcher (from `--root`) over
//!   every function;
//! * `render show -n`, `render show --json` — the output text, not written.
//!
//! Times come from a monotonic clock around each phase; nothing is written
//! to disk. Medians matter: one run on a busy host can be far off.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use pci_core::config::ConfigSpace;
use pci_core::Host;
use pci_illumos::matcher::Matcher;
use pci_illumos::matches::{NodeIds, PptMatches};
use serde_json::json;

use crate::cmd::show::{self, ShowArgs};
use crate::error::CliError;
use crate::global::Global;
use pci_core::sources::{sysfs, SysfsDetail};
use ppt_config::host_load::SourceSpec;
use ppt_config::session::Session;

/// Arguments of `pptctl bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// How many times to run each phase.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub iterations: u32,
    /// One JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Timings of one phase.
struct Phase {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Phase {
    fn stats(&self) -> (f64, f64, f64) {
        let mut v: Vec<f64> = self.samples.iter().map(Duration::as_secs_f64).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let med = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        (v[0], med, v[n - 1])
    }
}

fn time<T>(samples: &mut Vec<Duration>, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    samples.push(start.elapsed());
    out
}

/// Everything `show --json` and `check` decode for one function.
fn decode(bytes: &[u8], sizes: &[Option<u64>]) -> usize {
    let c = ConfigSpace::new(bytes);
    let mut n = c.bars(sizes).len();
    n += c.capabilities().count() + c.extended_capabilities().count();
    n += usize::from(c.bridge().is_some());
    n += usize::from(c.power_management().is_some());
    n += usize::from(c.msi().is_some());
    n += usize::from(c.msix().is_some());
    n += usize::from(c.pci_express().is_some());
    n += usize::from(c.acs().is_some());
    n += usize::from(c.sriov().is_some());
    n += usize::from(c.ari().is_some());
    n += usize::from(c.aer().is_some());
    n += usize::from(c.resizable_bar().is_some());
    n
}

/// Runs the subcommand.
pub fn run(global: &Global, args: BenchArgs) -> Result<ExitCode, CliError> {
    // One load up front: its warnings are shown once, and it is the host
    // the later phases work on.
    let session = global.open()?;
    let matches = session
        .matches()
        .map_err(|e| CliError::input(e.to_string()))?;
    let spec = session.options().source.clone();
    let host = session.into_host();
    let sysfs_root: Option<PathBuf> = match &spec {
        SourceSpec::Sysfs(dir) => Some(dir.clone()),
        _ => None,
    };
    let mut phases = Phases::new(sysfs_root.is_some());
    let mut progress = crate::progress::Progress::new("bench", u64::from(args.iterations));
    for _ in 0..args.iterations {
        progress.step();
        if let Some(dir) = &sysfs_root {
            phases.sysfs_reads(dir);
        }
        phases.iteration(global, &host, &matches)?;
    }
    drop(progress);
    let summary = Summary {
        source: global.source_label(),
        functions: host.functions.len(),
        iterations: args.iterations,
        rules: matches.lines.len(),
    };
    let out = if args.json {
        json_report(&phases.list, &summary)
    } else {
        text_report(&phases.list, &summary)
    };
    crate::output::emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The phases timed, in report order, and where each is in the list.
struct Phases {
    list: Vec<Phase>,
    /// `tree walk` and `config reads`, for a sysfs source.
    sysfs: Option<(usize, usize)>,
    load_id: usize,
    load_full: usize,
    dec: usize,
    mat: usize,
    r_terse: usize,
    r_json: usize,
}

impl Phases {
    fn new(sysfs: bool) -> Phases {
        let mut list: Vec<Phase> = Vec::new();
        let mut add = |name: &'static str| {
            list.push(Phase {
                name,
                samples: Vec::new(),
            });
            list.len() - 1
        };
        let sysfs = sysfs.then(|| (add("tree walk"), add("config reads")));
        let load_id = add("load (identity)");
        let load_full = add("load (full)");
        let dec = add("decode");
        let mat = add("matching");
        let r_terse = add("render show -n");
        let r_json = add("render show --json");
        Phases {
            list,
            sysfs,
            load_id,
            load_full,
            dec,
            mat,
            r_terse,
            r_json,
        }
    }

    /// The sysfs-only phases: listing the devices, reading every `config`.
    fn sysfs_reads(&mut self, dir: &Path) {
        let Some((w, r)) = self.sysfs else { return };
        let names = time(&mut self.list[w].samples, || {
            sysfs::device_names(dir).unwrap_or_default()
        });
        let devices = dir.join("bus/pci/devices");
        time(&mut self.list[r].samples, || {
            black_box(
                names
                    .iter()
                    .filter_map(|name| {
                        sysfs::read_config_file(&devices.join(name).join("config")).ok()
                    })
                    .map(|(c, _)| c.len())
                    .sum::<usize>(),
            )
        });
    }

    /// One run of the phases every source has.
    fn iteration(
        &mut self,
        global: &Global,
        host: &Host,
        matches: &PptMatches,
    ) -> Result<(), CliError> {
        let h = time(&mut self.list[self.load_id].samples, || {
            global
                .open_quiet(SysfsDetail::Identity)
                .map(Session::into_host)
        })?;
        black_box(h.functions.len());
        let h: Host = time(&mut self.list[self.load_full].samples, || {
            global.open_quiet(SysfsDetail::Full).map(Session::into_host)
        })?;
        black_box(h.functions.len());
        time(&mut self.list[self.dec].samples, || {
            black_box(
                host.functions
                    .iter()
                    .map(|f| decode(&f.config, &f.bar_sizes))
                    .sum::<usize>(),
            )
        });
        time(&mut self.list[self.mat].samples, || {
            black_box(match_all(host, matches))
        });
        let terse_args = ShowArgs {
            numeric: 1,
            ..ShowArgs::default()
        };
        let json_args = ShowArgs {
            json: true,
            ..ShowArgs::default()
        };
        time(&mut self.list[self.r_terse].samples, || {
            black_box(show::render(host, &terse_args, None, None).len())
        });
        time(&mut self.list[self.r_json].samples, || {
            black_box(show::render(host, &json_args, None, None).len())
        });
        Ok(())
    }
}

/// The compiled matcher over every function: how many match a rule.
fn match_all(host: &Host, matches: &PptMatches) -> usize {
    let m = Matcher::compile(matches);
    host.functions
        .iter()
        .filter_map(|f| {
            let ids = NodeIds::of(f).unwrap_or(NodeIds {
                path: "",
                vendor: u32::from(f.ids.vendor),
                device: u32::from(f.ids.device),
            });
            m.first_match(&ids)
        })
        .count()
}

/// What the report says about the run besides the phases.
struct Summary {
    source: String,
    functions: usize,
    iterations: u32,
    rules: usize,
}

impl Summary {
    /// A median per function.
    fn per_fn(&self, med: f64) -> f64 {
        if self.functions == 0 {
            0.0
        } else {
            med / self.functions as f64
        }
    }
}

fn json_report(phases: &[Phase], s: &Summary) -> String {
    let list: Vec<_> = phases
        .iter()
        .map(|p| {
            let (min, med, max) = p.stats();
            json!({
                "phase": p.name,
                "min_ms": min * 1e3,
                "median_ms": med * 1e3,
                "max_ms": max * 1e3,
                "median_per_function_us": s.per_fn(med) * 1e6,
            })
        })
        .collect();
    let doc = json!({
        "source": s.source,
        "functions": s.functions,
        "iterations": s.iterations,
        "ppt_matches_rules": s.rules,
        "phases": list,
    });
    format!("{doc:#}\n")
}

fn text_report(phases: &[Phase], s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "source {}: {} functions, {} ppt_matches lines, {} iterations",
        s.source, s.functions, s.rules, s.iterations
    );
    let _ = writeln!(
        out,
        "{:<20} {:>10} {:>10} {:>10} {:>14}",
        "PHASE", "MIN ms", "MEDIAN ms", "MAX ms", "MEDIAN us/fn"
    );
    for p in phases {
        let (min, med, max) = p.stats();
        let _ = writeln!(
            out,
            "{:<20} {:>10.3} {:>10.3} {:>10.3} {:>14.3}",
            p.name,
            min * 1e3,
            med * 1e3,
            max * 1e3,
            s.per_fn(med) * 1e6
        );
    }
    out
}
