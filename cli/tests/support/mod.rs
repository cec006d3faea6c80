//! Helpers shared by the cli end-to-end tests (`mod support;` in each test
//! file): where the real data and the example host live, whether lspci is
//! here, and the `pptctl` command builders.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// ../shared/realdata (read in place, never copied), or `None` when it is
/// absent on this machine.
pub fn realdata() -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata"
    ));
    p.is_dir().then_some(p)
}

/// [`realdata`], saying on stderr that the test is skipped when it is absent.
pub fn realdata_or_skip() -> Option<PathBuf> {
    let root = realdata();
    if root.is_none() {
        eprintln!("skipped: ../shared/realdata is absent");
    }
    root
}

/// The real OmniOS host of the corpus (`BartVanLooveren+omniosEindwerk`);
/// the directory may be absent.
pub fn omnios_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/realdata/BartVanLooveren+omniosEindwerk"
    ))
}

/// The OmniOS host's devinfo snapshot cache, or `None` (with a skip note on
/// stderr) when it is absent.
pub fn omnios_cache() -> Option<PathBuf> {
    let p = omnios_dir().join("devices/snapshot_cache");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipping: {} is absent", p.display());
        None
    }
}

/// Whether lspci runs here (`lspci --version`, no options).
pub fn have_lspci() -> bool {
    std::process::Command::new("lspci")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `lspci -O hwdb.disable=1`: names from pci.ids only, as pptctl has no
/// udev hwdb, so name comparisons hold on any machine.
pub fn lspci() -> std::process::Command {
    let mut c = std::process::Command::new("lspci");
    c.args(["-O", "hwdb.disable=1"]);
    c
}

/// The `pptctl` binary built for these tests.
pub fn pptctl() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("pptctl").unwrap()
}

/// Runs `pptctl ARGS`: its exit code (-1 for a signal), stdout, stderr.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = pptctl().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `pptctl --root ROOT --from FROM`.
pub fn pptctl_at(root: impl AsRef<OsStr>, from: impl AsRef<OsStr>) -> assert_cmd::Command {
    let mut c = pptctl();
    c.arg("--root").arg(root).arg("--from").arg(from);
    c
}

/// examples/levon-2018: John Levon's 2018 SmartOS GPU host (host.json and
/// its root/ tree).
pub fn example_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/levon-2018"
    ))
}

/// `snapshot:<example_dir>/host.json`, the `--from` of the example host.
pub fn example_from() -> String {
    snapshot_from(&example_dir().join("host.json"))
}

/// `snapshot:FILE`.
pub fn snapshot_from(file: &Path) -> String {
    format!("snapshot:{}", file.display())
}

/// Lays out the how-to's SmartOS USB key (a GRUB `menu.lst` with one SmartOS
/// entry, no overlay files) at `bm`, as `--boot-media` expects it.
pub fn seed_boot_media(bm: &Path) {
    let grub = bm.join("boot/grub");
    std::fs::create_dir_all(&grub).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ppt-config/tests/data/seed-usbkey/boot/grub/menu.lst"
        ),
        grub.join("menu.lst"),
    )
    .unwrap();
}
