//! Reads stay inside their root: the symlink-escape matrix.
//!
//! For every kind of file pptctl reads under `--root` (and the trees read as
//! their own root: `sysfs:DIR`, `--cfgspace DIR`, `--boot-media DIR`,
//! procfs), the file is replaced by a link of each shape: absolute and
//! relative targets, `..` chains deeper than the tree, a link in an
//! intermediate directory, and a loop. A link that stays in the root reads
//! the root's file; one that would leave it reads the root's own path of that
//! name (absent here) or fails with a message naming the link; none reads
//! the "host" file placed beside the root. The same holds end to end for the
//! `pptctl match --json` case that showed the leak.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use hostfs::HostRoot;
use pci_core::sources::{hostfacts, Source, SysfsSource};
use pci_core::{Address, Function, Host, Identity};
use pci_illumos::binding::KernelFiles;
use pci_illumos::matches::PptMatches;

const ROOT_MARK: &str = "ROOTMARK";
const HOST_MARK: &str = "HOSTMARK";

/// One kind of file: where it lies in its tree, how to make it (file or
/// directory, holding `mark`), and how pptctl's reader sees the tree (all
/// it reports, values and warnings, as text; or the error).
struct Kind {
    name: &'static str,
    rel: &'static str,
    make: fn(&Path, &str),
    read: fn(&Path) -> Result<String, String>,
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn make_matches(p: &Path, mark: &str) {
    write(p, &format!("/pci@0,0/{mark}@1\n"));
}

fn read_matches(root: &Path) -> Result<String, String> {
    let m = PptMatches::load(&HostRoot::new(root)).map_err(|e| e.to_string())?;
    Ok(m.lines
        .iter()
        .map(|l| String::from_utf8_lossy(&l.raw).into_owned())
        .collect::<Vec<_>>()
        .join("\n"))
}

fn make_aliases(p: &Path, mark: &str) {
    write(p, &format!("ppt \"/pci@0,0/{mark}@1\"\n"));
}

fn make_n2m(p: &Path, mark: &str) {
    write(p, &format!("{mark} 1\nppt 2\n"));
}

fn make_p2i(p: &Path, mark: &str) {
    write(p, &format!("\"/pci@0,0/{mark}@1\" 0 \"ppt\"\n"));
}

fn read_kernel_files(root: &Path) -> Result<String, String> {
    KernelFiles::load(&HostRoot::new(root))
        .map(|k| format!("{k:?}"))
        .map_err(|e| e.to_string())
}

/// A `/dev` holding one ppt link into `/devices`.
fn make_dev(p: &Path, mark: &str) {
    std::fs::create_dir_all(p).unwrap();
    symlink(format!("../devices/pci@0,0/{mark}@1:ppt"), p.join("ppt0")).unwrap();
}

fn read_dev(root: &Path) -> Result<String, String> {
    let (links, diags) = pci_illumos::pptdev::read_links(&HostRoot::new(root));
    Ok(format!("{links:?} {diags:?}"))
}

/// A sysfs function directory; the vendor file says whose it is.
fn make_sysfs_fn(p: &Path, mark: &str) {
    let vendor = if mark == ROOT_MARK {
        "0x8086"
    } else {
        "0x1af4"
    };
    write(&p.join("vendor"), vendor);
    write(&p.join("device"), "0x1234");
    write(&p.join("class"), "0x030000");
    let mut config = vec![0u8; 64];
    config[0..2].copy_from_slice(&u16::from_str_radix(&vendor[2..], 16).unwrap().to_le_bytes());
    config[2..4].copy_from_slice(&0x1234u16.to_le_bytes());
    std::fs::write(p.join("config"), config).unwrap();
}

fn read_sysfs(root: &Path) -> Result<String, String> {
    let h = SysfsSource::new(root).load().map_err(|e| e.to_string())?;
    let who: Vec<&str> = h
        .functions
        .iter()
        .map(|f| match f.ids.vendor {
            0x8086 => ROOT_MARK,
            0x1af4 => HOST_MARK,
            _ => "?",
        })
        .collect();
    Ok(format!("{who:?} {:?}", h.warnings))
}

/// A saved config space file of 64 bytes; byte 0x3f says whose it is.
fn make_cfg(p: &Path, mark: &str) {
    let mut b = vec![0u8; 64];
    b[0..2].copy_from_slice(&0x8086u16.to_le_bytes());
    b[2..4].copy_from_slice(&0x1234u16.to_le_bytes());
    b[0x3f] = if mark == ROOT_MARK { 0xcd } else { 0xab };
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b).unwrap();
}

fn read_cfg(root: &Path) -> Result<String, String> {
    let mut host = Host::default();
    let ids = Identity {
        vendor: 0x8086,
        device: 0x1234,
        subsystem_vendor: None,
        subsystem: None,
        class: 0x030000,
        revision: 0,
        header_type: Some(0),
    };
    host.functions.push(Function::new(
        Address::new(0, 1, 0, 0).unwrap(),
        ids,
        Vec::new(),
    ));
    pci_illumos::cfgspace::join(&mut host, root).map_err(|e| e.to_string())?;
    let who = match host.functions[0].config.get(0x3f) {
        Some(0xcd) => ROOT_MARK,
        Some(0xab) => HOST_MARK,
        _ => "none",
    };
    Ok(format!("{who} {:?}", host.warnings))
}

fn make_cpuinfo(p: &Path, mark: &str) {
    let v = if mark == ROOT_MARK {
        "GenuineIntel"
    } else {
        "AuthenticAMD"
    };
    write(p, &format!("vendor_id\t: {v}\n"));
}

fn read_cpuinfo(root: &Path) -> Result<String, String> {
    let (f, w) = hostfacts::linux(&root.join("sys"), root);
    let who = match f.cpu_vendor {
        Some(pci_core::CpuVendor::Intel) => ROOT_MARK,
        Some(pci_core::CpuVendor::Amd) => HOST_MARK,
        _ => "none",
    };
    Ok(format!("{who} {w:?}"))
}

/// Boot media: only the presence of `menu.lst` is read.
fn make_menu(p: &Path, mark: &str) {
    write(p, &format!("# {mark}\n"));
}

fn read_menu(root: &Path) -> Result<String, String> {
    match ppt_config::boot_media::Layout::boot_media(root, None) {
        // Found: the file stood in the tree (a host file would be a leak).
        Ok(_) => Ok(format!("menu.lst found: {ROOT_MARK}")),
        Err(e) => Err(e.to_string()),
    }
}

fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            name: "ppt_matches",
            rel: "etc/ppt_matches",
            make: make_matches,
            read: read_matches,
        },
        Kind {
            name: "boot ppt_matches",
            rel: "system/boot/etc/ppt_matches",
            make: make_matches,
            read: read_matches,
        },
        Kind {
            name: "ppt_aliases",
            rel: "etc/ppt_aliases",
            make: make_aliases,
            read: read_kernel_files,
        },
        Kind {
            name: "boot ppt_aliases",
            rel: "system/boot/etc/ppt_aliases",
            make: make_aliases,
            read: read_kernel_files,
        },
        Kind {
            name: "driver_aliases",
            rel: "etc/driver_aliases",
            make: make_aliases,
            read: read_kernel_files,
        },
        Kind {
            name: "name_to_major",
            rel: "etc/name_to_major",
            make: make_n2m,
            read: read_kernel_files,
        },
        Kind {
            name: "path_to_inst",
            rel: "etc/path_to_inst",
            make: make_p2i,
            read: read_kernel_files,
        },
        Kind {
            name: "/dev (ppt links)",
            rel: "dev",
            make: make_dev,
            read: read_dev,
        },
        Kind {
            name: "sysfs device",
            rel: "bus/pci/devices/0000:00:01.0",
            make: make_sysfs_fn,
            read: read_sysfs,
        },
        Kind {
            name: "cfgspace file",
            rel: "01-00-00.pci",
            make: make_cfg,
            read: read_cfg,
        },
        Kind {
            name: "procfs cpuinfo",
            rel: "cpuinfo",
            make: make_cpuinfo,
            read: read_cpuinfo,
        },
        Kind {
            name: "boot media menu.lst",
            rel: "boot/grub/menu.lst",
            make: make_menu,
            read: read_menu,
        },
    ]
}

/// The link shapes. `Stays` links reach the root's copy of the file;
/// `Leaves` links would reach the host's copy if followed naively.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// `/data/F` (absolute, inside the root).
    AbsInRoot,
    /// `../../../../../../../../data/F` (`..` above the root, clamped).
    DotDotChain,
    /// `/lnk/F` with `lnk -> /data` (a link in an intermediate directory).
    ViaDirLink,
    /// The host file's absolute path.
    AbsToHost,
    /// `../…/host/F`: lexically the host file beside the root.
    RelToHost,
    /// `/hostlnk/F` with `hostlnk ->` the host directory (absolute).
    ViaDirLinkToHost,
    /// `/hostrel/F` with `hostrel -> ../host` (relative, intermediate).
    ViaRelDirLinkToHost,
    /// `a -> b -> a`.
    Loop,
}

const SHAPES: [Shape; 8] = [
    Shape::AbsInRoot,
    Shape::DotDotChain,
    Shape::ViaDirLink,
    Shape::AbsToHost,
    Shape::RelToHost,
    Shape::ViaDirLinkToHost,
    Shape::ViaRelDirLinkToHost,
    Shape::Loop,
];

/// Builds `T/root` and `T/host` for one kind and shape; returns the root.
fn build(t: &Path, kind: &Kind, shape: Shape) -> PathBuf {
    let root = t.join("root");
    let host = t.join("host");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&host).unwrap();
    let base = Path::new(kind.rel)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // The host's copy, reachable only by leaving the root.
    (kind.make)(&host.join(&base), HOST_MARK);
    // The root's copy, reachable through the links that stay.
    (kind.make)(&root.join("data").join(&base), ROOT_MARK);
    symlink("/data", root.join("lnk")).unwrap();
    symlink(&host, root.join("hostlnk")).unwrap();
    symlink("../host", root.join("hostrel")).unwrap();
    let at = root.join(kind.rel);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    let depth = Path::new(kind.rel).components().count(); // parent depth + 1
    let target: String = match shape {
        Shape::AbsInRoot => format!("/data/{base}"),
        Shape::DotDotChain => format!("{}data/{base}", "../".repeat(depth + 6)),
        Shape::ViaDirLink => format!("/lnk/{base}"),
        Shape::AbsToHost => host.join(&base).display().to_string(),
        Shape::RelToHost => format!("{}host/{base}", "../".repeat(depth)),
        Shape::ViaDirLinkToHost => format!("/hostlnk/{base}"),
        Shape::ViaRelDirLinkToHost => format!("/hostrel/{base}"),
        Shape::Loop => {
            let dir = at.parent().unwrap();
            symlink("loop_b", dir.join("loop_a")).unwrap();
            symlink("loop_a", dir.join("loop_b")).unwrap();
            "loop_a".to_string()
        }
    };
    symlink(&target, &at).unwrap();
    // Naive resolution really would reach the host's copy (so the test can
    // fail): the lexical join of the relative escape lands on it.
    if shape == Shape::RelToHost {
        let naive = std::fs::canonicalize(&at).unwrap();
        assert_eq!(naive, std::fs::canonicalize(host.join(&base)).unwrap());
    }
    root
}

#[test]
fn no_read_leaves_the_root() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for kind in kinds() {
        for shape in SHAPES {
            let t = tempfile::tempdir().unwrap();
            let root = build(t.path(), &kind, shape);
            let got = (kind.read)(&root);
            let text = match &got {
                Ok(s) | Err(s) => s.clone(),
            };
            checked += 1;
            let ok = match shape {
                Shape::AbsInRoot | Shape::DotDotChain | Shape::ViaDirLink => {
                    matches!(&got, Ok(s) if s.contains(ROOT_MARK)) && !text.contains(HOST_MARK)
                }
                Shape::AbsToHost
                | Shape::RelToHost
                | Shape::ViaDirLinkToHost
                | Shape::ViaRelDirLinkToHost => {
                    // Boot media: finding menu.lst at all would be the leak.
                    let found_host_menu = kind.name == "boot media menu.lst" && got.is_ok();
                    !text.contains(HOST_MARK) && !found_host_menu
                }
                Shape::Loop => {
                    !text.contains(HOST_MARK)
                        && !text.contains(ROOT_MARK)
                        && (text.contains("symbolic links") || text.contains("loop"))
                        && text.contains("loop_")
                }
            };
            if !ok {
                failures.push(format!("{} / {shape:?}: {got:?}", kind.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The case that showed the leak: `R/etc/ppt_matches -> /tmp/x` printed
/// the host's `/tmp/x` lines in `match --json`.
#[test]
fn match_json_does_not_show_a_host_file() {
    let host_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(host_file.path(), "/pci@0,0/HOSTONLY@9\n").unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    symlink(host_file.path(), root.path().join("etc/ppt_matches")).unwrap();
    let out = support::pptctl_at(root.path(), support::example_from())
        .args(["match", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("HOSTONLY"), "{stdout}");
    assert!(!stderr.contains("HOSTONLY"), "{stderr}");
    // The same name inside the root is what the link means there.
    let inside = root.path().join(
        host_file
            .path()
            .strip_prefix("/")
            .unwrap()
            .to_str()
            .unwrap(),
    );
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    std::fs::write(&inside, "/pci@0,0/INROOT@9\n").unwrap();
    let out = support::pptctl_at(root.path(), support::example_from())
        .args(["match", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("INROOT"), "{stdout}");
    assert!(!stdout.contains("HOSTONLY"), "{stdout}");
}

/// A loop under `--root` fails the command with a message naming the link.
#[test]
fn match_names_a_looping_link() {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    symlink("ppt_matches", etc.join("ppt_matches")).unwrap();
    let out = support::pptctl_at(root.path(), support::example_from())
        .args(["match", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/etc/ppt_matches -> ppt_matches"),
        "{stderr}"
    );
}
