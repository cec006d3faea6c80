//! devfs paths: the one type and the one normaliser every crate uses.
//!
//! The illumos device tree names a node by its devfs path, e.g.
//! `/pci@0,0/pci8086,151@1/display@0` (`di_devfs_path`). Users and files
//! also write the file-system form `/devices/pci@0,0/.../display@0:ppt`,
//! with the `/devices` mount point in front and a minor name after the
//! last component. How illumos itself turns one into the other:
//!
//! * libppt `fs_to_phys_path` (illumos-gate
//!   `usr/src/lib/libppt/common/libppt.c`) removes a last `:ppt` and a
//!   leading `/devices`; `ppt_devpath_to_dev` (same file) uses it to
//!   accept `/devices/...` or bare `/pci@...`, with or without `:ppt`, and
//!   then compares the result with `strcmp`.
//! * zoneadmd `resolve_device_match` (illumos-joyent
//!   `usr/src/cmd/zoneadmd/zoneadmd.c`) requires a passthru match to start
//!   with `/devices` and hands it to `ppt_devpath_to_dev`.
//! * vmadm `validatePCIDevice` (smartos-live `src/vm/node_modules/VM.js`)
//!   only requires `path` to start with `/devices`.
//!
//! So a devfs path is compared without `/devices` and without a minor.
//! [`DevfsPath::parse`] is that normalisation, done once: it accepts and
//! strips a leading `/devices` when it is a whole component (`/devicesX/a`
//! is refused: libppt's prefix compare would turn it into `X/a`, which
//! names no node), strips any `:minor` of the last component, and refuses
//! what cannot be a node's path (empty, relative, `.`/`..`/empty
//! components, NUL, `:` inside a non-final component, the bare root).
//! [`Parsed`] keeps what was stripped, so callers that must follow a
//! narrower illumos rule (libppt strips only `:ppt`) can say so.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `/devices` mount point in front of file-system forms of a path.
pub const DEVICES_PREFIX: &str = "/devices";

/// A normalised devfs path: starts with `/`, has no `/devices` prefix and
/// no minor name, and only non-empty components other than `.` and `..`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevfsPath(String);

/// A parsed path with what the normaliser removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The normalised path.
    pub path: DevfsPath,
    /// Whether the text started with a `/devices` component.
    pub had_devices_prefix: bool,
    /// The minor name after the last component's `:`, without the colon.
    pub minor: Option<String>,
}

/// Why a text is not a devfs path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevfsPathError {
    /// Nothing given.
    #[error("an empty path is not a devfs path")]
    Empty,
    /// The text does not start with `/`.
    #[error("`{0}` is not a devfs path: it must start with `/` (e.g. /devices/pci@0,0/...)")]
    Relative(String),
    /// `/devicesX/...` (`/devices` not as a whole component), or a first
    /// component named `devices...` after the prefix.
    #[error("`{0}` is not a devfs path: `/devices` must be followed by `/` and a node such as `pci@0,0`")]
    DevicesLookalike(String),
    /// Only `/devices` or `/`: the root node, not a device.
    #[error("`{0}` names the root of the device tree, not a device")]
    Root(String),
    /// A NUL byte.
    #[error("`{}` is not a devfs path: it contains a NUL byte", .0.escape_debug())]
    Nul(String),
    /// `.`, `..`, an empty component, or a `:` before the last component.
    #[error("`{0}` is not a plain devfs path: `.`, `..`, empty components and `:` before the last component are not allowed")]
    BadComponent(String),
    /// A `:` with nothing after it.
    #[error("`{0}` ends in `:` without a minor name")]
    EmptyMinor(String),
}

/// Splits text lexically into (had `/devices` component, body, minor),
/// without validating anything. The body keeps a leading `/` when the
/// text had one. Used by [`DevfsPath::parse`] and by lints that explain
/// why a written path never matches.
pub(crate) fn split_lexically(text: &str) -> (bool, &str, Option<&str>) {
    let (had, mut body) = match text.strip_prefix(DEVICES_PREFIX) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (true, rest),
        _ => (false, text),
    };
    let last = body.rfind('/').map_or(0, |i| i + 1);
    let mut minor = None;
    if let Some(c) = body[last..].find(':') {
        minor = Some(&body[last + c + 1..]);
        body = &body[..last + c];
    }
    (had, body, minor)
}

impl DevfsPath {
    /// Normalises `text` (see the module documentation).
    pub fn parse(text: &str) -> Result<DevfsPath, DevfsPathError> {
        Self::parse_detailed(text).map(|p| p.path)
    }

    /// Normalises `text` and reports what was stripped.
    pub fn parse_detailed(text: &str) -> Result<Parsed, DevfsPathError> {
        let owned = || text.to_string();
        if text.is_empty() {
            return Err(DevfsPathError::Empty);
        }
        if text.contains('\0') {
            return Err(DevfsPathError::Nul(owned()));
        }
        if !text.starts_with('/') {
            return Err(DevfsPathError::Relative(owned()));
        }
        if text.starts_with(DEVICES_PREFIX)
            && !text[DEVICES_PREFIX.len()..].is_empty()
            && !text[DEVICES_PREFIX.len()..].starts_with('/')
            && !text[DEVICES_PREFIX.len()..].starts_with(':')
        {
            return Err(DevfsPathError::DevicesLookalike(owned()));
        }
        let (had, body, minor) = split_lexically(text);
        if body.is_empty() || body == "/" {
            return Err(DevfsPathError::Root(owned()));
        }
        // A first component that itself starts with `devices` would read
        // differently once printed (`/devices/devices/x` -> `/devices/x`);
        // no real top-level node is named so, and refusing keeps parsing
        // idempotent.
        if body.starts_with(DEVICES_PREFIX) {
            return Err(DevfsPathError::DevicesLookalike(owned()));
        }
        if minor == Some("") {
            return Err(DevfsPathError::EmptyMinor(owned()));
        }
        if body[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.contains(':'))
        {
            return Err(DevfsPathError::BadComponent(owned()));
        }
        Ok(Parsed {
            path: DevfsPath(body.to_string()),
            had_devices_prefix: had,
            minor: minor.map(str::to_string),
        })
    }

    /// The path, e.g. `/pci@0,0/pci8086,151@1/display@0`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file-system form `/devices<path>` that vmadm payloads use.
    pub fn devices_path(&self) -> String {
        format!("{DEVICES_PREFIX}{}", self.0)
    }

    /// The path components (`pci@0,0`, `pci8086,151@1`, ...).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0[1..].split('/')
    }

    /// The parent node's path (`/pci@0,0/pci8086,151@1` for
    /// `/pci@0,0/pci8086,151@1/display@0`); `None` for a top-level node.
    pub fn parent(&self) -> Option<DevfsPath> {
        parent_of(&self.0).map(|p| DevfsPath(p.to_string()))
    }
}

/// The parent of a devfs path given as text, as [`DevfsPath::parent`]
/// (everything before the last `/`), for paths read from a device tree
/// that are used as they are; `None` for a top-level node or text without
/// a `/`.
pub fn parent_of(path: &str) -> Option<&str> {
    path.rsplit_once('/')
        .map(|(head, _)| head)
        .filter(|head| !head.is_empty())
}

impl fmt::Display for DevfsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DevfsPath {
    type Err = DevfsPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DevfsPath::parse(s)
    }
}

impl AsRef<str> for DevfsPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for DevfsPath {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for DevfsPath {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for DevfsPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DevfsPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DevfsPath::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GPU: &str = "/pci@0,0/pci8086,151@1/display@0";

    #[test]
    fn parents() {
        let p = DevfsPath::parse(GPU).unwrap().parent().unwrap();
        assert_eq!(p, "/pci@0,0/pci8086,151@1");
        assert_eq!(p.parent().unwrap(), "/pci@0,0");
        assert_eq!(p.parent().unwrap().parent(), None);
        assert_eq!(parent_of("/pci@0,0"), None);
        assert_eq!(parent_of("pci@0,0"), None);
        assert_eq!(parent_of("/a//b"), Some("/a/"));
    }

    #[test]
    fn every_spelling_of_one_node_is_one_path() {
        for text in [
            GPU,
            "/devices/pci@0,0/pci8086,151@1/display@0",
            "/devices/pci@0,0/pci8086,151@1/display@0:ppt",
            "/devices/pci@0,0/pci8086,151@1/display@0:devctl",
            "/pci@0,0/pci8086,151@1/display@0:ppt",
        ] {
            assert_eq!(DevfsPath::parse(text).unwrap().as_str(), GPU, "{text}");
        }
        let p = DevfsPath::parse_detailed("/devices/pci@0,0/a@1:devctl").unwrap();
        assert!(p.had_devices_prefix);
        assert_eq!(p.minor.as_deref(), Some("devctl"));
        assert_eq!(p.path.devices_path(), "/devices/pci@0,0/a@1");
    }

    #[test]
    fn refuses_what_names_no_node() {
        type Want = fn(&DevfsPathError) -> bool;
        let cases: [(&str, Want); 12] = [
            ("", |e| matches!(e, DevfsPathError::Empty)),
            ("pci@0,0", |e| matches!(e, DevfsPathError::Relative(_))),
            ("devices/pci@0,0", |e| {
                matches!(e, DevfsPathError::Relative(_))
            }),
            ("/devicesX/pci@0,0", |e| {
                matches!(e, DevfsPathError::DevicesLookalike(_))
            }),
            ("/devices", |e| matches!(e, DevfsPathError::Root(_))),
            ("/devices/", |e| matches!(e, DevfsPathError::Root(_))),
            ("/", |e| matches!(e, DevfsPathError::Root(_))),
            ("/pci@0,0/../a@1", |e| {
                matches!(e, DevfsPathError::BadComponent(_))
            }),
            ("/pci@0,0//a@1", |e| {
                matches!(e, DevfsPathError::BadComponent(_))
            }),
            ("/pci@0,0:x/a@1", |e| {
                matches!(e, DevfsPathError::BadComponent(_))
            }),
            ("/pci@0,0/a@1:", |e| {
                matches!(e, DevfsPathError::EmptyMinor(_))
            }),
            ("/pci@0,0/a\0@1", |e| matches!(e, DevfsPathError::Nul(_))),
        ];
        for (text, want) in cases {
            let e = DevfsPath::parse(text).unwrap_err();
            assert!(want(&e), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn deserialises_through_the_normaliser() {
        use serde::de::value::{Error, StrDeserializer};
        use serde::de::IntoDeserializer;
        let d: StrDeserializer<'_, Error> = "/devices/pci@0,0/a@1:ppt".into_deserializer();
        assert_eq!(DevfsPath::deserialize(d).unwrap(), "/pci@0,0/a@1");
        let d: StrDeserializer<'_, Error> = "/devicesX/a".into_deserializer();
        assert!(DevfsPath::deserialize(d).is_err());
    }

    #[test]
    fn lexical_split_keeps_the_parts() {
        assert_eq!(
            split_lexically("/devices/a@1:ppt"),
            (true, "/a@1", Some("ppt"))
        );
        assert_eq!(split_lexically("/devicesX/a"), (false, "/devicesX/a", None));
        assert_eq!(split_lexically("/a:b/c"), (false, "/a:b/c", None));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Texts near real paths: components from a small alphabet that
    /// includes the separators the normaliser cares about.
    fn near_path() -> impl Strategy<Value = String> {
        let comp = prop_oneof![
            Just("pci@0,0".to_string()),
            Just("display@0".to_string()),
            Just("pci8086,151@1".to_string()),
            Just("devices".to_string()),
            Just("devicesX".to_string()),
            Just(".".to_string()),
            Just("..".to_string()),
            Just(String::new()),
            "[a-z0-9@,:.]{1,8}",
        ];
        (
            prop_oneof![Just(""), Just("/"), Just("/devices/"), Just("/devices")],
            proptest::collection::vec(comp, 0..5),
            prop_oneof![
                Just(""),
                Just(":ppt"),
                Just(":devctl"),
                Just(":"),
                Just("/")
            ],
        )
            .prop_map(|(head, comps, tail)| format!("{head}{}{tail}", comps.join("/")))
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(text in prop_oneof![near_path(), any::<String>()]) {
            if let Ok(p) = DevfsPath::parse(&text) {
                let again = DevfsPath::parse(p.as_str());
                prop_assert_eq!(again, Ok(p.clone()));
                let fs_form = DevfsPath::parse(&p.devices_path());
                prop_assert_eq!(fs_form, Ok(p.clone()));
                let minor = DevfsPath::parse(&format!("{}:ppt", p.devices_path()));
                prop_assert_eq!(minor, Ok(p.clone()));
                prop_assert!(!p.as_str().starts_with("/devices/"));
                prop_assert!(!p.components().any(|c| c.is_empty() || c == "." || c == ".." || c.contains(':')));
            }
        }
    }
}
