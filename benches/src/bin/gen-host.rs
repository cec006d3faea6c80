//! `gen-host`: writes a large synthetic host, built from real config
//! spaces, in every format pptctl reads.
//!
//! `cargo run -p benches --bin gen-host -- --functions 4096 --out /tmp/h4096`
//! `cargo run -p benches --bin gen-host -- --hosts 10000 --out /tmp/fleet10k`
//! (a fleet: one snapshot file per host, about 100 functions each)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benches::fleet::{write_fleet, FleetOptions};
use benches::{generate_into, pool::default_realdata, Formats, Pool};
use clap::Parser;

/// Generate a synthetic PCI host from real config spaces.
#[derive(Parser, Debug)]
#[command(name = "gen-host")]
struct Args {
    /// Number of PCI functions (bridges included), e.g. 64 … 16384.
    #[arg(short = 'n', long, default_value_t = 1024)]
    functions: usize,
    /// Output directory (created): sysfs/, lspci-xxxx.txt, snapshot_cache,
    /// snapshot.json, ppt_matches.
    #[arg(short, long)]
    out: PathBuf,
    /// Number of ppt_matches rules (e.g. 10 … 10000).
    #[arg(short = 'm', long, default_value_t = 100)]
    rules: usize,
    /// Seed for the layout and template choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory of real dumps to take config spaces from.
    #[arg(long, value_name = "DIR")]
    realdata: Option<PathBuf>,
    /// Write a fleet of this many host snapshots (cnNNNNNN.json) instead
    /// of one host in every format.
    #[arg(long, value_name = "N")]
    hosts: Option<usize>,
    /// Functions per host of a fleet (--hosts).
    #[arg(long, value_name = "N", default_value_t = 100)]
    host_functions: usize,
    /// Comma-separated subset of: sysfs, dump, devinfo, json, matches.
    #[arg(long, default_value = "sysfs,dump,devinfo,json,matches")]
    formats: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let formats = match parse_formats(&args.formats, args.rules) {
        Ok(f) => f,
        Err(other) => {
            eprintln!("gen-host: unknown format `{other}` (sysfs, dump, devinfo, json, matches)");
            return ExitCode::from(2);
        }
    };
    if args.out.exists()
        && args
            .out
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!("gen-host: {} exists and is not empty", args.out.display());
        return ExitCode::from(2);
    }
    let realdata = args.realdata.clone().unwrap_or_else(default_realdata);
    match args.hosts {
        Some(hosts) => fleet(&args, hosts, &realdata),
        None => one_host(&args, &realdata, formats),
    }
}

/// `--formats`: the formats named, or the first unknown name.
fn parse_formats(list: &str, rules: usize) -> Result<Formats, String> {
    let mut f = Formats {
        sysfs: false,
        dump: false,
        devinfo: false,
        json: false,
        matches: None,
    };
    for part in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match part {
            "sysfs" => f.sysfs = true,
            "dump" => f.dump = true,
            "devinfo" => f.devinfo = true,
            "json" => f.json = true,
            "matches" => f.matches = Some(rules),
            other => return Err(other.to_string()),
        }
    }
    Ok(f)
}

/// `--hosts N`: a fleet of host snapshots.
fn fleet(args: &Args, hosts: usize, realdata: &Path) -> ExitCode {
    let opts = FleetOptions {
        hosts,
        functions: args.host_functions,
        seed: args.seed,
        time: 1_796_000_000,
    };
    match Pool::from_realdata(realdata).and_then(|pool| write_fleet(&pool, &opts, &args.out)) {
        Ok(bytes) => {
            println!(
                "{hosts} host snapshots, {} MB, in {}",
                bytes / 1_000_000,
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-host: {e}");
            ExitCode::from(1)
        }
    }
}

/// One host in every format asked for.
fn one_host(args: &Args, realdata: &Path, formats: Formats) -> ExitCode {
    match generate_into(realdata, args.functions, args.seed, &args.out, formats) {
        Ok((host, w)) => {
            let bridges = host.functions.iter().filter(|f| f.is_bridge()).count();
            println!(
                "{} functions ({} bridges) in {} domain(s)",
                host.functions.len(),
                bridges,
                host.domains.len()
            );
            for (what, p) in [
                ("sysfs", &w.sysfs),
                ("dump", &w.dump),
                ("devinfo", &w.devinfo),
                ("json", &w.json),
                ("matches", &w.matches),
            ] {
                if let Some(p) = p {
                    println!("{what:8} {}", p.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-host: {e}");
            ExitCode::from(1)
        }
    }
}
