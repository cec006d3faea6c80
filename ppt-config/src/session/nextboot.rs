//! What the next boot reads: one model of the boot media and the root.
//!
//! illumos reads `ppt_aliases`, `driver_aliases`, `name_to_major` and
//! `path_to_inst` through krtld before the root is mounted, and every open
//! tries the boot modules first (illumos-gate
//! `usr/src/uts/common/krtld/bootrd.c`, `BRD_OPEN`: "we try bootfs
//! first", then the ramdisk). A boot module is found by the name dboot
//! gave it ([`dboot`]: its path, unless a non-empty `name=` overrides);
//! `canonicalise` in `usr/src/uts/common/krtld/bootfsops.c` drops leading
//! slashes and a `system/boot/` prefix, so `etc/ppt_aliases`,
//! `/etc/ppt_aliases` and `/system/boot/etc/ppt_aliases` all replace
//! `/etc/ppt_aliases`. `bbootfs_init` links each module at the head of its
//! list and `bbootfs_open` takes the first match, so of two modules with
//! one name the one loaded last wins.
//!
//! `/system/boot` shows the modules of the *current* boot. The next boot
//! is predicted from the boot media's configuration (GRUB [`grub`], the
//! loader [`loader`]); files no module replaces come from the platform
//! copy, the root's `/etc`. The boot options that disable drivers come
//! from the same configuration ([`options`]). docs/next-boot.md tells the
//! whole story.
//!
//! [`NextBoot`] is the one answer to "what does the next boot read";
//! every command asks it through the session.

pub mod dboot;
pub mod grub;
pub mod loader;
pub mod options;
pub mod verdicts;

use std::path::Path;

use pci_illumos::aliases::{file_bytes, BindingFileError};
use pci_illumos::files::{list_dir, ConfigFiles, DirState, FileState, Origin};
use pci_illumos::root::HostRoot;

use crate::boot_media::BootStyle;

pub use options::{BootOption, Disabled};

/// GRUB's configuration on the boot volume.
pub const MENU_LST: &str = "/boot/grub/menu.lst";
/// The loader's configuration on the boot volume.
pub const LOADER_CONF: &str = "/boot/loader.conf";
/// The local loader configuration, read after [`LOADER_CONF`].
pub const LOADER_CONF_LOCAL: &str = "/boot/loader.conf.local";
/// The boot options a gate-based root's boot archive carries.
pub const BOOTENV_RC: &str = "/boot/solaris/bootenv.rc";

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

/// Whether a canonical module name (`etc/ppt_aliases`) is one of
/// [`MODULE_FILES`].
pub fn is_module_file(kernel_name: &str) -> bool {
    MODULE_FILES
        .iter()
        .any(|f| f.trim_start_matches('/') == kernel_name)
}

/// A module's type as dboot assigns it (`process_module`,
/// `fixup_modules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleType {
    /// A file the kernel opens by name (`type=file`, or no type).
    File,
    /// The root filesystem (the boot archive).
    Rootfs,
    /// The hash of another module.
    Hash,
    /// The loader's environment (boot properties).
    Environment,
    /// A console font.
    ConsoleFont,
}

/// One boot module the next boot loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootModule {
    /// The configuration file that names it (path on the boot volume).
    pub config: String,
    /// 1-based line of the `module` line (GRUB) or of the stanza's `_name`
    /// (or `_load`) assignment (loader).
    pub line: usize,
    /// The module file's path on the boot volume.
    pub path: String,
    /// A non-empty `name=`, when given.
    pub name: Option<String>,
    /// The name the kernel finds it by, canonicalised (`etc/ppt_aliases`):
    /// `name=` when given, else the path.
    pub kernel_name: String,
    /// Its type.
    pub kind: ModuleType,
    /// Whether it carries its own `hash=`.
    pub hashed: bool,
}

impl BootModule {
    /// The name the kernel opens it by, for a module of type file (the
    /// others are no files to the kernel).
    pub fn bootfs_name(&self) -> Option<&str> {
        (self.kind == ModuleType::File).then_some(self.kernel_name.as_str())
    }

    /// `config:line`.
    pub fn by(&self) -> String {
        format!("{}:{}", self.config, self.line)
    }
}

/// A configuration problem that keeps the next boot from being predicted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The configuration file (path on the boot volume or host path).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong and what it means for the next boot.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
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

/// A module path that stays on the boot volume (absolute, no `..`).
pub fn volume_path(path: &str) -> Option<&str> {
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

fn text_of(files: &ConfigFiles, origin: Origin, path: &str) -> Option<String> {
    files
        .state(origin, path)
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The loader's configuration files of `origin` in the order the loader
/// reads them, with their texts (absent ones left out).
pub fn loader_files(files: &ConfigFiles, origin: Origin) -> Vec<(String, String)> {
    let mut conf_d: Vec<&str> = files
        .files()
        .iter()
        .filter(|f| f.origin == origin)
        .filter_map(|f| {
            f.path
                .strip_prefix(loader::CONF_D)?
                .strip_prefix('/')
                .map(|_| f.path.as_str())
        })
        .collect();
    conf_d.sort_unstable();
    let mut order = vec![loader::DEFAULTS, LOADER_CONF, LOADER_CONF_LOCAL];
    order.extend(conf_d);
    order.push(loader::TRANSIENT);
    order
        .into_iter()
        .filter_map(|p| text_of(files, origin, p).map(|t| (p.to_string(), t)))
        .collect()
}

/// What the next boot reads, from the captured configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextBoot {
    /// The boot modules, in load order (none for a root without media).
    pub modules: Vec<BootModule>,
    /// The boot properties of the next boot, each with where it is set.
    pub options: Vec<BootOption>,
    /// What keeps the next boot from being predicted.
    pub problems: Vec<Problem>,
}

impl NextBoot {
    /// The next boot of the boot media `media` whose files `files` holds.
    pub fn of_media(files: &ConfigFiles, style: BootStyle) -> NextBoot {
        let mut nb = match style {
            BootStyle::Grub => {
                let text = text_of(files, Origin::BootMedia, MENU_LST).unwrap_or_default();
                let e = grub::default_entry(&text);
                NextBoot {
                    modules: e.modules,
                    options: e.options,
                    problems: Vec::new(),
                }
            }
            BootStyle::Loader => {
                let conf = loader_files(files, Origin::BootMedia);
                let exists =
                    |p: &str| !matches!(files.state(Origin::BootMedia, p), FileState::Absent);
                let b = loader::read(&conf, &exists);
                NextBoot {
                    modules: b.modules,
                    options: b.options,
                    problems: b.problems,
                }
            }
        };
        nb.check_module_files(files);
        nb
    }

    /// The next boot of a persistent (gate-based) root: no boot modules
    /// beyond the archive; the boot options of the root's loader
    /// configuration and `bootenv.rc`.
    pub fn of_root(files: &ConfigFiles) -> NextBoot {
        let mut options = Vec::new();
        if let Some(t) = text_of(files, Origin::Root, BOOTENV_RC) {
            options.extend(options::from_bootenv_rc(BOOTENV_RC, &t));
        }
        let conf = loader_files(files, Origin::Root);
        options.extend(loader::read(&conf, &|_| false).options);
        NextBoot {
            modules: Vec::new(),
            options,
            problems: Vec::new(),
        }
    }

    /// A module delivering one of [`MODULE_FILES`] whose file is missing
    /// or unreadable is a problem: GRUB stops booting the entry at a
    /// module it cannot open; which copy the kernel reads is not known.
    fn check_module_files(&mut self, files: &ConfigFiles) {
        for m in &self.modules {
            let Some(name) = m.bootfs_name().filter(|n| is_module_file(n)) else {
                continue;
            };
            let state = volume_path(&m.path).map(|p| files.state(Origin::BootMedia, p));
            let why = match state {
                None => "is not a path on the boot media".to_string(),
                Some(FileState::Present(_)) => continue,
                Some(FileState::Absent) => "does not exist on the boot media".to_string(),
                Some(s) => s
                    .read_error(&m.path)
                    .map_or("cannot be read".to_string(), |e| e.to_string()),
            };
            self.problems.push(Problem {
                file: m.config.clone(),
                line: m.line,
                message: format!(
                    "module {} (the next boot's /{name}) {why}: which /{name} the next boot reads is not known",
                    m.path
                ),
            });
        }
    }

    /// The same next boot with its options and problems naming their files
    /// as the user gave the media (`usbkey/boot/grub/menu.lst:4`), for
    /// messages.
    pub fn shown_on(mut self, media: &MediaRef) -> NextBoot {
        for o in &mut self.options {
            if let Some((file, line)) = o.by.rsplit_once(':') {
                o.by = format!("{}:{line}", media.show(file));
            }
        }
        for p in &mut self.problems {
            p.file = media.show(&p.file);
        }
        self
    }

    /// The module that replaces `host_path` (`/etc/ppt_aliases`) at the
    /// next boot: the last one of type file loaded under its name.
    pub fn module_for(&self, host_path: &str) -> Option<&BootModule> {
        let want = canonicalise(host_path);
        self.modules
            .iter()
            .rev()
            .find(|m| m.bootfs_name() == Some(want.as_str()))
    }

    /// Every module of type file loaded under `host_path`'s name, in load
    /// order (the last one is what the kernel reads).
    pub fn modules_for(&self, host_path: &str) -> Vec<&BootModule> {
        let want = canonicalise(host_path);
        self.modules
            .iter()
            .filter(|m| m.bootfs_name() == Some(want.as_str()))
            .collect()
    }

    /// The drivers the next boot's options disable, and the conflicts.
    pub fn disabled(&self) -> Disabled {
        options::disabled(&self.options)
    }

    /// Why the next boot cannot be predicted, when it cannot: each problem
    /// and conflicting option, with file and line.
    pub fn unknown(&self) -> Option<String> {
        let mut why: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        why.extend(self.disabled().conflicts);
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// The next boot's copy of `host_path` with the boot media `media`: the
/// module's file when a module replaces it (and was read), else the
/// platform copy under the root. Returns the name to show and the bytes.
pub fn next_boot_file<'a>(
    files: &'a ConfigFiles,
    media: &MediaRef,
    next: &NextBoot,
    host_path: &str,
) -> Result<Option<(String, &'a [u8])>, BindingFileError> {
    if let Some(m) = next.module_for(host_path) {
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

/// Captures the loader files of `base` into `set` as `origin`: the fixed
/// ones and every file of `/boot/conf.d`.
fn capture_loader_files(set: &mut ConfigFiles, origin: Origin, base: &HostRoot) {
    for c in [
        loader::DEFAULTS,
        LOADER_CONF,
        LOADER_CONF_LOCAL,
        loader::TRANSIENT,
    ] {
        set.capture(origin, c, base);
    }
    if let DirState::Listed(names) = list_dir(base, loader::CONF_D) {
        for n in names {
            set.capture(origin, &format!("{}/{n}", loader::CONF_D), base);
        }
    }
}

/// Reads the boot media's configuration and the module files that replace
/// one of [`MODULE_FILES`] into `set`.
pub fn capture(set: &mut ConfigFiles, dir: &Path, style: BootStyle) {
    // The boot media is its own root: a link on it never leads to the
    // running host's files.
    let media = HostRoot::new(dir);
    match style {
        BootStyle::Grub => set.capture(Origin::BootMedia, MENU_LST, &media),
        BootStyle::Loader => capture_loader_files(set, Origin::BootMedia, &media),
    }
    let modules = match style {
        BootStyle::Grub => NextBoot::of_media(set, style).modules,
        BootStyle::Loader => {
            // Relative names are looked up on the media itself.
            let conf = loader_files(set, Origin::BootMedia);
            loader::read(&conf, &|p| media.exists(p)).modules
        }
    };
    for m in modules {
        let wanted = m.bootfs_name().is_some_and(is_module_file);
        if let (true, Some(p)) = (wanted, volume_path(&m.path)) {
            if !set.has(Origin::BootMedia, p) {
                set.capture(Origin::BootMedia, p, &media);
            }
        }
    }
}

/// Reads what a persistent root's next boot reads beyond `/etc`: the
/// archive's file lists, `bootenv.rc` and the loader configuration.
pub fn capture_root(set: &mut ConfigFiles, root: &HostRoot) {
    for l in super::archive::FILELISTS {
        set.capture(Origin::Root, l, root);
    }
    set.capture(Origin::Root, BOOTENV_RC, root);
    capture_loader_files(set, Origin::Root, root);
}

#[cfg(test)]
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

    #[test]
    fn last_loaded_wins_and_missing_module_is_a_problem() {
        let mut files = ConfigFiles::default();
        let menu = "title x\nkernel$ /platform/i86pc/kernel/amd64/unix\nmodule /platform/i86pc/amd64/boot_archive type=rootfs\nmodule /overlay/etc/ppt_aliases type=file name=etc/ppt_aliases\nmodule /etc/ppt_aliases type=file\n";
        files.insert(pci_illumos::files::CapturedFile {
            origin: Origin::BootMedia,
            path: MENU_LST.into(),
            state: FileState::Present(menu.as_bytes().to_vec()),
        });
        let nb = NextBoot::of_media(&files, BootStyle::Grub);
        assert_eq!(nb.module_for("/etc/ppt_aliases").map(|m| m.line), Some(5));
        assert_eq!(nb.modules_for("/etc/ppt_aliases").len(), 2);
        assert_eq!(nb.problems.len(), 2, "{nb:?}");
        assert!(nb
            .unknown()
            .is_some_and(|w| w.contains("/boot/grub/menu.lst:5")));
    }
}
