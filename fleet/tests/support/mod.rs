//! Shared by the fleet tests: the databases to run against and a generator
//! of host snapshots built from the example host's real config spaces.
//!
//! Backends: SQLite always; PostgreSQL when `PPTCTL_TEST_PG` holds a
//! server URL (`postgres://postgres@%2Ftmp%2Fpg:5432/postgres`): each test
//! gets its own fresh database there. Without it the PostgreSQL half is
//! skipped with a message, except under `CI=true`, where that is a failure.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// One database a test runs against.
pub struct TestDb {
    /// `--db` value.
    pub spec: String,
    /// `sqlite` or `postgres`.
    pub kind: &'static str,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: (server URL, database) to drop afterwards.
    pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg {
            if let Ok(mut c) = postgres::Client::connect(base, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn pg_base() -> Option<String> {
    match std::env::var("PPTCTL_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but PPTCTL_TEST_PG is not set: the PostgreSQL backend must be tested in CI");
            }
            eprintln!("skipping PostgreSQL: set PPTCTL_TEST_PG=postgres://… to test it");
            None
        }
    }
}

/// `base` with its database name replaced by `db`.
pub fn with_dbname(base: &str, db: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let rest = rest.split('?').next().unwrap_or(rest);
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/{db}")
}

/// A fresh PostgreSQL database named after the test, or `None` when
/// PostgreSQL is not configured.
pub fn fresh_pg(tag: &str) -> Option<String> {
    fresh_pg_named(tag).map(|(url, _, _)| url)
}

/// [`fresh_pg`] with the server URL and database name.
fn fresh_pg_named(tag: &str) -> Option<(String, String, String)> {
    let base = pg_base()?;
    let name = format!("fleet_{tag}_{}", std::process::id());
    let mut c = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("PPTCTL_TEST_PG={base}: {e}"));
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    Some((with_dbname(&base, &name), base, name))
}

/// SQLite in a temporary directory, plus PostgreSQL when configured.
pub fn databases(tag: &str) -> Vec<TestDb> {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("fleet.db").display().to_string();
    let mut v = vec![TestDb {
        spec,
        kind: "sqlite",
        _dir: Some(dir),
        pg: None,
    }];
    if let Some((spec, base, name)) = fresh_pg_named(tag) {
        v.push(TestDb {
            spec,
            kind: "postgres",
            _dir: None,
            pg: Some((base, name)),
        });
    }
    v
}

/// The example host snapshot (a GT218 GPU with its audio function behind
/// an Intel root port), parsed.
pub fn example() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018/host.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// One GPU slot of a generated host.
#[derive(Debug, Clone, Copy)]
pub struct Gpu {
    /// Vendor ID written into `ids.vendor` of both functions (the config
    /// bytes stay the example's).
    pub vendor: u16,
    /// The GPU sits on the boot pool's path, which fails the check
    /// (`host-critical`).
    pub boot: bool,
}

/// An NVIDIA GPU off the boot path: passes the check.
pub const NV: Gpu = Gpu {
    vendor: 0x10de,
    boot: false,
};

/// An NVIDIA GPU on the boot pool's path: fails it (`host-critical`).
pub const BOOT: Gpu = Gpu {
    vendor: 0x10de,
    boot: true,
};

/// A snapshot of host `name` at `time` with one root port and GPU pair per
/// entry of `gpus` (buses 1, 2, ...), cloned from the example's functions.
pub fn host(name: &str, time: &str, gpus: &[Gpu]) -> Value {
    let ex = example();
    let fs = ex["functions"].as_array().unwrap();
    let (hostbridge, port, g0, g1) = (&fs[0], &fs[1], &fs[2], &fs[3]);
    let mut out = vec![hostbridge.clone()];
    let mut boot = Vec::new();
    for (i, gpu) in gpus.iter().enumerate() {
        let k = i + 1;
        let mut r = port.clone();
        r["address"] = json!(format!("0000:00:{k:02x}.0"));
        r["illumos"]["path"] = json!(format!("/pci@0,0/pci8086,151@{k:x}"));
        out.push(r);
        for g in [g0, g1] {
            let mut x = g.clone();
            let func = g["address"]
                .as_str()
                .unwrap()
                .rsplit('.')
                .next()
                .unwrap()
                .to_string();
            x["address"] = json!(format!("0000:{k:02x}:00.{func}"));
            let path = g["illumos"]["path"]
                .as_str()
                .unwrap()
                .replace("@1/", &format!("@{k:x}/"));
            x["illumos"]["path"] = json!(path);
            x["ids"]["vendor"] = json!(gpu.vendor);
            out.push(x);
        }
        if gpu.boot {
            boot.push(json!(format!("/pci@0,0/pci8086,151@{k:x}/display@0")));
        }
    }
    let mut doc = ex.clone();
    doc["functions"] = Value::Array(out);
    doc["facts"]["boot_devices"] = Value::Array(boot);
    doc["host"] = json!({"name": name, "time": time});
    doc
}

/// Writes `doc` to `dir/file` and returns the path.
pub fn write(dir: &Path, file: &str, doc: &Value) -> PathBuf {
    let p = dir.join(file);
    std::fs::write(&p, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    p
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random GPU slots: 0–5 GPUs, mostly NVIDIA, some AMD-labelled, about one
/// in four on the boot path.
pub fn random_gpus(rng: &mut Rng) -> Vec<Gpu> {
    (0..rng.below(6))
        .map(|_| Gpu {
            vendor: if rng.below(4) == 0 { 0x1002 } else { 0x10de },
            boot: rng.below(4) == 0,
        })
        .collect()
}
