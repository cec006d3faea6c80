//! The `ppt_aliases` edit of a plan: one alias per function, the warnings
//! about what an alias takes or keeps, and the orphans `unreserve` drops.

use pci_core::{Function, Host, PathSource};
use pci_illumos::binding;

use super::choose::Chosen;
use super::{id_alias, Action, Options, PlannedFunction, ReserveError, DRIVER};
use crate::aliases_file::AliasesFile;
use crate::session::NextBootPpt;

/// The alias for `f`: the id alias with `--by-id`; the compatible alias
/// for a function no driver claims (a path alias never takes it: the
/// kernel looks path aliases up only for nodes another driver has bound,
/// pci-illumos `binding`); else its devfs path. Compatible aliases written
/// are recorded in `by_id_written`.
fn alias_for<'h>(
    f: &'h Function,
    path: Option<&str>,
    action: Action,
    opts: Options,
    warnings: &mut Vec<String>,
    by_id_written: &mut Vec<(&'h Function, String)>,
) -> Result<String, ReserveError> {
    if opts.by_id {
        return Ok(id_alias(f));
    }
    if action == Action::Reserve && binding::unclaimed(f) {
        let a = binding::compatible_alias(f)
            .map(str::to_string)
            .unwrap_or_else(|| id_alias(f));
        warnings.push(format!(
            "{}: no driver claims {} (the device tree shows it unbound), so a path alias \
             would never take effect: the kernel looks path aliases up only for nodes \
             another driver has bound first. Writing the compatible alias ppt \"{a}\" instead.",
            f.address,
            path.unwrap_or("it"),
        ));
        by_id_written.push((f, a.clone()));
        return Ok(a);
    }
    path.map(str::to_string)
        .ok_or(ReserveError::NoPath { address: f.address })
}

/// The planned functions and the compatible aliases written for them.
pub(super) type Edited<'h> = (Vec<PlannedFunction>, Vec<(&'h Function, String)>);

/// Adds or removes each chosen function's alias in `aliases`; returns the
/// planned functions and the compatible aliases written. A function is
/// already reserved only when the editor adds nothing for it (a line the
/// kernel rejects is replaced, so it never counts) and `next`, the
/// session's one answer, has it on ppt after the next boot.
pub(super) fn edit<'h>(
    chosen: &[Chosen<'h>],
    next: &NextBootPpt,
    action: Action,
    opts: Options,
    aliases: &mut AliasesFile,
    warnings: &mut Vec<String>,
) -> Result<Edited<'h>, ReserveError> {
    let mut functions = Vec::new();
    let mut by_id_written = Vec::new();
    for (f, sibling_of) in chosen {
        let path = f
            .illumos
            .as_ref()
            .map(|n| n.path.clone())
            .filter(|p| p.starts_with('/'));
        let alias = alias_for(
            f,
            path.as_deref(),
            action,
            opts,
            warnings,
            &mut by_id_written,
        )?;
        if !opts.by_id
            && f.illumos.as_ref().and_then(|n| n.path_source) == Some(PathSource::Predicted)
        {
            warnings.push(format!(
                "{}: the path {alias} is predicted, not read from the device tree; \
                 check it against `prtconf -v` before rebooting",
                f.address
            ));
        }
        let after = next.at(f.address);
        let already = match action {
            Action::Reserve => !aliases.add_alias(DRIVER, &alias)? && after.on_ppt == Some(true),
            Action::Unreserve => aliases.remove_alias(DRIVER, &alias) == 0,
        };
        if let (Some(s), false) = (sibling_of, already) {
            warnings.push(match action {
                Action::Reserve => format!(
                    "also reserving {}, another function of the device of {s} \
                     (--single-function to leave it with the host)",
                    f.address
                ),
                Action::Unreserve => format!(
                    "also unreserving {}, another function of the device of {s}",
                    f.address
                ),
            });
        }
        functions.push(PlannedFunction {
            address: f.address,
            path,
            ids: (f.ids.vendor, f.ids.device),
            alias,
            sibling_of: *sibling_of,
            already,
            after,
            ppt_instance: f
                .illumos
                .as_ref()
                .filter(|n| n.driver.as_deref() == Some(DRIVER))
                .and_then(|n| n.instance),
        });
    }
    Ok((functions, by_id_written))
}

/// On unreserve: an id alias keeps binding a function whose path alias
/// is gone.
pub(super) fn id_aliases_kept(
    chosen: &[Chosen<'_>],
    aliases: &AliasesFile,
    warnings: &mut Vec<String>,
) {
    for (f, _) in chosen {
        let Some(node) = &f.illumos else { continue };
        for (line, e) in aliases.entries() {
            if e.driver.value != DRIVER {
                continue;
            }
            for a in &e.aliases {
                if !a.value.starts_with('/') && node.compatible.contains(&a.value) {
                    warnings.push(format!(
                        "{} stays bound to ppt by the id alias \"{}\" ({}:{line}), \
                         which takes every device with that id; remove it with --by-id",
                        f.address,
                        a.value,
                        aliases.file()
                    ));
                }
            }
        }
    }
}

/// On reserve: each id alias written binds every device with that id.
pub(super) fn id_aliases_take_all(
    host: &Host,
    written: Vec<(&Function, String)>,
    warnings: &mut Vec<String>,
) {
    let mut seen = Vec::new();
    for (f, a) in written {
        if seen.contains(&a) {
            continue;
        }
        let others: Vec<String> = host
            .functions
            .iter()
            .filter(|o| o.ids.vendor == f.ids.vendor && o.ids.device == f.ids.device)
            .map(|o| o.address.to_string())
            .collect();
        warnings.push(format!(
            "ppt \"{a}\" binds EVERY device with id {:04x}:{:04x}, now and when such \
             devices are added later (on this host: {})",
            f.ids.vendor,
            f.ids.device,
            others.join(", ")
        ));
        seen.push(a);
    }
}

/// On unreserve: removes the path aliases of `orphans` (devfs paths no
/// longer on the host, see [`super::orphans`]).
pub(super) fn remove_orphans(
    orphans: &[String],
    aliases: &mut AliasesFile,
    warnings: &mut Vec<String>,
) {
    for p in orphans {
        if aliases.remove_alias(DRIVER, p) > 0 {
            warnings.push(format!(
                "removing the alias for {p}, which is not a device on this host"
            ));
        } else {
            warnings.push(format!(
                "{p} is neither on this host nor in {}",
                aliases.file()
            ));
        }
    }
}
