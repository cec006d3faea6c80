//! The modules and boot options the illumos loader passes to the kernel.
//!
//! The loader reads, in this order (illumos-gate
//! `usr/src/boot/forth/loader.conf`, whose comment gives the load order,
//! and `support.4th`, which reads them): `/boot/defaults/loader.conf`, the
//! `loader_conf_files` (`/boot/loader.conf /boot/loader.conf.local`), the
//! snippets in `/boot/conf.d` in lexicographical order, and last
//! `/boot/transient.conf`. A later assignment replaces an earlier one.
//!
//! A module is a stanza of variables sharing a prefix `X`: `X_load="YES"`
//! loads it, `X_name` names the file (the prefix itself when there is no
//! `X_name`), `X_type` and `X_flags` are passed on. A name that is not an
//! absolute path is looked up in each directory of `module_path`
//! (`/platform/i86pc/${ISADIR}/` by default), first found wins. The loader
//! passes each module to the kernel with the file's path first, then
//! `type=` and the flags, so dboot names it by its path unless the flags
//! hold a `name=` ([`super::dboot`]).
//!
//! Every other variable is part of the loader's environment, handed to the
//! kernel as boot properties (`disable-<driver>` among them), and
//! `boot-args` is the kernel's command line (`-B` options).

use std::collections::BTreeMap;

use super::options::{self, BootOption};
use super::{dboot, BootModule, ModuleType, Problem};
use crate::loader_conf::assignment;

/// The loader's defaults file on the boot volume.
pub const DEFAULTS: &str = "/boot/defaults/loader.conf";
/// The local snippets directory on the boot volume.
pub const CONF_D: &str = "/boot/conf.d";
/// The transient options bootadm manages, read last.
pub const TRANSIENT: &str = "/boot/transient.conf";
/// The default `module_path` (`${ISADIR}` expanded for amd64).
pub const MODULE_PATH: &str = "/platform/i86pc/amd64/";

const STANZA: [&str; 7] = [
    "_load", "_name", "_type", "_flags", "_before", "_after", "_error",
];

/// One assignment and where it is.
#[derive(Debug, Clone)]
struct Set {
    value: String,
    config: String,
    line: usize,
}

/// What the loader configuration makes of the next boot.
#[derive(Debug, Clone, Default)]
pub struct LoaderBoot {
    /// The modules, in load order, named and typed as dboot does.
    pub modules: Vec<BootModule>,
    /// The boot options: `boot-args` and the environment's properties.
    pub options: Vec<BootOption>,
    /// Modules the loader cannot find.
    pub problems: Vec<Problem>,
}

/// The variables of `files` (path on the volume, text), later ones
/// replacing earlier ones, and the stanza prefixes in order of first
/// appearance.
fn variables(files: &[(String, String)]) -> (BTreeMap<String, Set>, Vec<String>) {
    let mut vars: BTreeMap<String, Set> = BTreeMap::new();
    let mut prefixes: Vec<String> = Vec::new();
    for (config, text) in files {
        for (i, line) in text.lines().enumerate() {
            let Some(a) = assignment(line) else { continue };
            if let Some(p) = STANZA.iter().find_map(|s| a.key.strip_suffix(s)) {
                if !p.is_empty() && !prefixes.iter().any(|x| x == p) {
                    prefixes.push(p.to_string());
                }
            }
            vars.insert(
                a.key,
                Set {
                    value: a.value,
                    config: config.clone(),
                    line: i + 1,
                },
            );
        }
    }
    (vars, prefixes)
}

/// Where the loader finds a module file named `name`: itself when
/// absolute, else the first `module_path` directory holding it.
fn resolve(name: &str, module_path: &str, exists: &dyn Fn(&str) -> bool) -> Option<String> {
    if name.starts_with('/') {
        return exists(name).then(|| name.to_string());
    }
    module_path
        .split(';')
        .filter(|d| !d.is_empty())
        .map(|d| format!("{}/{name}", d.trim_end_matches('/')))
        .find(|p| exists(p))
}

/// The next boot as the loader configuration `files` (in load order)
/// describes it; `exists` tells whether a path exists on the volume.
pub fn read(files: &[(String, String)], exists: &dyn Fn(&str) -> bool) -> LoaderBoot {
    let (vars, prefixes) = variables(files);
    let module_path = vars
        .get("module_path")
        .map_or(MODULE_PATH.to_string(), |s| {
            s.value.replace("${ISADIR}", "amd64")
        });
    let mut out = LoaderBoot::default();
    for p in prefixes {
        let get = |k: &str| vars.get(&format!("{p}{k}"));
        let Some(load) = get("_load") else { continue };
        if !load.value.eq_ignore_ascii_case("yes") {
            continue;
        }
        let at = get("_name").unwrap_or(load);
        let name = get("_name").map_or(p.as_str(), |s| s.value.as_str());
        let name = name.replace("${ISADIR}", "amd64");
        let mut cmd = String::new();
        if let Some(t) = get("_type") {
            cmd.push_str(&format!(" type={}", t.value));
        }
        if let Some(f) = get("_flags") {
            cmd.push(' ');
            cmd.push_str(&f.value);
        }
        match resolve(&name, &module_path, exists) {
            Some(path) => {
                let m = dboot::module(&at.config, at.line, &path, &format!("{path}{cmd}"));
                out.modules.push(m);
            }
            None => {
                // Named as it would be had it been found, to judge whether
                // it matters.
                let m = dboot::module(&at.config, at.line, &name, &format!("{name}{cmd}"));
                if m.kind == ModuleType::File && super::is_module_file(&m.kernel_name) {
                    out.problems.push(Problem {
                        file: at.config.clone(),
                        line: at.line,
                        message: format!(
                            "module {p} loads {name}, which is not on the boot media{}: the loader fails to load it, so which /{} the next boot reads is not known",
                            if name.starts_with('/') { String::new() } else { format!(" (looked for in module_path {module_path})") },
                            m.kernel_name
                        ),
                    });
                }
            }
        }
    }
    out.options = environment_options(&vars);
    out
}

/// `boot-args` and the `disable-*` variables of the environment.
fn environment_options(vars: &BTreeMap<String, Set>) -> Vec<BootOption> {
    let mut out = Vec::new();
    if let Some(s) = vars.get("boot-args") {
        let words: Vec<&str> = s.value.split_whitespace().collect();
        let by = format!("{}:{}", s.config, s.line);
        out.extend(options::from_command_line(&words, &by));
    }
    for (k, s) in vars.iter().filter(|(k, _)| k.starts_with("disable-")) {
        out.push(BootOption {
            name: k.clone(),
            value: s.value.clone(),
            by: format!("{}:{}", s.config, s.line),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(p: &str, t: &str) -> (String, String) {
        (p.to_string(), t.to_string())
    }

    #[test]
    fn files_in_order_prefix_names_and_relative_paths() {
        let files = [
            f(DEFAULTS, "boot_archive_load=\"YES\"\nboot_archive_type=\"rootfs\"\nboot_archive_name=\"/platform/i86pc/${ISADIR}/boot_archive\"\n"),
            f("/boot/loader.conf", "ppt_aliases_load=\"NO\"\nppt_aliases_name=\"/boot/old\"\n"),
            f("/boot/loader.conf.local", "ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n"),
            f("/boot/conf.d/a", "x_load=YES\nx_type=file\nx_flags=\"name=/etc/driver_aliases\"\n"),
            f(TRANSIENT, "boot-args=\"-B disable-nvme=true\"\ndisable-ppt=\"true\"\n"),
        ];
        let exists = |p: &str| {
            [
                "/platform/i86pc/amd64/boot_archive",
                "/boot/bootfs/etc/ppt_aliases",
            ]
            .contains(&p)
        };
        let b = read(&files, &exists);
        assert_eq!(b.modules.len(), 2, "{b:?}");
        assert_eq!(b.modules[0].kind, ModuleType::Rootfs);
        assert_eq!(b.modules[1].kernel_name, "etc/ppt_aliases");
        assert_eq!(b.modules[1].config, "/boot/loader.conf.local");
        assert_eq!(b.problems.len(), 1, "x is looked up on module_path: {b:?}");
        assert!(b.problems[0].message.contains("module_path"));
        assert_eq!(b.options.len(), 2);
        assert_eq!(b.options[0].by, "/boot/transient.conf:1");
    }

    #[test]
    fn prefix_named_module_found_on_module_path() {
        let files = [f("/boot/loader.conf", "ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\n")];
        let exists = |p: &str| p == "/platform/i86pc/amd64/ppt_aliases";
        let b = read(&files, &exists);
        assert_eq!(b.modules[0].path, "/platform/i86pc/amd64/ppt_aliases");
        assert_eq!(b.modules[0].kernel_name, "etc/ppt_aliases");
    }
}
