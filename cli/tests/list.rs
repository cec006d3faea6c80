//! Golden tests of `pptctl list` (pptadm list) in every mode.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use pci_core::{Address, Function, Host, Identity, IllumosNode, PathSource, PptLink, PropValue};

mod support;
use support::{omnios_cache, pptctl_at};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(root: &Path, from: &str, args: &[&str]) -> Out {
    let o = pptctl_at(root, from)
        .arg("list")
        .args(args)
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8(o.stdout).unwrap(),
        stderr: String::from_utf8(o.stderr).unwrap(),
    }
}

/// A devinfo-style function node for synthetic hosts.
fn func(bus: u8, dev: u8, path: &str, driver: Option<(&str, i32)>, v: u16, d: u16) -> Function {
    let ids = Identity {
        vendor: v,
        device: d,
        subsystem_vendor: None,
        subsystem: None,
        class: 0x020000,
        revision: 1,
        header_type: Some(0),
    };
    let mut f = Function::new(Address::new(0, bus, dev, 0).unwrap(), ids, Vec::new());
    let mut props = BTreeMap::new();
    props.insert("vendor-id".to_string(), PropValue::Ints(vec![i32::from(v)]));
    props.insert("device-id".to_string(), PropValue::Ints(vec![i32::from(d)]));
    props.insert("revision-id".to_string(), PropValue::Ints(vec![1]));
    let (name, ua) = path.rsplit('/').next().unwrap().split_once('@').unwrap();
    f.illumos = Some(IllumosNode {
        path: path.to_string(),
        path_source: Some(PathSource::Devinfo),
        node_name: name.to_string(),
        unit_address: Some(ua.to_string()),
        driver: driver.map(|(d, _)| d.to_string()),
        instance: driver.map(|(_, i)| i),
        parent_device_type: Some("pciex".to_string()),
        props,
        ..IllumosNode::default()
    });
    f.driver = driver.map(|(d, _)| d.to_string());
    f
}

fn write_snapshot(dir: &Path, host: &Host) -> String {
    let mut doc = serde_json::Map::new();
    doc.insert("format".into(), "pptctl-snapshot/1".into());
    let serde_json::Value::Object(fields) = serde_json::to_value(host).unwrap() else {
        panic!()
    };
    doc.extend(fields);
    let p = dir.join("host.json");
    std::fs::write(
        &p,
        serde_json::to_string(&serde_json::Value::Object(doc)).unwrap(),
    )
    .unwrap();
    format!("snapshot:{}", p.display())
}

/// 35 functions bound to ppt, each on its own bus behind a deep path.
fn many(dir: &Path) -> String {
    let mut fs = Vec::new();
    for i in 0..35u8 {
        let path =
            format!("/pci@0,0/pci8086,2f08@3/pci10b5,8747@0/pci10b5,8747@{i:x}/pci15d9,1528@0");
        fs.push(func(
            i + 1,
            0,
            &path,
            Some(("ppt", i32::from(i))),
            0x8086,
            0x1528,
        ));
    }
    write_snapshot(
        dir,
        &Host {
            functions: fs,
            ..Host::default()
        },
    )
}

#[test]
fn header_repeats_after_23_rows_and_long_paths_overflow() {
    let t = tempfile::tempdir().unwrap();
    let from = many(t.path());
    let out = run(t.path(), &from, &["-a", "-o", "dev,path,vendor"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // 35 rows + headers before rows 1 and 24.
    assert_eq!(lines.len(), 37);
    let header = "DEV        PATH                                              VENDOR";
    assert_eq!(lines[0], header);
    assert_eq!(lines[24], header);
    // PATH (width 50) overflows: value, one space, the last column.
    assert_eq!(
        lines[1],
        "/dev/ppt0  /pci@0,0/pci8086,2f08@3/pci10b5,8747@0/pci10b5,8747@0/pci15d9,1528@0 8086"
    );
    // Rows in device-tree order: @a comes after @9, not after @1.
    assert!(
        lines[11].starts_with("/dev/ppt10 /pci@0,0/pci8086,2f08@3/pci10b5,8747@0/pci10b5,8747@a/")
    );
}

#[test]
fn dev_overflow_is_caught_up_by_later_columns() {
    let t = tempfile::tempdir().unwrap();
    let f = func(
        1,
        0,
        "/pci@0,0/pci8086,151@1/pci15d9,1528@0",
        Some(("ppt", 123_456)),
        0x8086,
        0x1528,
    );
    let from = write_snapshot(
        t.path(),
        &Host {
            functions: vec![f],
            ..Host::default()
        },
    );
    let out = run(t.path(), &from, &["-a"]);
    assert_eq!(
        out.stdout,
        "DEV        VENDOR DEVICE PATH\n\
         /dev/ppt123456 8086 1528 /pci@0,0/pci8086,151@1/pci15d9,1528@0\n"
    );
}

#[test]
fn parsable_and_all() {
    let t = tempfile::tempdir().unwrap();
    let f = func(
        1,
        0,
        "/pci@0,0/pci8086,151@1/pci15d9,1528@0",
        Some(("ppt", 0)),
        0x8086,
        0x1528,
    );
    let from = write_snapshot(
        t.path(),
        &Host {
            functions: vec![f],
            ..Host::default()
        },
    );
    let out = run(t.path(), &from, &["-ap", "-o", "DEV,Path,rev,subvendor"]);
    assert_eq!(
        out.stdout,
        "/dev/ppt0:/pci@0,0/pci8086,151@1/pci15d9,1528@0:1:--\n"
    );
    let out = run(t.path(), &from, &["-a", "-p", "-o", "path"]);
    assert_eq!(out.stdout, "/pci@0,0/pci8086,151@1/pci15d9,1528@0\n");
    let out = run(t.path(), &from, &["-a", "-o", "all"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "DEV        VENDOR DEVICE SUBVENDOR SUBDEVICE REV PATH                                              LABEL"
    );
    assert!(lines[1].starts_with(
        "/dev/ppt0  8086   1528   --        --        1   /pci@0,0/pci8086,151@1/pci15d9,1528@0             Intel"
    ));
    let out = run(t.path(), &from, &["-a", "-p", "-o", "all"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, "pptctl: output field `all' invalid in parsable mode\n")
    );
}

#[test]
fn json_layout() {
    let t = tempfile::tempdir().unwrap();
    let from = write_snapshot(t.path(), &Host::default());
    let out = run(t.path(), &from, &["-j"]);
    assert_eq!(out.stdout, "{\n\t\"devices\": [\n\n\t]\n}\n");
    let f = func(1, 0, "/pci@0,0/x@0", Some(("ppt", 0)), 0x1, 0x2);
    let g = func(2, 0, "/pci@0,0/y@0", Some(("ppt", 1)), 0x1, 0x3);
    let from = write_snapshot(
        t.path(),
        &Host {
            functions: vec![f, g],
            ..Host::default()
        },
    );
    let out = run(t.path(), &from, &["-a", "-j"]);
    assert_eq!(
        out.stdout,
        "{\n\t\"devices\": [\n\
         \t\t{\"dev\":\"/dev/ppt0\",\"path\":\"/pci@0,0/x@0\",\"vendor-id\":\"1\",\"device-id\":\"2\",\"revision-id\":\"1\"},\n\
         \t\t{\"dev\":\"/dev/ppt1\",\"path\":\"/pci@0,0/y@0\",\"vendor-id\":\"1\",\"device-id\":\"3\",\"revision-id\":\"1\"}\n\
         \t]\n}\n"
    );
}

#[cfg(unix)]
#[test]
fn stale_dev_ppt_empties_the_list_with_a_warning() {
    use std::os::unix::fs::symlink;
    let t = tempfile::tempdir().unwrap();
    let f = func(
        1,
        0,
        "/pci@0,0/pci8086,151@1/pci15d9,1528@0",
        Some(("ppt", 0)),
        0x8086,
        0x1528,
    );
    let mut host = Host {
        functions: vec![f],
        ..Host::default()
    };
    host.ppt_links.push(PptLink {
        dev: "/dev/ppt0".into(),
        target: None,
        path: None,
    });
    let from = write_snapshot(t.path(), &host);
    let dev = t.path().join("dev");
    std::fs::create_dir(&dev).unwrap();
    symlink(
        "../devices/pci@0,0/pci8086,151@1/pci15d9,1528@0:ppt",
        dev.join("ppt0"),
    )
    .unwrap();
    let ok = run(t.path(), &from, &[]);
    assert_eq!(ok.stdout, "DEV        VENDOR DEVICE PATH\n/dev/ppt0  8086   1528   /pci@0,0/pci8086,151@1/pci15d9,1528@0\n");
    assert_eq!(ok.stderr, "");
    symlink("../devices/pci@0,0/gone@9:ppt", dev.join("ppt1")).unwrap();
    let stale = run(t.path(), &from, &[]);
    assert_eq!(stale.code, 0);
    assert_eq!(stale.stdout, "");
    assert!(
        stale
            .stderr
            .contains("/dev/ppt1: stale link: no device node at /pci@0,0/gone@9"),
        "{}",
        stale.stderr
    );
    let json = run(t.path(), &from, &["-j"]);
    assert_eq!(json.stdout, "{\n\t\"devices\": [\n\n\t]\n}\n");
    // -a does not look at the links.
    let all = run(t.path(), &from, &["-a", "-o", "dev"]);
    assert_eq!(all.stdout, "DEV\n/dev/ppt0\n");
}

#[test]
fn unknown_fields() {
    let t = tempfile::tempdir().unwrap();
    let f = func(1, 0, "/pci@0,0/x@0", Some(("ppt", 0)), 0x1, 0x2);
    let from = write_snapshot(
        t.path(),
        &Host {
            functions: vec![f],
            ..Host::default()
        },
    );
    let out = run(t.path(), &from, &["-a", "-o", "dev,foo"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, "DEV\n/dev/ppt0\n");
    // warn(3C) appends strerror(errno): the window-size ioctl on a pipe failed.
    assert_eq!(
        out.stderr,
        "pptctl: ignoring unknown output field: `foo': Inappropriate ioctl for device\n"
    );
    let out = run(t.path(), &from, &["-a", "-p", "-o", "dev,foo,bar"]);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(out.stderr, "pptctl: unknown output fields: `foo' `bar'\n");
    let out = run(t.path(), &from, &["-o", "foo"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, "pptctl: no valid output fields\n")
    );
}

#[test]
fn usage_errors() {
    let t = tempfile::tempdir().unwrap();
    let usage = "Usage:\npptctl list [ -j ] [ -a [-UN]]\npptctl list [-ap [-UN]] [-o fields]\n";
    let from = "snapshot:/nonexistent";
    for (args, msg) in [
        (&["stray"][..], "pptctl: unused arguments\n"),
        (&["-a", "--", "x"][..], "pptctl: unused arguments\n"),
        (
            &["-j", "-o", "dev"][..],
            "pptctl: -j option cannot be used with -p or -o options\n",
        ),
        (
            &["-jp"][..],
            "pptctl: -j option cannot be used with -p or -o options\n",
        ),
        (
            &["-p"][..],
            "pptctl: -o must be provided when using -p option\n",
        ),
        (
            &["-N"][..],
            "pptctl: -N and/or -U cannot be used without -a\n",
        ),
        (
            &["-x"][..],
            "list: illegal option -- x\npptctl: unrecognized option\n",
        ),
        (
            &["-o"][..],
            "list: option requires an argument -- o\npptctl: unrecognized option\n",
        ),
    ] {
        let out = run(t.path(), from, args);
        assert_eq!(out.code, 1, "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr, format!("{msg}{usage}"), "{args:?}");
    }
    let out = run(t.path(), from, &["-h"]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, usage, "")
    );
}

#[test]
fn omnios_candidates_in_libppt_order() {
    let Some(cache) = omnios_cache() else { return };
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    std::fs::create_dir_all(t.path().join("system/boot/etc")).unwrap();
    // The platform copy is ignored when the boot-module copy exists.
    std::fs::write(t.path().join("etc/ppt_matches"), "pci8086\n").unwrap();
    std::fs::write(
        t.path().join("system/boot/etc/ppt_matches"),
        "pci8086,1e10\n/pci@0,0/pci1028,577@16\npciex10ec\n/devices/pci@0,0/display@2\npci8086,0152\n",
    )
    .unwrap();
    let from = format!("devinfo:{}", cache.display());
    let out = run(t.path(), &from, &["-a"]);
    // The MEI function (8086,1e3a) never initialised: libppt sees it as
    // `/pci@0,0/pci1028,577`, so the rule with `@16` selects nothing. The
    // bridge 8086,1e10 is bound to pcieb but not initialised either.
    assert_eq!(
        out.stdout,
        "DEV        VENDOR DEVICE PATH\n\
         --         10ec   8168   /pci@0,0/pci8086,151@1/pci7470,3468@0\n\
         --         8086   1e10   /pci@0,0/pci8086,1e10\n\
         --         10ec   8168   /pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0\n"
    );
    std::fs::remove_file(t.path().join("system/boot/etc/ppt_matches")).unwrap();
    let out = run(t.path(), &from, &["-a", "-o", "path"]);
    // 14 Intel functions, but four uninitialised ones share the path
    // `/pci@0,0/pci1028,577`: one row for them, so 11 rows plus the header.
    assert_eq!(out.stdout.lines().count(), 12, "{}", out.stdout);
    // -U adds the functions without a driver; -N names other drivers.
    std::fs::write(t.path().join("etc/ppt_matches"), "pciex10ec,8168\n").unwrap();
    let out = run(t.path(), &from, &["-a", "-U", "-N", "-p", "-o", "dev,path"]);
    assert_eq!(
        out.stdout,
        "pci10ec,8168:/pci@0,0/pci8086,151@1/pci7470,3468@0\n\
         pci10ec,8168:/pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0\n\
         --:/pci@0,0/pci1028,577\n"
    );
    // Without -a nothing is bound to ppt and there are no links.
    let out = run(t.path(), &from, &[]);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}

/// ofmt_open's field-list rules (illumos-gate libofmt `ofmt_open`,
/// `split_str`, `ofmt_check`), each with pptadm's message and exit code.
#[test]
fn ofmt_field_lists() {
    let t = tempfile::tempdir().unwrap();
    let f = func(
        1,
        0,
        "/pci@0,0/pci8086,151@1/pci15d9,1528@0",
        Some(("ppt", 0)),
        0x8086,
        0x1528,
    );
    let from = write_snapshot(
        t.path(),
        &Host {
            functions: vec![f],
            ..Host::default()
        },
    );
    let all = run(t.path(), &from, &["-a", "-o", "all"]);
    assert_eq!(all.code, 0);
    // `all` in any case selects every field.
    for spelling in ["ALL", "All", "aLL"] {
        let out = run(t.path(), &from, &["-a", "-o", spelling]);
        assert_eq!((out.code, &out.stdout), (0, &all.stdout), "{spelling}");
    }
    // ... and is refused in parsable mode, in any case.
    for spelling in ["all", "ALL"] {
        let out = run(t.path(), &from, &["-a", "-p", "-o", spelling]);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (
                1,
                "",
                "pptctl: output field `all' invalid in parsable mode\n"
            ),
            "{spelling}"
        );
    }
    // Repeated fields are printed as often as named; more fields than the
    // table has is not an error.
    let out = run(
        t.path(),
        &from,
        &["-a", "-p", "-o", "rev,rev,rev,rev,rev,rev,rev,rev,rev,rev"],
    );
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "1:1:1:1:1:1:1:1:1:1\n", "")
    );
    let out = run(t.path(), &from, &["-a", "-o", "dev,DEV"]);
    assert_eq!(out.stdout, "DEV        DEV\n/dev/ppt0  /dev/ppt0\n");
    // Only empty tokens: no valid output fields (fatal in both modes).
    for args in [&["-a", "-o", ",,"][..], &["-a", "-p", "-o", ",,"][..]] {
        let out = run(t.path(), &from, args);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (1, "", "pptctl: no valid output fields\n"),
            "{args:?}"
        );
    }
    // Empty tokens between real ones vanish.
    let out = run(t.path(), &from, &["-a", "-p", "-o", ",rev,,dev,"]);
    assert_eq!(out.stdout, "1:/dev/ppt0\n");
    // An empty list: parsable mode says so, the table fails to allocate.
    let out = run(t.path(), &from, &["-a", "-p", "-o", ""]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            1,
            "pptctl: output fields must be specified in parsable mode\n"
        )
    );
    let out = run(t.path(), &from, &["-a", "-o", ""]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (1, "pptctl: Not enough space\n")
    );
}
