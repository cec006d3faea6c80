//! SELECTOR arguments: which functions of a host a user means. One grammar
//! for every command that takes functions (`check`, `reserve`,
//! `unreserve`, `vm-json`, `match`, and `show -s` for paths).
//!
//! Accepted forms (README.md), tried in this order:
//! * `/dev/pptN`: the function that link names;
//! * an illumos path with or without `/devices` and a `:minor` suffix
//!   (`/devices/pci@0,0/pci8086,151@1/display@0:ppt`), normalised by
//!   [`DevfsPath`];
//! * with a `.`: a slot as `lspci -s` reads it,
//!   `[[[[DOMAIN]:]BUS]:][DEV][.[FUNC]]` (`01:00.0`, `0000:01:00.0`,
//!   `01:00.*`);
//! * with a `:`: IDs as `lspci -d` reads them,
//!   `[VENDOR]:[DEVICE][:CLASS[:PROGIF]]` (`10de:a65`, `10de:`, `::0300`).
//!
//! Slots and IDs are parsed by pci-core's lspci-compatible filters
//! (`pci_core::sources::filter`), so their syntax and error texts are
//! lspci's. An expression that constrains nothing (`:`, `*:*.*`) is
//! refused: it would select every function of the host.

use std::fmt;
use std::str::FromStr;

use pci_core::sources::filter::{IdFilter, SlotFilter};
use pci_core::{Address, Function, Host};
use pci_illumos::binding::PPT;
use pci_illumos::devfs::{DevfsPath, DevfsPathError};

/// One parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// One PCI address.
    Slot(Address),
    /// An `lspci -s` expression with wildcards (`01:00.*`), as written.
    SlotPattern {
        /// The text given.
        text: String,
        /// The parsed filter.
        filter: SlotFilter,
    },
    /// An illumos devfs path, normalised: no `/devices`, no `:minor`.
    Path(DevfsPath),
    /// A `/dev/pptN` link (the text as given, e.g. `/dev/ppt0`).
    PptDev(String),
    /// Vendor and device ID.
    Ids {
        /// Vendor ID.
        vendor: u16,
        /// Device ID.
        device: u16,
    },
    /// An `lspci -d` expression other than `VENDOR:DEVICE` (`10de:`,
    /// `::0300`), as written.
    IdPattern {
        /// The text given.
        text: String,
        /// The parsed filter.
        filter: IdFilter,
    },
}

/// Why a selector is not understood or selects nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The text fits none of the forms.
    #[error("`{0}` is not a selector: use a slot (0000:03:00.0, 03:00.*), an illumos path (/devices/pci@0,0/...), /dev/pptN or IDs (10de:a65, 10de:, ::0300)")]
    Syntax(String),
    /// A slot expression lspci would reject; the reason is lspci's.
    #[error("`{text}` is not a slot: {reason}")]
    Slot {
        /// The text given.
        text: String,
        /// lspci's message.
        reason: String,
    },
    /// An ID expression lspci would reject; the reason is lspci's.
    #[error("`{text}` is not an ID expression: {reason}")]
    Ids {
        /// The text given.
        text: String,
        /// lspci's message.
        reason: String,
    },
    /// A pattern that constrains nothing.
    #[error("`{0}` would select every function of the host; name the functions")]
    Everything(String),
    /// A text starting with `/` that is not a devfs path.
    #[error(transparent)]
    BadPath(#[from] DevfsPathError),
    /// Nothing on the host matches.
    #[error("`{0}` matches no PCI function on this host (`pptctl show -n` lists them, `pptctl list -a` the ppt candidates)")]
    NoMatch(String),
    /// A path that matches nothing, with the paths it probably meant.
    #[error("`{given}` matches no PCI function on this host; did you mean {}? (a node's unit address is part of its path)", .near.join(" or "))]
    NearPath {
        /// The path given.
        given: String,
        /// `/devices/...` paths of this host it is close to.
        near: Vec<String>,
    },
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Slot(a) => write!(f, "{a}"),
            Selector::SlotPattern { text, .. } | Selector::IdPattern { text, .. } => {
                f.write_str(text)
            }
            Selector::Path(p) => write!(f, "{p}"),
            Selector::PptDev(d) => f.write_str(d),
            Selector::Ids { vendor, device } => write!(f, "{vendor:04x}:{device:04x}"),
        }
    }
}

fn hex16(s: &str) -> Option<u16> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u16::from_str_radix(s, 16).ok())
        .flatten()
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(n) = s.strip_prefix("/dev/ppt") {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Selector::PptDev(s.to_string()));
            }
            return Err(SelectorError::Syntax(s.to_string()));
        }
        if s.starts_with('/') {
            return Ok(Selector::Path(DevfsPath::parse(s)?));
        }
        if s.contains('.') {
            if let Ok(a) = s.parse::<Address>() {
                return Ok(Selector::Slot(a));
            }
            let filter = SlotFilter::parse(s).map_err(|e| SelectorError::Slot {
                text: s.to_string(),
                reason: e.to_string(),
            })?;
            if filter == SlotFilter::default() {
                return Err(SelectorError::Everything(s.to_string()));
            }
            return Ok(Selector::SlotPattern {
                text: s.to_string(),
                filter,
            });
        }
        if s.contains(':') {
            if let Some((v, d)) = s.split_once(':') {
                if let (Some(vendor), Some(device)) = (hex16(v), hex16(d)) {
                    return Ok(Selector::Ids { vendor, device });
                }
            }
            let filter = IdFilter::parse(s).map_err(|e| SelectorError::Ids {
                text: s.to_string(),
                reason: e.to_string(),
            })?;
            if filter.vendor.is_none()
                && filter.device.is_none()
                && filter.class.is_none_or(|(_, mask)| mask & 0xffff == 0)
                && filter.prog_if.is_none()
            {
                return Err(SelectorError::Everything(s.to_string()));
            }
            return Ok(Selector::IdPattern {
                text: s.to_string(),
                filter,
            });
        }
        Err(SelectorError::Syntax(s.to_string()))
    }
}

impl Selector {
    /// Whether `f` on `host` is selected.
    pub fn matches(&self, host: &Host, f: &Function) -> bool {
        let path = f.devfs_path();
        match self {
            Selector::Slot(a) => f.address == *a,
            Selector::SlotPattern { filter, .. } => filter.matches(&f.address),
            Selector::Path(p) => path == Some(p.as_str()),
            Selector::Ids { vendor, device } => f.ids.vendor == *vendor && f.ids.device == *device,
            Selector::IdPattern { filter, .. } => filter.matches(&f.ids),
            Selector::PptDev(dev) => {
                if let Some(link) = host.ppt_links.iter().find(|l| &l.dev == dev) {
                    return link.path.is_some() && link.path.as_deref() == path;
                }
                // No link recorded: the ppt driver names /dev/pptN after its
                // instance number (ppt.c `ppt_ddi_attach`; devfsadm `misc_link_i386.c`).
                let inst: Option<i32> = dev.trim_start_matches("/dev/ppt").parse().ok();
                f.illumos.as_ref().is_some_and(|n| {
                    n.driver.as_deref() == Some(PPT) && n.instance.is_some() && n.instance == inst
                })
            }
        }
    }

    /// Why nothing on `host` matches this selector: for a path, the
    /// host's paths it is probably a typo of.
    fn no_match(&self, host: &Host) -> SelectorError {
        if let Selector::Path(p) = self {
            let near = near_paths(host, p.as_str());
            if !near.is_empty() {
                return SelectorError::NearPath {
                    given: p.to_string(),
                    near,
                };
            }
        }
        SelectorError::NoMatch(self.to_string())
    }
}

/// `/devices/...` paths of `host`'s functions that `wanted` (a devfs path
/// that names none) probably meant: the same components where a component
/// written without `@unit` is the node name of the host's component
/// (`pci_illumos::matches::suggest_paths`, also used by `match`).
pub(crate) fn near_paths(host: &Host, wanted: &str) -> Vec<String> {
    pci_illumos::matches::suggest_paths(
        wanted,
        host.functions.iter().filter_map(Function::devfs_path),
    )
    .into_iter()
    .map(|p| format!("{}{p}", pci_illumos::devfs::DEVICES_PREFIX))
    .collect()
}

/// Parses every selector text.
pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Selector>, SelectorError> {
    texts.iter().map(|t| t.as_ref().parse()).collect()
}

/// The functions of `host` chosen by any of `selectors`, in host order,
/// each once. A selector that matches nothing is an error: a typo must not
/// silently shrink a reservation.
pub fn resolve<'h>(
    host: &'h Host,
    selectors: &[Selector],
) -> Result<Vec<&'h Function>, SelectorError> {
    for s in selectors {
        if !host.functions.iter().any(|f| s.matches(host, f)) {
            return Err(s.no_match(host));
        }
    }
    Ok(host
        .functions
        .iter()
        .filter(|f| selectors.iter().any(|s| s.matches(host, f)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pci_core::{Identity, IllumosNode, PptLink};

    fn func(addr: &str, vendor: u16, device: u16, path: &str, driver: &str, inst: i32) -> Function {
        let ids = Identity {
            vendor,
            device,
            subsystem_vendor: None,
            subsystem: None,
            class: 0x030000,
            revision: 0xa1,
            header_type: Some(0x80),
        };
        let mut f = Function::new(addr.parse().unwrap(), ids, Vec::new());
        f.illumos = Some(IllumosNode {
            path: path.into(),
            driver: Some(driver.into()),
            instance: Some(inst),
            ..Default::default()
        });
        f
    }

    fn host() -> Host {
        Host {
            functions: vec![
                func(
                    "0000:01:00.0",
                    0x10de,
                    0x0a65,
                    "/pci@0,0/pci8086,151@1/display@0",
                    "ppt",
                    0,
                ),
                func(
                    "0000:01:00.1",
                    0x10de,
                    0x0be3,
                    "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
                    "ppt",
                    1,
                ),
            ],
            ppt_links: vec![PptLink {
                dev: "/dev/ppt1".into(),
                target: Some("../devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1:ppt".into()),
                path: Some("/pci@0,0/pci8086,151@1/pci1462,2291@0,1".into()),
            }],
            ..Default::default()
        }
    }

    fn sel(h: &Host, s: &str) -> Vec<String> {
        let sels = parse_all(&[s]).unwrap();
        resolve(h, &sels)
            .unwrap()
            .iter()
            .map(|f| f.address.to_string())
            .collect()
    }

    #[test]
    fn every_form_selects() {
        let h = host();
        assert_eq!(sel(&h, "01:00.0"), ["0000:01:00.0"]);
        assert_eq!(sel(&h, "0000:01:00.1"), ["0000:01:00.1"]);
        assert_eq!(
            sel(&h, "/devices/pci@0,0/pci8086,151@1/display@0:ppt"),
            ["0000:01:00.0"]
        );
        assert_eq!(
            sel(&h, "/pci@0,0/pci8086,151@1/pci1462,2291@0,1"),
            ["0000:01:00.1"]
        );
        assert_eq!(sel(&h, "/dev/ppt1"), ["0000:01:00.1"]);
        assert_eq!(sel(&h, "/dev/ppt0"), ["0000:01:00.0"]);
        assert_eq!(sel(&h, "10de:a65"), ["0000:01:00.0"]);
        assert_eq!(sel(&h, "10DE:0BE3"), ["0000:01:00.1"]);
        // lspci -d and -s forms.
        assert_eq!(sel(&h, "10de:"), ["0000:01:00.0", "0000:01:00.1"]);
        assert_eq!(sel(&h, ":a65"), ["0000:01:00.0"]);
        assert_eq!(sel(&h, "::0300"), ["0000:01:00.0", "0000:01:00.1"]);
        assert_eq!(sel(&h, "10de::03xx"), ["0000:01:00.0", "0000:01:00.1"]);
        assert_eq!(sel(&h, "01:00.*"), ["0000:01:00.0", "0000:01:00.1"]);
        assert_eq!(sel(&h, "00.1"), ["0000:01:00.1"]);
    }

    #[test]
    fn lspci_messages_and_everything_refused() {
        let e = "10de:a65:zz".parse::<Selector>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "`10de:a65:zz` is not an ID expression: Invalid class code"
        );
        let e = "01:00.9".parse::<Selector>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "`01:00.9` is not a slot: Invalid function number"
        );
        for all in [":", "*:*", "::", "*:*.*", ".", "::xxxx"] {
            assert!(
                matches!(all.parse::<Selector>(), Err(SelectorError::Everything(_))),
                "{all}"
            );
        }
    }

    /// The devfs path type serialises as its string (JSON documents keep
    /// their shape).
    #[test]
    fn devfs_path_serialises_as_a_string() {
        let p = DevfsPath::parse("/devices/pci@0,0/pci8086,151@1/display@0:ppt").unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            "\"/pci@0,0/pci8086,151@1/display@0\""
        );
        let back: DevfsPath = serde_json::from_str("\"/pci@0,0/a@1\"").unwrap();
        assert_eq!(back, "/pci@0,0/a@1");
    }

    #[test]
    fn typo_path_says_did_you_mean() {
        let h = host();
        let s = parse_all(&["/devices/pci@0,0/pci8086,151@1/pci1462,2291"]).unwrap();
        let e = resolve(&h, &s).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`/pci@0,0/pci8086,151@1/pci1462,2291` matches no PCI function on this host; did you mean /devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1? (a node's unit address is part of its path)"
        );
        let s = parse_all(&["::0403"]).unwrap();
        assert!(matches!(resolve(&h, &s), Err(SelectorError::NoMatch(_))));
    }

    #[test]
    fn rejects_and_reports() {
        let h = host();
        for bad in [
            "",
            "foo",
            "/dev/pptx",
            "10de",
            "12345:1",
            "/pci@0,0/../x",
            "/devices",
            "01:00.9",
        ] {
            assert!(bad.parse::<Selector>().is_err(), "{bad}");
        }
        let none = parse_all(&["02:00.0"]).unwrap();
        assert_eq!(
            resolve(&h, &none).unwrap_err(),
            SelectorError::NoMatch("0000:02:00.0".into())
        );
    }

    #[test]
    fn stale_link_selects_nothing() {
        let mut h = host();
        h.ppt_links[0].path = None;
        let s = parse_all(&["/dev/ppt1"]).unwrap();
        assert!(resolve(&h, &s).is_err());
    }
}
