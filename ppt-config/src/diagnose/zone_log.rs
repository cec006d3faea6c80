//! Where a bhyve zone's platform.log is on a SmartOS host, read through the
//! confined root ([`HostRoot`]), and which host a diagnosis is about.
//!
//! * A zone name begins with a letter or digit, holds only letters,
//!   digits, `-`, `_` and `.`, and is shorter than `ZONENAME_MAX` (64)
//!   (illumos-gate `usr/src/lib/libzonecfg/common/libzonecfg.c`
//!   `zonecfg_validate_zonename`); on SmartOS it is the VM's UUID.
//! * zoneadmd writes the zone's log to `<zonepath>/logs/platform.log`, and
//!   vmadm puts the zonepath at `/zones/<UUID>` (illumos-joyent
//!   `usr/src/cmd/zoneadmd/zoneadmd.c` opens the log stream under the
//!   zonepath; smartos-live `VM.js` sets `zonepath`).
//! * The zone's configuration is `/etc/zones/<name>.xml`
//!   ([`crate::zones::read_zone`]).

use std::fs::File;

use pci_illumos::root::{HostRoot, ReadError};

use crate::session::SessionOptions;

/// The longest zone name (`ZONENAME_MAX` 64, with its NUL).
pub const MAX_ZONE_NAME: usize = 63;

/// A zone name that passed [`ZoneName::parse`]: safe to put in a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneName(String);

/// Why a zone's log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ZoneLogError {
    /// Not a zone name.
    #[error("`{0}`: not a zone name (a letter or digit first, then letters, digits, -, _ and . only, at most 63)")]
    BadName(String),
    /// The log could not be opened.
    #[error("{path}: cannot read: {reason}")]
    Unreadable {
        /// The host path.
        path: String,
        /// Why.
        reason: String,
    },
}

impl ZoneName {
    /// `name` when it is a valid zone name.
    pub fn parse(name: &str) -> Result<ZoneName, ZoneLogError> {
        let ok_first = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let ok_rest = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if ok_first && ok_rest && name.len() <= MAX_ZONE_NAME {
            Ok(ZoneName(name.to_string()))
        } else {
            Err(ZoneLogError::BadName(name.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/zones/NAME/logs/platform.log`, as a host path.
    pub fn platform_log(&self) -> String {
        format!("/zones/{}/logs/platform.log", self.0)
    }
}

/// The zone's platform.log opened under `root` (every link resolved inside
/// it), with its size when it is a regular file.
pub fn open_platform_log(
    root: &HostRoot,
    name: &ZoneName,
) -> Result<(File, Option<u64>), ZoneLogError> {
    let path = name.platform_log();
    let unreadable = |e: ReadError| ZoneLogError::Unreadable {
        path: path.clone(),
        reason: e.reason(),
    };
    let f = root.open(&path).map_err(unreadable)?;
    let size = f
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    Ok((f, size))
}

/// The zone's pass-through devices as its configuration file
/// (`/etc/zones/NAME.xml` under `root`) gives them now; none when the file
/// is absent.
pub fn configured_devices(
    root: &std::path::Path,
    name: &ZoneName,
) -> Result<Vec<crate::zones::ZoneDevice>, String> {
    Ok(crate::zones::read_zone(root, name.as_str())?
        .map(|z| z.pci_devices)
        .unwrap_or_default())
}

/// Whether the session's source can be the VM's host. `--from auto` with
/// `--root /` reads the machine pptctl runs on; a VM's host runs illumos,
/// so elsewhere (a log copied to a Linux workstation) that machine is not
/// the host and the log is read alone.
pub fn source_can_be_the_host(opts: &SessionOptions) -> bool {
    let running_machine = opts.source_text == "auto" && HostRoot::new(&opts.root).is_host();
    !running_machine || cfg!(any(target_os = "illumos", target_os = "solaris"))
}

/// How findings name the host the log is judged against.
pub fn host_label(opts: &SessionOptions) -> String {
    let root = HostRoot::new(&opts.root);
    if root.is_host() {
        format!("the host read from {}", opts.source_label())
    } else {
        format!(
            "the host read from {} with root {}",
            opts.source_label(),
            opts.root.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_follow_libzonecfg() {
        for good in ["b2c4e0f6-1a3d-4c5e-8f70-9a1b2c3d4e5f", "web01", "a.b_c"] {
            assert!(ZoneName::parse(good).is_ok(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in ["", ".", "..", "../x", "-x", "a/b", "a b", long.as_str()] {
            assert!(ZoneName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            ZoneName::parse("web01").unwrap().platform_log(),
            "/zones/web01/logs/platform.log"
        );
    }

    #[test]
    fn the_log_is_read_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("zones/vm1/logs");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("platform.log"), "add_arg: argv[2]='-U'\n").unwrap();
        let root = HostRoot::new(dir.path());
        let (_, size) = open_platform_log(&root, &ZoneName::parse("vm1").unwrap()).unwrap();
        assert_eq!(size, Some(22));
        // A link out of the root is not followed out of it.
        std::os::unix::fs::symlink("/etc", dir.path().join("zones/vm2")).unwrap();
        let e = open_platform_log(&root, &ZoneName::parse("vm2").unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/zones/vm2/logs/platform.log: cannot read"),
            "{e}"
        );
    }
}
