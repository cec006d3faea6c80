//! A fleet of host snapshots for the fleet benchmarks: N hosts of about
//! 100 functions each, laid out by [`crate::generate`] from the real config
//! spaces, with a GPU / NIC / NVMe mix swapped in from real templates of
//! those classes, and a mix of host facts (most hosts with VT-d, some
//! without an IOMMU), so the verdicts range from ok to fail as on a real
//! fleet. Each host is one `pptctl-snapshot/1` file with a `host` object
//! (name, time). Config spaces are cut to 256 bytes (what `lspci -xxx` and
//! an unprivileged read give) to keep 10,000 files to a few hundred MB.

use std::fs;
use std::path::Path;

use pci_core::sources::snapshot::SNAPSHOT_FORMAT;
use pci_core::{CpuVendor, Host, IommuFacts};
use serde::Serialize;

use fleet::time::format_rfc3339;

use crate::error::GenError;
use crate::pool::{Pool, Template};
use crate::rng::Rng;
use crate::snapshot::to_host;
use crate::topology::{generate, GenOptions};

/// What to generate.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Number of hosts (files).
    pub hosts: usize,
    /// Functions per host (bridges included).
    pub functions: usize,
    /// Seed; host `i` derives its own from `seed + i`.
    pub seed: u64,
    /// Unix time of the first host's snapshot; host `i` is `i` seconds later.
    pub time: i64,
}

/// Real templates of the classes a pass-through fleet cares about.
struct Mix<'a> {
    gpus: Vec<&'a Template>,
    nics: Vec<&'a Template>,
    nvme: Vec<&'a Template>,
}

fn vendor(t: &Template) -> u16 {
    u16::from_le_bytes([t.config[0], t.config[1]])
}

impl<'a> Mix<'a> {
    fn from_pool(pool: &'a Pool) -> Result<Self, GenError> {
        let of = |f: &dyn Fn(&Template) -> bool| -> Vec<&'a Template> {
            pool.endpoints.iter().filter(|t| f(t)).collect()
        };
        let mix = Mix {
            // Display controllers of NVIDIA and AMD: the devices people pass.
            gpus: of(&|t| t.class() >> 16 == 0x03 && matches!(vendor(t), 0x10de | 0x1002)),
            nics: of(&|t| t.class() >> 8 == 0x0200),
            nvme: of(&|t| t.class() == 0x01_0802),
        };
        if mix.gpus.is_empty() || mix.nics.is_empty() {
            return Err(GenError::Invalid(
                "the real data has no NVIDIA/AMD display or Ethernet templates".into(),
            ));
        }
        Ok(mix)
    }
}

#[derive(Serialize)]
struct HostId<'a> {
    name: &'a str,
    time: String,
}

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    source: &'static str,
    host: HostId<'a>,
    #[serde(flatten)]
    body: &'a Host,
}

/// How many GPUs a host gets: half none, the rest 1, 2, 4 or 8.
fn gpu_count(rng: &mut Rng) -> usize {
    match rng.below(20) {
        0..=9 => 0,
        10..=12 => 1,
        13..=15 => 2,
        16..=18 => 4,
        _ => 8,
    }
}

/// SplitMix64's finaliser: neighbouring host numbers get unrelated seeds
/// ([`Rng::new`] maps seeds 2k and 2k+1 to one state).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One host's snapshot text.
pub fn host_json(pool: &Pool, opts: &FleetOptions, i: usize) -> Result<String, GenError> {
    let mix = Mix::from_pool(pool)?;
    host_json_with(pool, &mix, opts, i)
}

fn host_json_with(
    pool: &Pool,
    mix: &Mix<'_>,
    opts: &FleetOptions,
    i: usize,
) -> Result<String, GenError> {
    let seed = splitmix64(opts.seed.wrapping_add(i as u64));
    let mut gen = generate(
        pool,
        &GenOptions {
            functions: opts.functions,
            seed,
            full_config: true,
        },
    )?;
    let mut rng = Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    // Endpoint slots below a bridge, function 0, not a host bridge: where
    // an add-in card can sit.
    let mut slots: Vec<usize> = gen
        .functions
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.parent.is_some()
                && f.address.function == 0
                && f.header_type() == 0
                && f.class() >> 16 != 0x06
        })
        .map(|(k, _)| k)
        .collect();
    let mut put = |pick: &[&Template], rng: &mut Rng| {
        if slots.is_empty() || pick.is_empty() {
            return;
        }
        let slot = slots.swap_remove(rng.below(slots.len()));
        let t = pick[rng.below(pick.len())];
        let f = &mut gen.functions[slot];
        let mf = f.config[0x0e] & 0x80;
        f.config = t.config.clone();
        f.config[0x0e] = (f.config[0x0e] & 0x7f) | mf;
        f.origin = t.origin.clone();
    };
    for _ in 0..gpu_count(&mut rng) {
        put(&mix.gpus, &mut rng);
    }
    for _ in 0..rng.range(1, 4) {
        put(&mix.nics, &mut rng);
    }
    for _ in 0..rng.range(0, 4) {
        put(&mix.nvme, &mut rng);
    }
    let mut host = to_host(&gen);
    for f in &mut host.functions {
        f.config.truncate(256);
    }
    host.facts.os = Some("illumos".into());
    host.facts.cpu_vendor = Some(CpuVendor::Intel);
    // One host in ten has no usable IOMMU (VT-d off in the firmware).
    let iommu = !rng.chance(10);
    host.facts.iommu = Some(IommuFacts {
        present: iommu,
        kind: iommu.then(|| "vt-d".to_string()),
        evidence: "generated".into(),
    });
    let name = format!("cn{i:06}");
    let doc = Document {
        format: SNAPSHOT_FORMAT,
        source: "gen-host",
        host: HostId {
            name: &name,
            time: format_rfc3339(opts.time + i as i64),
        },
        body: &host,
    };
    let mut s = serde_json::to_string(&doc)?;
    s.push('\n');
    Ok(s)
}

/// Writes `opts.hosts` snapshots as `dir/cnNNNNNN.json`; returns the bytes
/// written.
pub fn write_fleet(pool: &Pool, opts: &FleetOptions, dir: &Path) -> Result<u64, GenError> {
    let mix = Mix::from_pool(pool)?;
    fs::create_dir_all(dir).map_err(|e| GenError::io(dir, e))?;
    let mut total = 0u64;
    for i in 0..opts.hosts {
        let text = host_json_with(pool, &mix, opts, i)?;
        let p = dir.join(format!("cn{i:06}.json"));
        fs::write(&p, text.as_bytes()).map_err(|e| GenError::io(&p, e))?;
        total += text.len() as u64;
    }
    Ok(total)
}
