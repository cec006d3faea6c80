//! The kernel files that decide bindings, and which drivers are active.
//!
//! A driver is one the kernel binds to when it is installed and not
//! removed (illumos-gate `usr/src/uts/common/os/devcfg.c`):
//! `ddi_compatible_driver_major` only returns a major that
//! `ddi_name_to_major` finds, i.e. a driver `name_to_major` names (aliases
//! to other names never enter the binding table), and `init_node` /
//! `driver_installed` refuse a driver marked `DN_DRIVER_REMOVED`. The
//! next boot marks a driver removed when `rem_drv` took it out of
//! `name_to_major` (then it is simply not there) or when a boot option
//! `disable-<driver>=true` is set (`check_driver_disable`,
//! `usr/src/uts/i86pc/os/ddi_impl.c`). Whether a module file exists under
//! the module path does not enter: a missing module fails at attach, not
//! at binding.

use std::collections::BTreeMap;

use crate::aliases::{
    kernel_file_in, AliasFile, BindingFileError, BindingTable, NameToMajor, PathToInst,
    DRIVER_ALIASES, NAME_TO_MAJOR, PATH_TO_INST, PPT_ALIASES,
};
use crate::files::ConfigFiles;
use crate::root::HostRoot;

/// The kernel files that decide bindings, as found under a root.
#[derive(Debug, Clone, Default)]
pub struct KernelFiles {
    /// `ppt_aliases` (boot-module copy preferred), if present.
    pub ppt_aliases: Option<AliasFile>,
    /// `driver_aliases`, if present. Without it only `ppt_aliases` can be
    /// predicted.
    pub driver_aliases: Option<AliasFile>,
    /// `name_to_major`, if present. Without it every driver named in an
    /// aliases file is taken as installed.
    pub name_to_major: Option<NameToMajor>,
    /// `path_to_inst`, if present.
    pub path_to_inst: Option<PathToInst>,
    /// Drivers the next boot's boot options disable
    /// (`disable-<driver>=true`), each with the `file:line` that sets it.
    pub disabled: BTreeMap<String, String>,
    /// The root is SmartOS (`/etc/release`): `path_to_inst` lives on the
    /// ramdisk and instance numbers are handed out again at every boot, so
    /// a predicted `/dev/pptN` is only ever a guess.
    pub smartos: bool,
}

/// Why the kernel does not bind to a driver at the next boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inactive {
    /// `name_to_major` does not name it (never added, or `rem_drv`).
    NotInstalled {
        /// The `name_to_major` file read.
        file: String,
    },
    /// A boot option disables it.
    Disabled {
        /// `file:line` of the `disable-<driver>=true` option.
        by: String,
    },
}

impl KernelFiles {
    /// Reads the files under `root`, each from `/system/boot` first.
    pub fn load(root: &HostRoot) -> Result<KernelFiles, BindingFileError> {
        Self::from_files(&ConfigFiles::capture_root(root))
    }

    /// The files of a captured set, each from `/system/boot` first (what
    /// the running kernel read at this boot).
    pub fn from_files(files: &ConfigFiles) -> Result<KernelFiles, BindingFileError> {
        Self::from_lookup(files, |host_path| kernel_file_in(files, host_path))
    }

    /// The files as `lookup` finds them: given a host path
    /// (`/etc/ppt_aliases`), the name to show and the bytes, or `None`
    /// when the file does not exist. Whether the root is SmartOS comes
    /// from the captured set `files`; no driver is disabled (the caller
    /// sets [`KernelFiles::disabled`] from the next boot's options).
    pub fn from_lookup<'a, F>(
        files: &ConfigFiles,
        lookup: F,
    ) -> Result<KernelFiles, BindingFileError>
    where
        F: Fn(&str) -> Result<Option<(String, &'a [u8])>, BindingFileError>,
    {
        let n2m = lookup(NAME_TO_MAJOR)?.map(|(file, bytes)| NameToMajor::parse(bytes, &file));
        let ppt =
            lookup(PPT_ALIASES)?.map(|(file, bytes)| AliasFile::parse(bytes, &file, n2m.as_ref()));
        let da = lookup(DRIVER_ALIASES)?
            .map(|(file, bytes)| AliasFile::parse(bytes, &file, n2m.as_ref()));
        let p2i = lookup(PATH_TO_INST)?.map(|(file, bytes)| PathToInst::parse(bytes, &file));
        Ok(KernelFiles {
            ppt_aliases: ppt,
            driver_aliases: da,
            name_to_major: n2m,
            path_to_inst: p2i,
            disabled: BTreeMap::new(),
            smartos: files.is_smartos(),
        })
    }

    /// Whether a `compatible` entry or node name binds an active driver at
    /// the next boot (driver names, `ppt_aliases`, `driver_aliases`), for
    /// naming decisions that depend on it ([`crate::naming::predict_bound`]).
    pub fn binder(&self) -> impl Fn(&str) -> bool + '_ {
        let mut all: Vec<&AliasFile> = Vec::new();
        all.extend(self.ppt_aliases.as_ref());
        all.extend(self.driver_aliases.as_ref());
        let table = BindingTable::build(self.name_to_major.as_ref(), &all);
        move |s: &str| table.get(s).is_some_and(|b| self.driver_active(&b.driver))
    }

    /// Why the kernel will not bind to `driver` at the next boot, or
    /// `None` when it will (see the module docs).
    pub fn inactive(&self, driver: &str) -> Option<Inactive> {
        if let Some(by) = self.disabled.get(driver) {
            return Some(Inactive::Disabled { by: by.clone() });
        }
        match &self.name_to_major {
            Some(n) if !n.drivers.contains_key(driver) => Some(Inactive::NotInstalled {
                file: n.file.clone(),
            }),
            _ => None,
        }
    }

    /// Whether the kernel would bind to `driver` (`driver_active`): it is
    /// installed (`name_to_major`, when known) and not disabled by a boot
    /// option.
    pub fn driver_active(&self, driver: &str) -> bool {
        self.inactive(driver).is_none()
    }
}
