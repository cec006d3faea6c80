//! Claims and explained placement at fleet scale (BENCHMARKS.md, "Claims"):
//!
//! * `place`: H hosts with 8 identical GPUs each (the example host's GT218
//!   and its audio function, repeated), asking for 6: p50/p95 of `fleet
//!   hosts` (the library call behind it), of `fleet hosts --why-not` and of
//!   `fleet claim`.
//! * `race`: T threads each making C claims of one GPU on H such hosts;
//!   throughput, and the double-booked devices found afterwards (must be 0).
//!
//! `claim-bench place|race --db DB [--hosts H] [--threads T] [--claims C]`;
//! the database must be empty (a new SQLite path or an empty PostgreSQL
//! database).

use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use fleet::{ClaimError, ClaimRequest, Constraint, DeviceSelector, Fleet, PlaceQuery};
use serde_json::{json, Value};

#[derive(Parser)]
struct Args {
    /// `place` or `race`.
    what: String,
    /// The database (new SQLite file or empty PostgreSQL database).
    #[arg(long)]
    db: String,
    /// Hosts of 8 GPUs.
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Concurrent claimers (`race`).
    #[arg(long, default_value_t = 10)]
    threads: usize,
    /// Claims per claimer (`race`).
    #[arg(long, default_value_t = 1000)]
    claims: usize,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// The example host with 8 copies of its GPU (both functions), one per
/// root port, named `name`.
fn host_doc(example: &Value, name: &str) -> Result<Value, String> {
    let fs = example["functions"]
        .as_array()
        .ok_or("example: no functions")?;
    let (bridge, port, g0, g1) = (&fs[0], &fs[1], &fs[2], &fs[3]);
    let mut out = vec![bridge.clone()];
    for k in 1..=8usize {
        let mut r = port.clone();
        r["address"] = json!(format!("0000:00:{k:02x}.0"));
        r["illumos"]["path"] = json!(format!("/pci@0,0/pci8086,151@{k:x}"));
        out.push(r);
        for (g, func) in [(g0, 0), (g1, 1)] {
            let mut x = g.clone();
            x["address"] = json!(format!("0000:{k:02x}:00.{func}"));
            let p = g["illumos"]["path"].as_str().unwrap_or("");
            x["illumos"]["path"] = json!(p.replace("@1/", &format!("@{k:x}/")));
            out.push(x);
        }
    }
    let mut doc = example.clone();
    doc["functions"] = Value::Array(out);
    doc["facts"]["boot_devices"] = json!([]);
    doc["host"] = json!({"name": name, "time": "2026-12-01T00:00:00Z"});
    Ok(doc)
}

fn fill(db: &mut Fleet, from: usize, hosts: usize) -> Result<(), String> {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018/host.json");
    let example: Value = serde_json::from_slice(&std::fs::read(&ex).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let t = Instant::now();
    for i in from..from + hosts {
        let p = dir.path().join(format!("cn{i:06}.json"));
        let doc = host_doc(&example, &format!("cn{i:06}"))?;
        std::fs::write(&p, serde_json::to_vec(&doc).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        fleet::ingest_file(db, &p, &fleet::IngestOptions::default()).map_err(|e| e.to_string())?;
    }
    db.analyze().map_err(|e| e.to_string())?;
    eprintln!(
        "ingested {hosts} more hosts in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// p50 and p95 of `f` over `n` runs, milliseconds.
fn percentiles(n: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<(f64, f64), String> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    Ok((at(0.5), at(0.95)))
}

fn req<'a>(sel: &'a DeviceSelector, count: i64, holder: &'a str) -> ClaimRequest<'a> {
    ClaimRequest {
        selector: sel,
        count,
        holder,
        ttl: Some("1h"),
        host: None,
        generation: None,
        constraint: Constraint::None,
        client_time: now(),
    }
}

/// The placement figures at H hosts, then (same process, same database)
/// at 2H, so the ratio compares like with like on a busy machine.
fn place(a: &Args) -> Result<(), String> {
    let mut db = Fleet::open(&a.db).map_err(|e| e.to_string())?;
    fill(&mut db, 0, a.hosts)?;
    println!("-- {} hosts", a.hosts);
    measure(&mut db, a.hosts)?;
    db.release_all("bench").map_err(|e| e.to_string())?;
    fill(&mut db, a.hosts, a.hosts)?;
    println!("-- {} hosts", 2 * a.hosts);
    measure(&mut db, 2 * a.hosts)
}

fn measure(db: &mut Fleet, hosts: usize) -> Result<(), String> {
    let sel = DeviceSelector::parse("10de:").map_err(|e| e.to_string())?;
    let e = |e: ClaimError| e.to_string();
    let (p50, p95) = percentiles(50, || {
        db.hosts(&sel, 6).map(|_| ()).map_err(|e| e.to_string())
    })?;
    println!("fleet hosts --count 6: p50 {p50:.2} ms, p95 {p95:.2} ms");
    let q = PlaceQuery {
        selector: &sel,
        count: 6,
        constraint: Constraint::None,
        max_age: None,
        as_of: None,
    };
    let (p50, p95) = percentiles(20, || db.place(&q).map(|_| ()).map_err(e))?;
    println!("fleet hosts --count 6 --why-not: p50 {p50:.2} ms, p95 {p95:.2} ms");
    let q = PlaceQuery {
        constraint: Constraint::SameRoot,
        ..q
    };
    let (p50, p95) = percentiles(20, || db.place(&q).map(|_| ()).map_err(e))?;
    println!(
        "fleet hosts --count 6 --same root-complex --why-not: p50 {p50:.2} ms, p95 {p95:.2} ms"
    );
    // Claims of 6 fill one host each; a quarter of the fleet is claimed by the end.
    let n = hosts / 4;
    let (p50, p95) = percentiles(n, || {
        db.claim(&req(&sel, 6, "bench")).map(|_| ()).map_err(e)
    })?;
    println!("fleet claim --count 6 ({n} claims): p50 {p50:.2} ms, p95 {p95:.2} ms");
    let bad = db.double_booked().map_err(e)?;
    println!("double-booked devices: {}", bad.len());
    Ok(())
}

fn race(a: &Args) -> Result<(), String> {
    let mut db = Fleet::open(&a.db).map_err(|e| e.to_string())?;
    fill(&mut db, 0, a.hosts)?;
    let reopen = db.reopener();
    let t = Instant::now();
    let workers: Vec<_> = (0..a.threads)
        .map(|i| {
            let (reopen, claims) = (reopen.clone(), a.claims);
            std::thread::spawn(move || -> Result<(usize, usize), String> {
                let mut db = reopen.open().map_err(|e| e.to_string())?;
                let sel = DeviceSelector::parse("10de:").map_err(|e| e.to_string())?;
                let holder = format!("claimer-{i}");
                let (mut won, mut full) = (0, 0);
                for _ in 0..claims {
                    match db.claim(&req(&sel, 1, &holder)) {
                        Ok(_) => won += 1,
                        Err(ClaimError::NoCapacity { .. }) => full += 1,
                        Err(e) => return Err(e.to_string()),
                    }
                }
                Ok((won, full))
            })
        })
        .collect();
    let (mut won, mut full) = (0, 0);
    for w in workers {
        let (a, b) = w.join().map_err(|_| "a claimer panicked".to_string())??;
        won += a;
        full += b;
    }
    let secs = t.elapsed().as_secs_f64();
    let total = won + full;
    println!(
        "{} claimers x {} claims: {total} in {secs:.1} s = {:.0} claims/s ({won} granted, {full} refused: fleet full)",
        a.threads,
        a.claims,
        total as f64 / secs
    );
    let bad = db.double_booked().map_err(|e| e.to_string())?;
    println!("double-booked devices: {}", bad.len());
    if !bad.is_empty() {
        return Err(format!("double-booked: {bad:?}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    let a = Args::parse();
    let r = match a.what.as_str() {
        "place" => place(&a),
        "race" => race(&a),
        w => Err(format!("unknown benchmark {w}: place or race")),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("claim-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
