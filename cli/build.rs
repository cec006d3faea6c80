//! Records the commit the binary was built from, for `pptctl --version`.
//! Works without git or outside a checkout (a release tarball): the commit
//! is then `unknown`.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PPTCTL_BUILD_COMMIT");
    let commit = std::env::var("PPTCTL_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
            // Rebuild when HEAD moves: a worktree's own HEAD and its reflog
            // change on checkout and on every commit.
            if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
                let dir = PathBuf::from(dir);
                for f in ["HEAD", "logs/HEAD"] {
                    if dir.join(f).exists() {
                        println!("cargo:rerun-if-changed={}", dir.join(f).display());
                    }
                }
            }
            Some(hash)
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=PPTCTL_COMMIT={commit}");
}
