//! devinfo snapshot parse (`Snapshot::parse`, header + CRC + tree walk)
#![allow(missing_docs)] // criterion_group! generates undocumented items
//! and conversion to the host model (`to_host`), on generated snapshot
//! caches of N functions.

use std::time::Duration;

use benches::{devinfo::snapshot_bytes, generate, pool::default_realdata, GenOptions, Pool};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pci_illumos::devinfo::{to_host, Snapshot};

fn bench(c: &mut Criterion) {
    let root = default_realdata();
    let Ok(pool) = Pool::from_realdata(&root) else {
        eprintln!(
            "skipping devinfo benches: no real data at {}",
            root.display()
        );
        return;
    };
    let mut g = c.benchmark_group("devinfo");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [64usize, 1024, 4096, 16384] {
        let Ok(host) = generate(
            &pool,
            &GenOptions {
                functions: n,
                seed: 1,
                full_config: true,
            },
        ) else {
            continue;
        };
        let bytes = snapshot_bytes(&host);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("parse", n), &bytes, |b, bytes| {
            b.iter(|| Snapshot::parse(bytes).map(|s| s.nodes.len()))
        });
        let Ok(snap) = Snapshot::parse(&bytes) else {
            eprintln!("devinfo reader rejected the generated snapshot of {n}");
            continue;
        };
        g.bench_with_input(BenchmarkId::new("to_host", n), &snap, |b, snap| {
            b.iter(|| to_host(snap, "snapshot_cache").functions.len())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
