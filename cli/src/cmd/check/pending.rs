//! Gathers the pending configuration for `check` into the plain data the
//! rules read: the next boot's binding per function and what each
//! `ppt_aliases` entry binds (pci-illumos `binding::predict` over the kernel
//! files under `--root`), the functions `ppt_matches` lists (libppt's
//! matching), and the VM payloads given with `--vm` (ppt-config `vmadm`
//! validation).

use std::path::PathBuf;

use pci_core::{Address, Host};
use pci_illumos::binding::{self, BoundBy, KernelFiles, PPT};
use pci_illumos::matches::{NodeIds, PptMatches};
use pci_illumos::root::HostRoot;
use ppt_config::viability::function_rules::NextBoot;
use ppt_config::viability::pending::{AliasUse, VmPlan};
use ppt_config::viability::Plan;
use serde_json::Value;

use crate::error::CliError;
use crate::global::Global;

/// Fills `plan.next_boot` and `plan.pending` from the files under
/// `--root` and the `vms` payloads.
pub fn gather(
    global: &Global,
    host: &Host,
    vms: &[PathBuf],
    plan: &mut Plan,
) -> Result<(), CliError> {
    let root = HostRoot::new(&global.root);
    let files = KernelFiles::load(&root).map_err(|e| CliError::input(e.to_string()))?;
    next_boot(host, &files, plan);
    let matches = PptMatches::load(&root).map_err(|e| CliError::input(e.to_string()))?;
    for d in &matches.diagnostics {
        eprintln!("pptctl: warning: {d}");
    }
    for f in &host.functions {
        if let Some(node) = NodeIds::of(f) {
            if matches.first_match(&node).is_some() {
                plan.pending.matches_listed.insert(f.address);
            }
        }
    }
    for file in vms {
        plan.pending.vms.push(read_vm(file)?);
    }
    Ok(())
}

/// The address of the function with devfs `path`.
fn address_of(host: &Host, path: &str) -> Option<Address> {
    host.functions
        .iter()
        .find(|f| f.illumos.as_ref().is_some_and(|n| n.path == path))
        .map(|f| f.address)
}

fn next_boot(host: &Host, files: &KernelFiles, plan: &mut Plan) {
    let report = binding::predict(host, files);
    for p in &report.predictions {
        let Some(f) = host.functions.get(p.function) else {
            continue;
        };
        let prediction = if p.known {
            let why = match &p.after {
                Some(d) => {
                    let place = format!("{} line {}", d.binding.file, d.binding.line);
                    match &d.via {
                        BoundBy::PathAlias => format!("path alias in {place}"),
                        BoundBy::Compatible(c) => format!("\"{c}\" in {place}"),
                        BoundBy::NodeName(n) => format!("node name {n}"),
                    }
                }
                None => "no alias binds it".to_string(),
            };
            NextBoot {
                dev: p.dev.as_ref().map(|d| {
                    if d.certain {
                        d.dev.clone()
                    } else {
                        format!("{} (a guess: the instance is not recorded yet)", d.dev)
                    }
                }),
                ..NextBoot::new(p.driver_after(), why)
            }
        } else if p.driver_now.as_deref() == Some(PPT) {
            // ppt ships with no aliases of its own (illumos.md §2.2), so
            // a node no ppt_aliases entry decides leaves ppt; which host
            // driver takes it needs driver_aliases, which was not read.
            NextBoot {
                driver: None,
                why: "no ppt_aliases entry binds it; /etc/driver_aliases was not read".into(),
                known: false,
                dev: None,
            }
        } else {
            continue;
        };
        plan.next_boot.insert(f.address, prediction);
    }
    for a in &report.ppt_aliases {
        plan.pending.aliases.push(AliasUse {
            alias: a.alias.clone(),
            file: a.file.clone(),
            line: Some(a.line),
            is_path: a.kind == "path",
            binds: a
                .matches
                .iter()
                .filter_map(|p| address_of(host, p))
                .collect(),
            notes: a.lints.iter().map(|l| l.message.clone()).collect(),
        });
    }
}

/// Reads one vmadm payload; the rules judge it as `vm-json --check` does
/// (ppt-config `vmadm::judge`).
fn read_vm(file: &std::path::Path) -> Result<VmPlan, CliError> {
    let shown = file.display().to_string();
    let bytes = crate::error::read_payload(file)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::input(format!(
            "{shown}:{}: not a vmadm JSON payload: {e}",
            e.line()
        ))
    })?;
    Ok(VmPlan::from_payload(shown, v))
}
