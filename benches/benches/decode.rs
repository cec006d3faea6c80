//! Config-space decode per function (64-, 256- and 4096-byte real config
//! spaces from shared/realdata) and capability-chain walks.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::time::Duration;

use benches::{pool::default_realdata, Pool};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pci_core::config::ConfigSpace;

/// Everything `show --json` decodes for one function.
fn decode_all(bytes: &[u8]) -> usize {
    let c = ConfigSpace::new(bytes);
    let mut n = 0usize;
    n += usize::from(c.vendor_id().is_some());
    n += usize::from(c.class_code().is_some());
    n += usize::from(c.header_type().is_some());
    n += usize::from(c.subsystem().is_some());
    n += c.bars(&[None; 6]).len();
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

fn walk(bytes: &[u8]) -> usize {
    let c = ConfigSpace::new(bytes);
    c.capabilities().count() + c.extended_capabilities().count()
}

fn bench(c: &mut Criterion) {
    let root = default_realdata();
    let Ok(pool) = Pool::from_realdata(&root) else {
        eprintln!(
            "skipping decode benches: no real data at {}",
            root.display()
        );
        return;
    };
    let mut g = c.benchmark_group("decode");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for len in [64usize, 256, 4096] {
        let set: Vec<&[u8]> = pool
            .all()
            .filter(|t| t.config.len() == len)
            .map(|t| t.config.as_slice())
            .collect();
        if set.is_empty() {
            continue;
        }
        // Throughput in functions: the reported time per element is the
        // cost per function.
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_with_input(BenchmarkId::new("full", len), &set, |b, set| {
            b.iter(|| set.iter().map(|c| decode_all(black_box(c))).sum::<usize>())
        });
        g.bench_with_input(BenchmarkId::new("cap_walk", len), &set, |b, set| {
            b.iter(|| set.iter().map(|c| walk(black_box(c))).sum::<usize>())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
