//! The libraries never print and never exit: only the binary talks to the
//! user and chooses the exit code. This test reads the library sources (not
//! their unit-test modules) and fails on any call that writes to the
//! terminal or ends the process, so a library cannot start doing it
//! unnoticed.

use std::fs;
use std::path::{Path, PathBuf};

/// Calls a library may not make outside its tests.
const FORBIDDEN: &[&str] = &[
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "dbg!(",
    "process::exit",
    "process::abort",
    "io::stdout()",
    "io::stderr()",
];

/// Library crates, relative to the workspace root; a crate that does not
/// exist in this checkout is skipped.
const LIBRARIES: &[&str] = &["pci-core", "pci-illumos", "ppt-config", "fleet"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The part of a source file that ships: everything before its first
/// `#[cfg(test)]`, without line comments. Files that hold only tests
/// (`*_tests.rs`, `tests.rs`) ship nothing.
fn shipped_lines(path: &Path, text: &str) -> Vec<(usize, String)> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "tests.rs" || name.ends_with("_tests.rs") {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let code = match line.find("//") {
            // A `//` inside a string literal (a URL, a path) is rare in
            // these crates; cutting there can only hide a call, never
            // invent one.
            Some(at) => &line[..at],
            None => line,
        };
        lines.push((i + 1, code.to_string()));
    }
    lines
}

#[test]
fn no_library_prints_or_exits() {
    let root = workspace_root();
    let mut offences = Vec::new();
    let mut files_read = 0;
    for lib in LIBRARIES {
        let src = root.join(lib).join("src");
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in files {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            files_read += 1;
            for (line, code) in shipped_lines(&file, &text) {
                for call in FORBIDDEN {
                    if code.contains(call) {
                        offences.push(format!("{}:{line}: {call}", file.display()));
                    }
                }
            }
        }
    }
    assert!(
        files_read > 50,
        "read only {files_read} library files: wrong workspace root {}?",
        root.display()
    );
    assert!(
        offences.is_empty(),
        "libraries must return errors, not print or exit:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scan_finds_a_planted_call() {
    // The checker itself must be able to fail.
    let text =
        "fn f() {\n    println!(\"hi\");\n}\n#[cfg(test)]\nmod tests { fn g() { println!(); } }\n";
    let lines = shipped_lines(Path::new("x.rs"), text);
    let hits: Vec<usize> = lines
        .iter()
        .filter(|(_, c)| FORBIDDEN.iter().any(|f| c.contains(f)))
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(hits, vec![2]);
    assert!(shipped_lines(Path::new("rules_tests.rs"), text).is_empty());
}
