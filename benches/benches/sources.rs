//! Each source's enumeration at N = 64, 1,024, 4,096 and 16,384 functions:
//! a generated sysfs tree (full read and the identity-only read `show -n`
//! uses), an `lspci -xxxx` dump, and a JSON snapshot. Inputs are generated
//! once per N into a temporary directory (tmpfs when available).
//! Throughput is in functions, so criterion's per-element time is the
//! per-function cost (flat from 1,024 to 16,384 is the target).

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::time::Duration;

use benches::{bench_tempdir, pool::default_realdata, write_all, Formats, GenOptions, Pool};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pci_core::sources::{DumpSource, SnapshotSource, Source, SysfsDetail, SysfsSource};

fn bench(c: &mut Criterion) {
    let root = default_realdata();
    let Ok(pool) = Pool::from_realdata(&root) else {
        eprintln!(
            "skipping source benches: no real data at {}",
            root.display()
        );
        return;
    };
    let Ok(tmp) = bench_tempdir() else {
        eprintln!("skipping source benches: no temporary directory");
        return;
    };
    let mut g = c.benchmark_group("sources");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for n in [64usize, 1024, 4096, 16384] {
        let opts = GenOptions {
            functions: n,
            seed: 1,
            full_config: true,
        };
        let Ok(host) = benches::generate(&pool, &opts) else {
            continue;
        };
        let dir = tmp.path().join(n.to_string());
        let f = Formats {
            sysfs: true,
            dump: true,
            devinfo: false,
            json: true,
            matches: None,
        };
        let w = match write_all(&host, &dir, f, 1) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("skipping N={n}: {e}");
                continue;
            }
        };
        g.throughput(Throughput::Elements(n as u64));
        if let Some(s) = &w.sysfs {
            g.bench_with_input(BenchmarkId::new("sysfs_full", n), s, |b, s| {
                b.iter(|| SysfsSource::new(s).load().map(|h| h.functions.len()))
            });
            g.bench_with_input(BenchmarkId::new("sysfs_identity", n), s, |b, s| {
                b.iter(|| {
                    SysfsSource::new(s)
                        .with_detail(SysfsDetail::Identity)
                        .load()
                        .map(|h| h.functions.len())
                })
            });
        }
        if let Some(d) = &w.dump {
            g.bench_with_input(BenchmarkId::new("dump", n), d, |b, d| {
                b.iter(|| DumpSource::file(d).load().map(|h| h.functions.len()))
            });
        }
        if let Some(j) = &w.json {
            g.bench_with_input(BenchmarkId::new("snapshot_json", n), j, |b, j| {
                b.iter(|| SnapshotSource::new(j).load().map(|h| h.functions.len()))
            });
        }
        // Free this N's files before generating the next (16,384 functions
        // are ~800 MB of sysfs files on a 4 KiB-block file system).
        let _ = std::fs::remove_dir_all(&dir);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
