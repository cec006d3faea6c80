//! `show -v` names as lspci prints them, checked against lspci itself on
//! the real dumps pciutils ships (`pciutils+pciutils/tests` in the real
//! data, `support::realdata`): every `Subsystem:` line equal, and every
//! capability line starting with the title lspci gives it (the details
//! after the title are pptctl's own). Capabilities this lspci does not know
//! (it prints `Extended Capability ID`) are not compared. Skips without
//! lspci or the data.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

fn subsystems(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("\tSubsystem:"))
        .collect()
}

/// The text after `Capabilities: [OFFSET] ` of each capability line.
fn capabilities(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("\tCapabilities: ["))
        .filter_map(|l| l.split_once("] ").map(|(_, t)| t))
        .collect()
}

#[test]
fn subsystem_and_capability_names_match_lspci() {
    let Some(root) = support::realdata_or_skip() else {
        return;
    };
    if !support::have_lspci() {
        eprintln!("skipped: lspci is not installed");
        return;
    }
    let dir = root.join("pciutils+pciutils/tests");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    let mut compared = (0, 0);
    for e in entries.flatten() {
        let file = e.path();
        let want = support::lspci()
            .arg("-F")
            .arg(&file)
            .arg("-v")
            .output()
            .unwrap();
        if !want.status.success() {
            continue; // a file this lspci cannot read
        }
        let got = Command::new(env!("CARGO_BIN_EXE_pptctl"))
            .arg("--from")
            .arg(format!("dump:{}", file.display()))
            .args(["show", "-v"])
            .output()
            .unwrap();
        let want = String::from_utf8_lossy(&want.stdout);
        let got = String::from_utf8_lossy(&got.stdout);
        let name = file.display();
        let (ws, gs) = (subsystems(&want), subsystems(&got));
        assert_eq!(ws.len(), gs.len(), "{name}: Subsystem lines");
        for (w, g) in ws.iter().zip(&gs) {
            assert_eq!(w, g, "{name}");
            compared.0 += 1;
        }
        let (wc, gc) = (capabilities(&want), capabilities(&got));
        assert_eq!(wc.len(), gc.len(), "{name}: capability lines");
        for (w, g) in wc.iter().zip(&gc) {
            if w.starts_with("Extended Capability ID") {
                continue;
            }
            // pptctl's title: up to its own details.
            let title = g
                .split([':', '<'])
                .next()
                .unwrap()
                .trim_end()
                .trim_end_matches(" (v1)")
                .trim_end_matches(" (v2)");
            let title = title.split(" (v").next().unwrap();
            let title = title.split(" version").next().unwrap();
            assert!(w.starts_with(title), "{name}: lspci `{w}`, pptctl `{g}`");
            compared.1 += 1;
        }
    }
    eprintln!(
        "{} Subsystem lines and {} capability titles equal",
        compared.0, compared.1
    );
    assert!(
        compared.1 > 100,
        "too few capabilities compared: {compared:?}"
    );
}
