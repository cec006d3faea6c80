//! The entry GRUB boots from a `menu.lst`: its modules and the boot
//! options of its kernel line.
//!
//! GRUB legacy hands each `module` line's words, path first, to the
//! kernel as the module's command line (multiboot `mod_name`); `kernel$`
//! and `module$` expand `$ISADIR` (`amd64` on a 64-bit machine, the only
//! one SmartOS boots). The kernel line's words after the path are the
//! kernel's command line, whose `-B` options become boot properties
//! ([`super::options`]).

use super::options::{self, BootOption};
use super::{dboot, BootModule, MENU_LST};
use crate::menu_lst::command;

/// `$ISADIR` as GRUB expands it for `kernel$`/`module$` on amd64.
const ISADIR: &str = "amd64";

fn expand(kw: &str, word: &str) -> String {
    if kw.ends_with('$') {
        word.replace("${ISADIR}", ISADIR).replace("$ISADIR", ISADIR)
    } else {
        word.to_string()
    }
}

/// A GRUB path without its `(hd0,0)` device prefix.
fn volume_path(word: &str) -> &str {
    match word.strip_prefix('(') {
        Some(rest) => rest.split_once(')').map_or(word, |(_, p)| p),
        None => word,
    }
}

/// What GRUB's default entry loads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrubEntry {
    /// Its modules, named and typed as dboot does.
    pub modules: Vec<BootModule>,
    /// The `-B` options of its kernel line.
    pub options: Vec<BootOption>,
}

/// The entry GRUB boots (`default N`, 0 when not given or out of range)
/// in a `menu.lst` text.
pub fn default_entry(text: &str) -> GrubEntry {
    let mut default = 0usize;
    let mut entries: Vec<GrubEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((kw, args)) = command(line) else {
            continue;
        };
        let by = format!("{MENU_LST}:{}", i + 1);
        match kw {
            "default" if entries.is_empty() => {
                default = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
            }
            "title" => entries.push(GrubEntry::default()),
            "kernel" | "kernel$" => {
                if let Some(e) = entries.last_mut() {
                    let words: Vec<String> = args.iter().skip(1).map(|w| expand(kw, w)).collect();
                    e.options = options::from_command_line(&words, &by);
                }
            }
            "module" | "module$" if !args.is_empty() => {
                if let Some(e) = entries.last_mut() {
                    let words: Vec<String> = args.iter().map(|w| expand(kw, w)).collect();
                    let path = volume_path(&words[0]).to_string();
                    let cmdline = words.join(" ");
                    e.modules
                        .push(dboot::module(MENU_LST, i + 1, &path, &cmdline));
                }
            }
            _ => {}
        }
    }
    let n = if default < entries.len() { default } else { 0 };
    let mut entry = entries.into_iter().nth(n).unwrap_or_default();
    dboot::fixup(&mut entry.modules);
    entry
}

#[cfg(test)]
mod tests {
    use super::super::ModuleType;
    use super::*;

    const MENU: &str = "default 1\ntimeout 5\ntitle other\n  kernel /platform/i86pc/kernel/amd64/unix\n  module /overlay/etc/ppt_aliases type=file name=etc/driver_aliases\ntitle live\n  kernel$ /platform/i86pc/kernel/$ISADIR/unix -B smartos=true,disable-ppt=true\n  module$ /platform/i86pc/$ISADIR/boot_archive type=rootfs name=ramdisk\n  module /overlay/etc/ppt_aliases type=file type=file name=etc/ppt_aliases\n  module /overlay/etc/ppt_matches type=file\n  module /etc/ppt_aliases type=file name=\n";

    #[test]
    fn default_entry_names_and_options() {
        let e = default_entry(MENU);
        assert_eq!(e.modules.len(), 4, "{e:?}");
        assert_eq!(e.modules[0].path, "/platform/i86pc/amd64/boot_archive");
        assert_eq!(e.modules[0].kind, ModuleType::Rootfs);
        assert_eq!(e.modules[1].kernel_name, "etc/ppt_aliases");
        assert_eq!(e.modules[1].line, 9);
        assert_eq!(
            e.modules[2].kernel_name, "overlay/etc/ppt_matches",
            "without name= a module is named by its path"
        );
        assert_eq!(
            e.modules[3].kernel_name, "etc/ppt_aliases",
            "path-named, empty name= ignored"
        );
        assert_eq!(e.options.len(), 2);
        assert_eq!(e.options[1].name, "disable-ppt");
        assert_eq!(e.options[1].by, "/boot/grub/menu.lst:7");
    }

    #[test]
    fn untyped_pair_is_rootfs_and_hash() {
        let e = default_entry(
            "title x\nkernel /platform/i86pc/kernel/amd64/unix\nmodule /platform/i86pc/amd64/boot_archive\nmodule /etc/ppt_aliases\n",
        );
        assert_eq!(e.modules[0].kind, ModuleType::Rootfs);
        assert_eq!(e.modules[1].kind, ModuleType::Hash);
        assert!(e.modules[1].bootfs_name().is_none());
    }
}
