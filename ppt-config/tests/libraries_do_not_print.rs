//! The libraries never print and never exit: only the `pptctl` binary
//! talks to the user (project rule). Scans the non-test source of
//! pci-core, pci-illumos and ppt-config for printing macros and
//! `process::exit`; test modules (from `#[cfg(test)]` on) and `*_tests.rs`
//! files are skipped.

use std::path::Path;

const FORBIDDEN: [&str; 7] = [
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "dbg!(",
    "process::exit",
    "std::process::abort",
];

fn scan(dir: &Path, hits: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            scan(&p, hits);
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".rs") || name.ends_with("_tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in code.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with("//") {
                continue;
            }
            for f in FORBIDDEN {
                if l.contains(f) {
                    hits.push(format!("{}:{}: {}", p.display(), i + 1, l));
                }
            }
        }
    }
}

#[test]
fn no_library_prints_or_exits() {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut hits = Vec::new();
    for krate in ["pci-core", "pci-illumos", "ppt-config"] {
        let src = ws.join(krate).join("src");
        assert!(src.is_dir(), "{}", src.display());
        scan(&src, &mut hits);
    }
    assert!(
        hits.is_empty(),
        "libraries must not print or exit:\n{}",
        hits.join("\n")
    );
}
