//! `pptctl fleet` as a well-made command: a manual page for every
//! subcommand, `--db` before `fleet`, after it or after the subcommand (and
//! refused before another subcommand, or twice naming two databases), a
//! header on `fleet hosts` and a word when no host qualifies, and
//! `--help` that lists only the options that do something there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::run;

#[path = "../../fleet/tests/support/mod.rs"]
mod fleet_support;

use fleet_support::{host, write, NV};

const SUBCOMMANDS: [&str; 6] = ["ingest", "hosts", "devices", "history", "report", "verify"];

#[test]
fn every_fleet_subcommand_has_a_manual_page() {
    let (code, page, err) = run(&["man", "fleet"]);
    assert_eq!(code, 0, "{err}");
    for s in SUBCOMMANDS {
        assert!(
            page.contains(&format!("pptctl\\-fleet\\-{s}")),
            "pptctl-fleet(8) does not name pptctl-fleet-{s}(8)"
        );
        let (code, page, err) = run(&["man", &format!("fleet-{s}")]);
        assert_eq!(code, 0, "fleet-{s}: {err}");
        assert!(page.starts_with(".ie"), "{page}");
        assert!(page.contains(&format!(".TH pptctl-fleet-{s} 8")), "{page}");
        assert!(page.contains("\\-\\-db"), "fleet-{s} names --db: {page}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for s in SUBCOMMANDS {
        assert!(
            dir.path().join(format!("pptctl-fleet-{s}.8")).is_file(),
            "{s}"
        );
    }
}

#[test]
fn subcommand_help_lists_only_what_works_there() {
    for s in SUBCOMMANDS {
        let (code, help, err) = run(&["fleet", s, "--help"]);
        assert_eq!(code, 0, "{err}");
        for global in [
            "--root",
            "--cfgspace",
            "--boot-media",
            "--boot-style",
            "--from",
        ] {
            assert!(
                !help.contains(global),
                "fleet {s} --help offers {global}:\n{help}"
            );
        }
        assert!(help.contains("--db"), "{help}");
    }
    for args in [
        ["fleet", "hosts", "--root", "/", "--db", "x.db"],
        ["fleet", "--root", "/tmp", "hosts", "--db", "x.db"],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "--root is refused after fleet: {err}");
        assert!(err.contains("--root"), "{err}");
    }
    // The other subcommands keep the host options, before and after.
    let (_, help, _) = run(&["show", "--help"]);
    assert!(help.contains("--root") && help.contains("--from"), "{help}");
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018");
    let from = format!("snapshot:{}", ex.join("host.json").display());
    let root = ex.join("root");
    let (code, _, err) = run(&[
        "show",
        "-n",
        "--from",
        &from,
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn db_goes_before_or_after_the_subcommand_and_hosts_has_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let nv = NV;
    let f = write(
        dir.path(),
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[nv]),
    );
    let db = dir.path().join("f.db");
    let d = db.to_str().unwrap();
    let (code, out, err) = run(&["fleet", "ingest", "--db", d, f.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, after, err) = run(&["fleet", "hosts", "--db", d]);
    assert_eq!(code, 0, "{err}");
    let (_, before, _) = run(&["fleet", "--db", d, "hosts"]);
    assert_eq!(before, after);
    let mut lines = after.lines();
    assert_eq!(lines.next(), Some("HOST\tDEVICES\tADDRESSES"), "{after}");
    assert!(lines.next().unwrap().starts_with("alpha\t1\t"), "{after}");
    let (code, out, err) = run(&["fleet", "hosts", "--db", d, "--count", "5"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "HOST\tDEVICES\tADDRESSES\n");
    assert!(
        err.contains("no host can give 5 devices matching :"),
        "{err}"
    );
}

#[test]
fn db_before_fleet_is_the_fleets_and_refused_elsewhere_or_twice() {
    let dir = tempfile::tempdir().unwrap();
    let nv = NV;
    let f = write(
        dir.path(),
        "a.json",
        &host("alpha", "2026-11-01T00:00:00Z", &[nv]),
    );
    let db = dir.path().join("f.db");
    let d = db.to_str().unwrap();
    let (code, out, err) = run(&["--db", d, "fleet", "ingest", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(db.is_file(), "ingest wrote where --db before fleet said");
    let (code, after, err) = run(&["fleet", "hosts", "--db", d]);
    assert_eq!(code, 0, "{err}");
    assert!(after.contains("alpha\t1\t"), "{after}");
    let (code, before, err) = run(&["--db", d, "fleet", "hosts"]);
    assert_eq!((code, before.as_str()), (0, after.as_str()), "{err}");
    // The same database twice is one database.
    let (code, twice, err) = run(&["--db", d, "fleet", "hosts", "--db", d]);
    assert_eq!((code, twice.as_str()), (0, after.as_str()), "{err}");
    // Two different databases: refused as a usage error, naming both.
    let other = dir.path().join("other.db");
    let o = other.to_str().unwrap();
    for args in [
        ["--db", d, "fleet", "hosts", "--db", o],
        ["--db", d, "fleet", "--db", o, "hosts"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("--db given twice"), "{err}");
        assert!(err.contains(d) && err.contains(o), "{err}");
        assert!(err.contains("Usage:"), "{err}");
    }
    assert!(!other.exists(), "nothing was opened");
    // Before another subcommand: refused, with the usage, nothing run.
    let ex = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/levon-2018");
    let from = format!("snapshot:{}", ex.join("host.json").display());
    for sub in ["show", "check", "snapshot"] {
        let (code, out, err) = run(&["--from", &from, "--db", d, sub]);
        assert_eq!(code, 2, "{sub}: {err}");
        assert!(out.is_empty(), "{sub}: {out}");
        assert!(
            err.contains(&format!(
                "only `pptctl fleet` reads one, not `pptctl {sub}`"
            )),
            "{err}"
        );
        assert!(err.contains("Usage:"), "{err}");
    }
    // Offered by pptctl --help, by no other subcommand's --help.
    let (_, top, _) = run(&["--help"]);
    assert!(top.contains("--db"), "{top}");
    for sub in ["show", "check", "report", "diff", "snapshot"] {
        let (code, help, _) = run(&[sub, "--help"]);
        assert_eq!(code, 0);
        assert!(!help.contains("--db"), "{sub} --help offers --db:\n{help}");
    }
}
