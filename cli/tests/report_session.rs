//! `pptctl report --html` goes through the session like every other
//! command: the host is titled with its own name (`/etc/nodename` under
//! `--root`), not the `--from` string, and the functions the next boot
//! binds to ppt carry the reserved marker.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

mod support;
use support::{example_dir, example_from, pptctl_at};

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn report(root: &Path) -> String {
    let page = root.join("page.html");
    let out = pptctl_at(root, example_from())
        .args(["report", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(page).unwrap()
}

/// The reserved marker as the topology draws it.
const R: &str = ">R</text>";

#[test]
fn report_is_titled_with_the_host_name_and_marks_the_next_boot() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&example_dir().join("root"), root.path());
    std::fs::write(root.path().join("etc/nodename"), "gpu-node\n").unwrap();
    let html = report(root.path());
    assert!(
        html.contains("id=\"host-gpu-node\""),
        "no host section named gpu-node"
    );
    assert!(
        html.contains("<h1>pptctl report: gpu-node</h1>") && html.contains("<h2>gpu-node</h2>"),
        "not titled with the host's name"
    );
    // The --from string is named only as the source, never as the host.
    assert_eq!(html.matches("snapshot:").count(), 1);
    assert!(html.contains("read from snapshot:"));
    // the example's ppt_aliases binds the GPU and its audio function
    assert_eq!(html.matches(R).count(), 2);

    // only the GPU's line left: only the GPU is marked
    std::fs::write(
        root.path().join("etc/ppt_aliases"),
        "ppt \"/pci@0,0/pci8086,151@1/display@0\"\n",
    )
    .unwrap();
    let html = report(root.path());
    assert_eq!(html.matches(R).count(), 1);
}
