//! What the next boot reads: the boot modules named by the next boot's
//! GRUB `menu.lst` or loader configuration, and the platform copies.
//!
//! illumos reads `ppt_aliases`, `driver_aliases`, `name_to_major` and
//! `path_to_inst` through krtld before the root is mounted, and every open
//! tries the boot modules first (illumos-gate
//! `usr/src/uts/common/krtld/bootrd.c`, `BRD_OPEN`: "we try bootfs
//! first", then the ramdisk). A boot module is found by the name the boot
//! loader gave it: `build_boot_properties` in
//! `usr/src/uts/i86pc/os/fakebop.c` skips a module without a name, so a
//! `module` line without `name=` replaces nothing; `canonicalise` in
//! `usr/src/uts/common/krtld/bootfsops.c` drops leading slashes and a
//! `system/boot/` prefix, so `etc/ppt_aliases`, `/etc/ppt_aliases` and
//! `/system/boot/etc/ppt_aliases` all replace `/etc/ppt_aliases`.
//! `bbootfs_init` links each module at the head of its list and
//! `bbootfs_open` takes the first match, so of two modules with one name
//! the one loaded last wins.
//!
//! `/system/boot` shows the modules of the *current* boot. The next boot
//! is predicted from the module lines of the boot media's configuration
//! (`--boot-media`); files no module replaces come from the platform copy,
//! the root's `/etc`.

use std::path::Path;

use pci_illumos::aliases::{file_bytes, BindingFileError};
use pci_illumos::files::{ConfigFiles, FileState, Origin};
use pci_illumos::root::HostRoot;

use crate::boot_media::BootStyle;
use crate::loader_conf::assignment;
use crate::menu_lst::command;

/// GRUB's configuration on the boot volume.
pub const MENU_LST: &str = "/boot/grub/menu.lst";
/// The loader's configuration on the boot volume.
pub const LOADER_CONF: &str = "/boot/loader.conf";
/// The local loader configuration, read after [`LOADER_CONF`].
pub const LOADER_CONF_LOCAL: &str = "/boot/loader.conf.local";

/// Where a SmartOS host usually has its boot media mounted, tried under
/// `--root` in this order when `--boot-media` is not given: the USB key's
/// mount point (smartos-live `src/lib/sdc/usb-key.sh`, `/mnt/` plus the
/// `joyentfs/usb_mountpoint` property, `usbkey` by default) and the boot
/// pool's boot dataset that piadm manages (`/<pool>/boot`, `zones` being
/// the usual pool; `mount_bootpool_fake_usbkey` in the same file).
pub const USUAL_MEDIA: [&str; 2] = ["/mnt/usbkey", "/zones/boot"];

/// The files the kernel reads through krtld, whose next-boot copy a boot
/// module can replace (plus `ppt_matches`, which libppt reads from
/// `/system/boot` first).
pub const MODULE_FILES: [&str; 5] = [
    "/etc/ppt_aliases",
    "/etc/ppt_matches",
    "/etc/driver_aliases",
    "/etc/name_to_major",
    "/etc/path_to_inst",
];

/// One boot module the next boot loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootModule {
    /// The configuration file that names it (path on the boot volume).
    pub config: String,
    /// 1-based line of the `module` line (GRUB) or the `_name` assignment
    /// (loader).
    pub line: usize,
    /// The module file's path on the boot volume.
    pub path: String,
    /// `name=`, when given.
    pub name: Option<String>,
}

impl BootModule {
    /// The name the kernel finds the module by (bootfsops.c
    /// `canonicalise`), or `None` for a module without `name=`.
    pub fn bootfs_name(&self) -> Option<String> {
        self.name.as_deref().map(canonicalise)
    }
}

/// bootfsops.c `canonicalise`: leading slashes dropped, runs of slashes
/// made one, a `system/boot/` prefix dropped, `.` skipped and `..` taking
/// back one component.
pub fn canonicalise(name: &str) -> String {
    let trimmed = name.trim_start_matches('/');
    let rest = if trimmed == "system/boot" {
        ""
    } else {
        trimmed.strip_prefix("system/boot/").unwrap_or(trimmed)
    };
    let mut out: Vec<&str> = Vec::new();
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        match part {
            "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

fn name_arg<'a>(args: impl Iterator<Item = &'a str>) -> Option<String> {
    // A repeated `name=` (Levon's 2018 how-to repeats `type=`): the last one
    // is what the loader keeps.
    args.filter_map(|a| a.strip_prefix("name="))
        .last()
        .map(str::to_string)
}

/// The modules of the entry GRUB boots (`default N`, 0 when not given or
/// out of range) in a `menu.lst` text.
pub fn grub_modules(text: &str) -> Vec<BootModule> {
    let mut default = 0usize;
    let mut entries: Vec<Vec<BootModule>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((kw, args)) = command(line) else {
            continue;
        };
        match kw {
            "default" if entries.is_empty() => {
                default = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
            }
            "title" => entries.push(Vec::new()),
            "module" | "module$" => {
                if let (Some(entry), Some(path)) = (entries.last_mut(), args.first()) {
                    entry.push(BootModule {
                        config: MENU_LST.to_string(),
                        line: i + 1,
                        path: (*path).to_string(),
                        name: name_arg(args.iter().skip(1).copied()),
                    });
                }
            }
            _ => {}
        }
    }
    let n = if default < entries.len() { default } else { 0 };
    entries.into_iter().nth(n).unwrap_or_default()
}

/// The modules the loader loads: `P_load="YES"` stanzas of `loader.conf`
/// and then `loader.conf.local` (later assignments win), each with its
/// `P_name` path and the `name=` of `P_flags`.
pub fn loader_modules(files: &[(&str, &str)]) -> Vec<BootModule> {
    struct Stanza {
        load: bool,
        path: Option<(String, usize, String)>,
        flags: Option<String>,
    }
    let mut order: Vec<String> = Vec::new();
    let mut stanzas: std::collections::HashMap<String, Stanza> = Default::default();
    for (config, text) in files {
        for (i, line) in text.lines().enumerate() {
            let Some(a) = assignment(line) else { continue };
            let Some((prefix, key)) = a.key.rsplit_once('_') else {
                continue;
            };
            if !matches!(key, "load" | "name" | "flags") {
                continue;
            }
            if !stanzas.contains_key(prefix) {
                order.push(prefix.to_string());
            }
            let s = stanzas.entry(prefix.to_string()).or_insert(Stanza {
                load: false,
                path: None,
                flags: None,
            });
            match key {
                "load" => s.load = a.value.eq_ignore_ascii_case("yes"),
                "name" => s.path = Some(((*config).to_string(), i + 1, a.value)),
                _ => s.flags = Some(a.value),
            }
        }
    }
    order
        .iter()
        .filter_map(|p| {
            let s = stanzas.get(p)?;
            let (config, line, path) = s.path.clone()?;
            s.load.then(|| BootModule {
                config,
                line,
                path,
                name: s
                    .flags
                    .as_deref()
                    .and_then(|f| name_arg(f.split_whitespace())),
            })
        })
        .collect()
}

/// A module path that stays on the boot volume (absolute, no `..`).
fn volume_path(path: &str) -> Option<&str> {
    (path.starts_with('/') && !path.split('/').any(|c| c == "..")).then_some(path)
}

/// The boot media a session reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// The directory as given (or as found under `--root`), for messages.
    pub shown: String,
    /// GRUB or loader.
    pub style: BootStyle,
}

impl MediaRef {
    /// How to name a file of the volume in messages.
    pub fn show(&self, volume_path: &str) -> String {
        Path::new(&self.shown)
            .join(volume_path.trim_start_matches('/'))
            .display()
            .to_string()
    }
}

fn text_of(files: &ConfigFiles, path: &str) -> String {
    files
        .state(Origin::BootMedia, path)
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The modules of the next boot named by the captured configuration.
pub fn modules(files: &ConfigFiles, style: BootStyle) -> Vec<BootModule> {
    match style {
        BootStyle::Grub => grub_modules(&text_of(files, MENU_LST)),
        BootStyle::Loader => {
            let conf = text_of(files, LOADER_CONF);
            let local = text_of(files, LOADER_CONF_LOCAL);
            loader_modules(&[(LOADER_CONF, &conf), (LOADER_CONF_LOCAL, &local)])
        }
    }
}

/// Reads the boot media's configuration and the module files that replace
/// one of [`MODULE_FILES`] into `set`.
pub fn capture(set: &mut ConfigFiles, dir: &Path, style: BootStyle) {
    let configs: &[&str] = match style {
        BootStyle::Grub => &[MENU_LST],
        BootStyle::Loader => &[LOADER_CONF, LOADER_CONF_LOCAL],
    };
    // The boot media is its own root: a link on it never leads to the
    // running host's files.
    let media = HostRoot::new(dir);
    for c in configs {
        set.capture(Origin::BootMedia, c, &media);
    }
    for m in modules(set, style) {
        let wanted = m
            .bootfs_name()
            .is_some_and(|n| MODULE_FILES.iter().any(|f| f.trim_start_matches('/') == n));
        if let (true, Some(p)) = (wanted, volume_path(&m.path)) {
            if !set.has(Origin::BootMedia, p) {
                set.capture(Origin::BootMedia, p, &media);
            }
        }
    }
}

/// The module that replaces `host_path` (`/etc/ppt_aliases`) at the next
/// boot: the last one loaded under its name.
pub fn module_for<'m>(modules: &'m [BootModule], host_path: &str) -> Option<&'m BootModule> {
    let want = canonicalise(host_path);
    modules
        .iter()
        .rev()
        .find(|m| m.bootfs_name().as_deref() == Some(want.as_str()))
}

/// The next boot's copy of `host_path` with the boot media `media`: the
/// module's file when a module replaces it (and was read), else the
/// platform copy under the root. Returns the name to show and the bytes.
pub fn next_boot_file<'a>(
    files: &'a ConfigFiles,
    media: &MediaRef,
    modules: &[BootModule],
    host_path: &str,
) -> Result<Option<(String, &'a [u8])>, BindingFileError> {
    if let Some(m) = module_for(modules, host_path) {
        if let Some(p) = volume_path(&m.path) {
            let shown = media.show(p);
            let state = files.state(Origin::BootMedia, p);
            if !matches!(state, FileState::Absent) {
                return Ok(file_bytes(&shown, state)?.map(|b| (shown, b)));
            }
        }
    }
    Ok(file_bytes(host_path, files.root(host_path))?.map(|b| (host_path.to_string(), b)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        assert_eq!(canonicalise("etc/ppt_aliases"), "etc/ppt_aliases");
        assert_eq!(canonicalise("/etc/ppt_aliases"), "etc/ppt_aliases");
        assert_eq!(
            canonicalise("/system/boot/etc/ppt_aliases"),
            "etc/ppt_aliases"
        );
        assert_eq!(canonicalise("//etc//./x/../ppt_aliases"), "etc/ppt_aliases");
        assert_eq!(canonicalise("/system/bootx/etc"), "system/bootx/etc");
    }

    const MENU: &str = "default 1\ntimeout 5\ntitle other\n  kernel /platform/i86pc/kernel/amd64/unix\n  module /overlay/etc/ppt_aliases type=file name=etc/driver_aliases\ntitle live\n  kernel$ /platform/i86pc/kernel/amd64/unix\n  module /platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk\n  module /overlay/etc/ppt_aliases type=file type=file name=etc/ppt_aliases\n  module /overlay/etc/ppt_matches type=file\n  module /newer/ppt_aliases type=file name=/system/boot/etc/ppt_aliases\n";

    #[test]
    fn grub_default_entry_and_names() {
        let m = grub_modules(MENU);
        assert_eq!(m.len(), 4, "{m:?}");
        assert_eq!(m[1].name.as_deref(), Some("etc/ppt_aliases"));
        assert_eq!(m[1].line, 9);
        assert_eq!(m[2].name, None, "no name=: replaces nothing");
        assert!(module_for(&m, "/etc/ppt_matches").is_none());
        assert_eq!(
            module_for(&m, "/etc/ppt_aliases").unwrap().path,
            "/newer/ppt_aliases",
            "the module loaded last wins"
        );
        assert!(
            module_for(&m, "/etc/driver_aliases").is_none(),
            "other entry"
        );
    }

    #[test]
    fn loader_stanzas() {
        let conf = "ppt_aliases_load=\"NO\"\nppt_aliases_name=\"/boot/old\"\n";
        let local = "ppt_aliases_load=YES\nppt_aliases_type=file\nppt_aliases_name=/boot/bootfs/etc/ppt_aliases\nppt_aliases_flags=\"name=/etc/ppt_aliases\"\nx_load=YES\nx_name=/boot/x\n";
        let m = loader_modules(&[(LOADER_CONF, conf), (LOADER_CONF_LOCAL, local)]);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].path, "/boot/bootfs/etc/ppt_aliases");
        assert_eq!(m[0].config, LOADER_CONF_LOCAL);
        assert_eq!(m[0].bootfs_name().as_deref(), Some("etc/ppt_aliases"));
        assert_eq!(m[1].name, None);
    }
}
