//! `show --json` agrees with pciutils' own `lspci -vvvnn` decode
//! (realdata/_generated_lspci-3.9.0, made from the hex alone) on every
//! function: standard and extended capability offsets in chain order,
//! extended capability versions, MSI-X table size, FLR (DevCap), current
//! and maximum link speed and width. Skips cleanly without the corpus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

mod support;
use support::{pptctl, realdata_or_skip};

#[derive(Debug, Default, PartialEq)]
struct Facts {
    slot: String,
    caps: Vec<u64>,
    ext: Vec<(u64, u64)>,
    msix: Option<u64>,
    flr: Option<bool>,
    link_cap: Option<(String, u64)>,
    link_sta: Option<(String, u64)>,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap()
}

/// `Speed X, Width xN` (LnkSta may add ` (ok)`/`(downgraded)` notes).
fn speed_width(s: &str) -> Option<(String, u64)> {
    let sp = s.split("Speed ").nth(1)?;
    let speed = sp.split([',', ' ']).next()?.to_string();
    let w = s.split("Width x").nth(1)?;
    let width: String = w.chars().take_while(char::is_ascii_digit).collect();
    Some((speed, width.parse().ok()?))
}

fn oracle(text: &str) -> Vec<Facts> {
    let mut out: Vec<Facts> = Vec::new();
    let mut in_devcap = false;
    for line in text.lines() {
        if !line.starts_with('\t') && !line.is_empty() {
            let slot = line.split(' ').next().unwrap();
            let slot = if slot.len() == 7 {
                format!("0000:{slot}")
            } else {
                slot.to_string()
            };
            out.push(Facts {
                slot,
                ..Facts::default()
            });
            continue;
        }
        let Some(f) = out.last_mut() else { continue };
        if let Some(rest) = line.strip_prefix("\tCapabilities: [") {
            in_devcap = false;
            let (inside, tail) = rest.split_once(']').unwrap();
            if tail.trim_start().starts_with('<') {
                continue;
            }
            match inside.split_once(" v") {
                Some((off, ver)) => f.ext.push((hex(off), ver.parse().unwrap())),
                None => f.caps.push(hex(inside)),
            }
            if let Some(c) = tail.split("MSI-X: Enable").nth(1) {
                let n = c.split("Count=").nth(1).unwrap();
                let n: String = n.chars().take_while(char::is_ascii_digit).collect();
                f.msix = Some(n.parse().unwrap());
            }
            continue;
        }
        let t = line.trim_start();
        if t.starts_with("DevCap:") {
            in_devcap = true;
        } else if t.starts_with("DevCtl:") {
            in_devcap = false;
        }
        if in_devcap && f.flr.is_none() {
            if t.contains("FLReset+") {
                f.flr = Some(true);
            } else if t.contains("FLReset-") {
                f.flr = Some(false);
            }
        }
        if t.starts_with("LnkCap:") && f.link_cap.is_none() {
            f.link_cap = speed_width(t);
        }
        if t.starts_with("LnkSta:") && f.link_sta.is_none() {
            f.link_sta = speed_width(t);
        }
    }
    out
}

fn ours(json: &Value, oracle: &Facts) -> Facts {
    let num = |v: &Value| v.as_u64().unwrap();
    let mut f = Facts {
        slot: json["slot"].as_str().unwrap().to_string(),
        ..Facts::default()
    };
    if let Some(caps) = json["capabilities"].as_array() {
        f.caps = caps.iter().map(|c| num(&c["offset"])).collect();
    }
    if let Some(ext) = json["extended_capabilities"].as_array() {
        f.ext = ext
            .iter()
            .map(|c| (num(&c["offset"]), num(&c["version"])))
            .collect();
    }
    f.msix = json["msix"]["table_size"].as_u64();
    let pcie = &json["pcie"];
    if oracle.flr.is_some() {
        f.flr = pcie["flr"].as_bool();
    }
    let sw = |s: &Value, w: &Value| Some((s.as_str()?.to_string(), w.as_u64()?));
    if oracle.link_cap.is_some() {
        f.link_cap = sw(&pcie["link_cap_speed"], &pcie["link_cap_width"]);
    }
    if oracle.link_sta.is_some() {
        f.link_sta = sw(&pcie["link_speed"], &pcie["link_width"]);
    }
    f
}

fn source_of(generated: &Path, gen_root: &Path, root: &Path) -> PathBuf {
    let rel = generated
        .strip_prefix(gen_root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    root.join(rel.trim_end_matches(".F-vvvnn.txt"))
}

fn oracles(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            oracles(&p, out);
        } else if p.to_string_lossy().ends_with(".F-vvvnn.txt") {
            out.push(p);
        }
    }
}

#[test]
fn json_agrees_with_lspci_vvv() {
    let Some(root) = realdata_or_skip() else {
        return;
    };
    let gen_root = root.join("_generated_lspci-3.9.0");
    let mut files = Vec::new();
    oracles(&gen_root, &mut files);
    files.sort();
    let (mut functions, mut failures) = (0, Vec::new());
    let (mut caps, mut ext, mut links, mut flrs, mut msix) = (0, 0, 0, 0, 0);
    for g in &files {
        let src = source_of(g, &gen_root, &root);
        let want = oracle(&std::fs::read_to_string(g).unwrap());
        let o = pptctl()
            .args([
                "--from",
                &format!("dump:{}", src.display()),
                "show",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            src.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        let got = doc["functions"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{}", src.display());
        for (j, w) in got.iter().zip(&want) {
            functions += 1;
            caps += w.caps.len();
            ext += w.ext.len();
            links += usize::from(w.link_sta.is_some());
            flrs += usize::from(w.flr == Some(true));
            msix += usize::from(w.msix.is_some());
            let g = ours(j, w);
            if &g != w {
                failures.push(format!(
                    "{}:\n  lspci  {w:?}\n  pptctl {g:?}",
                    src.display()
                ));
            }
        }
    }
    eprintln!(
        "{} files, {functions} functions: {caps} capabilities, {ext} extended, \
         {links} links, {flrs} FLR-capable, {msix} MSI-X",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The comparison must have had something to compare.
    assert!(functions >= 800 && caps > 1000 && ext > 100 && links > 100 && flrs > 10 && msix > 10);
}
