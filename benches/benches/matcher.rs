//! Compiled `ppt_matches` matcher against libppt's linear scan.
//!
//! A fleet-sized input: 100k functions and a 10k-line `ppt_matches`
//! (id rules, vendor rules, path rules, and lines that can never match:
//! upper-case or padded hex, comments). About one function in ten matches
//! some rule, so the linear scan mostly walks the whole list, as libppt
//! does for every device a host has that is not a candidate. Sample sizes
//! are kept at criterion's minimum so `cargo bench` takes minutes; the
//! reference runs on a 10k-function slice (see below).
//!
//! Measured on the 2-core development VM (shared): compiled 100k × 10k in
//! ~33 ms (~3 M functions/s); reference ~36 s for 100k (~2.8 k functions/s),
//! about 1000× slower; parsing 10k lines ~15 ms, compiling ~2.5 ms.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pci_illumos::matcher::Matcher;
use pci_illumos::matches::{NodeIds, PptMatches};

const FUNCTIONS: usize = 100_000;
const RULES: usize = 10_000;
const REFERENCE_FUNCTIONS: usize = 10_000;

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn path(i: u64) -> String {
    format!(
        "/pci@{:x},0/pci8086,{:x}@{:x}/pci15d9,{:x}@0,{}",
        i % 7,
        0x2030 + i % 13,
        i % 32,
        i & 0xfff,
        i % 8
    )
}

/// The rules file and the functions.
fn inputs() -> (String, Vec<(String, u32, u32)>) {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut text = String::new();
    for i in 0..RULES as u64 {
        let v = 0x1000 + r.below(0xe000) as u32;
        let d = 0x1000 + r.below(0xe000) as u32;
        let line = match r.below(100) {
            0..=69 => format!("pciex{v:x},{d:x}"),
            70..=71 => format!("pci{v:x}"),
            72..=89 => path(r.below(1 << 40)),
            90..=94 => format!("pci{v:X},{d:04X}"),
            _ => format!("# rule {i}"),
        };
        text.push_str(&line);
        text.push('\n');
    }
    let rules = PptMatches::parse(text.as_bytes(), "/etc/ppt_matches");
    // some functions take their identity from a rule, most are random
    let ids: Vec<(u32, u32)> = rules
        .lines
        .iter()
        .filter_map(|l| {
            let t = l.text();
            let rest = t.strip_prefix("pciex")?;
            let (v, d) = rest.split_once(',')?;
            Some((
                u32::from_str_radix(v, 16).ok()?,
                u32::from_str_radix(d, 16).ok()?,
            ))
        })
        .collect();
    let mut functions = Vec::with_capacity(FUNCTIONS);
    for _ in 0..FUNCTIONS {
        let (v, d) = if r.below(10) == 0 && !ids.is_empty() {
            ids[r.below(ids.len() as u64) as usize]
        } else {
            (r.below(0x1000) as u32, r.below(0x10000) as u32)
        };
        functions.push((path(r.below(1 << 40)), v, d));
    }
    (text, functions)
}

fn bench(c: &mut Criterion) {
    let (text, functions) = inputs();
    let rules = PptMatches::parse(text.as_bytes(), "/etc/ppt_matches");
    let compiled = Matcher::compile(&rules);

    // sanity: both give the same answer on every function
    let mut hits = 0usize;
    for (p, v, d) in &functions {
        let n = NodeIds {
            path: p,
            vendor: *v,
            device: *d,
        };
        let a = compiled.first_match(&n);
        assert_eq!(a, rules.first_match(&n).map(|l| l.number));
        hits += usize::from(a.is_some());
    }
    eprintln!("{hits} of {FUNCTIONS} functions match one of {RULES} lines");

    let mut g = c.benchmark_group("ppt_matches");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(FUNCTIONS as u64));
    g.bench_function(BenchmarkId::new("compiled", "100k x 10k"), |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (p, v, d) in &functions {
                let node = NodeIds {
                    path: p,
                    vendor: *v,
                    device: *d,
                };
                n += usize::from(compiled.first_match(black_box(&node)).is_some());
            }
            n
        })
    });
    g.finish();

    // The linear scan costs ~0.4 ms per function here, so it runs on the
    // first 10k functions only (~4 s per iteration instead of ~40 s);
    // criterion's per-element throughput compares the two directly.
    let subset = &functions[..REFERENCE_FUNCTIONS];
    let mut g = c.benchmark_group("ppt_matches");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(REFERENCE_FUNCTIONS as u64));
    g.bench_function(BenchmarkId::new("reference", "10k x 10k"), |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (p, v, d) in subset {
                let node = NodeIds {
                    path: p,
                    vendor: *v,
                    device: *d,
                };
                n += usize::from(rules.first_match(black_box(&node)).is_some());
            }
            n
        })
    });
    g.finish();

    let mut g = c.benchmark_group("ppt_matches_build");
    g.sample_size(10)
        .throughput(Throughput::Elements(RULES as u64));
    g.bench_function("parse 10k lines", |b| {
        b.iter(|| PptMatches::parse(black_box(text.as_bytes()), "/etc/ppt_matches"))
    });
    g.bench_function("compile 10k rules", |b| {
        b.iter(|| Matcher::compile(black_box(&rules)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
