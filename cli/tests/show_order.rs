//! Function order: lspci sorts every access method by domain, bus, device,
//! function (lspci.c sort_them) with a stable sort, so a shuffled dump with
//! duplicate slots prints like the sorted one and duplicates keep file
//! order. Checked byte for byte against `lspci -F` when it is installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::{lspci, pptctl};

/// A small dump with several domains and a duplicate slot, out of order.
fn shuffled() -> String {
    let mut blocks = Vec::new();
    let slots = [
        "0001:00:00.0",
        "00:1f.3",
        "0000:00:00.0",
        "03:00.1",
        "00:1f.3",
        "10000:00:02.0",
        "03:00.0",
        "00:02.0",
        "0001:00:00.0",
    ];
    for (i, slot) in slots.iter().enumerate() {
        let mut b = format!("{slot} Some device\n");
        // Distinct device IDs show which copy of a duplicate came first.
        b.push_str(&format!(
            "00: 86 80 {i:02x} 10 00 00 00 00 {i:02x} 00 00 06 00 00 00 00\n"
        ));
        for off in (0x10..0x40).step_by(16) {
            b.push_str(&format!("{off:02x}:{}\n", " 00".repeat(16)));
        }
        blocks.push(b);
    }
    blocks.join("\n")
}

#[test]
fn shuffled_dump_sorts_like_lspci() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("shuffled.txt");
    std::fs::write(&file, shuffled()).unwrap();
    let from = format!("dump:{}", file.display());
    let got = pptctl()
        .args(["--from", &from, "show", "-n"])
        .output()
        .unwrap();
    let got = String::from_utf8(got.stdout).unwrap();
    let want = "\
0000:00:00.0 0600: 8086:1002 (rev 02)
0000:00:02.0 0600: 8086:1007 (rev 07)
0000:00:1f.3 0600: 8086:1001 (rev 01)
0000:00:1f.3 0600: 8086:1004 (rev 04)
0000:03:00.0 0600: 8086:1006 (rev 06)
0000:03:00.1 0600: 8086:1003 (rev 03)
0001:00:00.0 0600: 8086:1000
0001:00:00.0 0600: 8086:1008 (rev 08)
10000:00:02.0 0600: 8086:1005 (rev 05)
";
    assert_eq!(got, want);
    let Ok(lspci) = lspci().arg("-F").arg(&file).arg("-n").output() else {
        eprintln!("skipped the lspci comparison: lspci is not installed");
        return;
    };
    assert_eq!(got, String::from_utf8(lspci.stdout).unwrap());
}
