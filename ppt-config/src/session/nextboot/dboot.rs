//! How dboot names and types the modules a boot loader hands it.
//!
//! Both GRUB and the loader pass each module with a command line: the
//! module's path first, then options. illumos-gate
//! `usr/src/uts/i86pc/dboot/dboot_startkern.c`:
//!
//! * `process_module`: the module's name is the first blank-separated
//!   word of its command line; a later `name=` with a non-empty value
//!   replaces it (an empty `name=` is ignored); `type=` sets the type
//!   (`rootfs`, `hash`, `environment`, `console-font`, anything else is
//!   `file`), the type being `file` when none is given; `hash=` attaches a
//!   hash; other words are ignored. The last `name=`/`type=` wins.
//! * `fixup_modules`: when there are exactly one or two modules, all of
//!   type `file` and none with `hash=`, they are the legacy pair: the
//!   first is the root filesystem and the second its hash.
//!
//! Only modules of type `file` become files the kernel can open by name
//! (`bbootfs_init`, `usr/src/uts/common/krtld/bootfsops.c`), under the
//! name `canonicalise` in the same file makes of it.

use super::{canonicalise, BootModule, ModuleType};

/// Words of a module command line, as `strsep` on blanks splits them
/// (empty words dropped).
fn words(cmdline: &str) -> impl Iterator<Item = &str> {
    cmdline
        .split([' ', '\t', '\n', '\r', '\x0c'])
        .filter(|w| !w.is_empty())
}

fn module_type(value: &str) -> ModuleType {
    match value {
        "rootfs" => ModuleType::Rootfs,
        "hash" => ModuleType::Hash,
        "environment" => ModuleType::Environment,
        "console-font" => ModuleType::ConsoleFont,
        _ => ModuleType::File,
    }
}

/// One module as dboot reads its command line (`process_module`).
/// `path` is the file the loader loaded (on the boot volume), `config` and
/// `line` where the configuration names it.
pub(crate) fn module(config: &str, line: usize, path: &str, cmdline: &str) -> BootModule {
    let mut it = words(cmdline);
    let mut name = it.next().unwrap_or_default().to_string();
    let mut kind = ModuleType::File;
    let mut name_given = None;
    let mut hashed = false;
    for w in it {
        if let Some(v) = w.strip_prefix("name=") {
            if !v.is_empty() {
                name = v.to_string();
                name_given = Some(v.to_string());
            }
        } else if let Some(v) = w.strip_prefix("type=") {
            if !v.is_empty() {
                kind = module_type(v);
            }
        } else if let Some(v) = w.strip_prefix("hash=") {
            hashed |= !v.is_empty();
        }
    }
    BootModule {
        config: config.to_string(),
        line,
        path: path.to_string(),
        name: name_given,
        kernel_name: canonicalise(&name),
        kind,
        hashed,
    }
}

/// `fixup_modules`: one or two untyped, unhashed modules are the legacy
/// root filesystem and its hash.
pub(crate) fn fixup(modules: &mut [BootModule]) {
    let legacy = (1..=2).contains(&modules.len())
        && modules
            .iter()
            .all(|m| m.kind == ModuleType::File && !m.hashed);
    if legacy {
        modules[0].kind = ModuleType::Rootfs;
        if let Some(m) = modules.get_mut(1) {
            m.kind = ModuleType::Hash;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_by_path_unless_name_given() {
        let m = module("m", 1, "/etc/ppt_aliases", "/etc/ppt_aliases type=file");
        assert_eq!(m.kernel_name, "etc/ppt_aliases");
        assert_eq!(m.kind, ModuleType::File);
        let m = module("m", 1, "/x", "/x type=file name=");
        assert_eq!(m.kernel_name, "x", "an empty name= is ignored");
        assert_eq!(m.name, None);
        let m = module("m", 1, "/x", "/x name=/a name=etc/b type=bogus");
        assert_eq!(m.kernel_name, "etc/b", "the last name= wins");
        assert_eq!(m.kind, ModuleType::File, "an unknown type is file");
        let m = module("m", 1, "/x", "/x type=rootfs");
        assert_eq!(m.kind, ModuleType::Rootfs);
    }

    #[test]
    fn legacy_pair() {
        let mut two = vec![
            module("m", 1, "/a", "/a"),
            module("m", 2, "/etc/ppt_aliases", "/etc/ppt_aliases"),
        ];
        fixup(&mut two);
        assert_eq!(two[0].kind, ModuleType::Rootfs);
        assert_eq!(two[1].kind, ModuleType::Hash);
        let mut three = vec![
            module("m", 1, "/a", "/a"),
            module("m", 2, "/b", "/b"),
            module("m", 3, "/c", "/c"),
        ];
        fixup(&mut three);
        assert!(three.iter().all(|m| m.kind == ModuleType::File));
        let mut typed = vec![
            module("m", 1, "/a", "/a type=rootfs"),
            module("m", 2, "/b", "/b"),
        ];
        fixup(&mut typed);
        assert_eq!(typed[1].kind, ModuleType::File);
    }
}
