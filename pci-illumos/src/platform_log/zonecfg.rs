//! The zone configuration as the bhyve brand's boot program saw it: the
//! `get_zcfg_var: '_ZONECFG_...=value'` lines it logs in debug mode.
//!
//! zoneadmd exports the configuration into the environment of the brand
//! hooks (illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`,
//! `setup_subproc_env` and `set_zonecfg_env`): a device resource becomes
//! `_ZONECFG_device_<match>_<property>`, where `<match>` is the resource's
//! `match` value with every character other than `[A-Za-z0-9]` replaced by
//! `_` (`sanitize_env_var_name`); its `path` variable holds the resolved
//! `/dev/pptN` for a pass-through device (`resolve_device_match`), and the
//! space-separated list of sanitized matches is `_ZONECFG_device_resources`.
//! The brand's `get_zcfg_var` (illumos-joyent
//! `usr/src/lib/brand/bhyve/zone/boot.c`) prints `NAME=VALUE`, with
//! `<null>` for an unset variable.

/// The prefix of every device variable.
pub(crate) const DEVICE_PREFIX: &str = "_ZONECFG_device_";

/// Device properties the bhyve brand reads (boot.c `add_devices`,
/// `add_ppt`, `add_disk`), longest first so that a suffix match picks
/// `pci_slot` over a shorter name.
pub(crate) const DEVICE_PROPERTIES: &[&str] = &[
    "guest_block_size",
    "pci_slot",
    "notrim",
    "model",
    "media",
    "path",
    "boot",
    "rom",
];

/// zoneadmd's `sanitize_env_var_name`: every byte that is not an ASCII
/// letter or digit becomes `_`.
pub fn sanitize_env_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// One `get_zcfg_var` line: the variable and its value (`None` for `<null>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZcfgVar {
    /// The variable name, e.g. `_ZONECFG_attr_bootrom`.
    pub name: String,
    /// The value; `None` when the brand logged `<null>` (unset).
    pub value: Option<String>,
}

/// Parses `get_zcfg_var: '_ZONECFG_x=value'`.
pub(crate) fn parse_get_zcfg_var(text: &str) -> Option<ZcfgVar> {
    let rest = text.split_once("get_zcfg_var: '")?.1;
    let rest = rest.strip_suffix('\'').unwrap_or(rest);
    let (name, value) = rest.split_once('=')?;
    if !name.starts_with("_ZONECFG") {
        return None;
    }
    Some(ZcfgVar {
        name: name.to_string(),
        value: if value == "<null>" {
            None
        } else {
            Some(value.to_string())
        },
    })
}

/// Splits a device variable name into the sanitized match and the
/// property: `_ZONECFG_device__devices_pci_0_0_x_0_pci_slot` →
/// (`_devices_pci_0_0_x_0`, `pci_slot`). `_ZONECFG_device_resources` and
/// names with an unknown property give `None`.
pub(crate) fn split_device_var(name: &str) -> Option<(&str, &'static str)> {
    let rest = name.strip_prefix(DEVICE_PREFIX)?;
    for prop in DEVICE_PROPERTIES {
        if let Some(res) = rest.strip_suffix(prop) {
            if let Some(res) = res.strip_suffix('_') {
                if !res.is_empty() {
                    return Some((res, prop));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_zoneadmd() {
        assert_eq!(
            sanitize_env_name("/devices/pci@79,0/pci8086,6f08@3/pci1077,2a8@0,1"),
            "_devices_pci_79_0_pci8086_6f08_3_pci1077_2a8_0_1"
        );
        assert_eq!(sanitize_env_name("/dev/ppt1"), "_dev_ppt1");
    }

    #[test]
    fn parses_variables_and_device_properties() {
        let v = parse_get_zcfg_var(
            "get_zcfg_var: '_ZONECFG_device__devices_pci_79_0_pci8086_6f08_3_pci1077_2a8_0_1_path=/dev/ppt1'",
        )
        .unwrap();
        assert_eq!(v.value.as_deref(), Some("/dev/ppt1"));
        assert_eq!(
            split_device_var(&v.name),
            Some(("_devices_pci_79_0_pci8086_6f08_3_pci1077_2a8_0_1", "path"))
        );
        assert_eq!(
            split_device_var("_ZONECFG_device__dev_ppt0_pci_slot"),
            Some(("_dev_ppt0", "pci_slot"))
        );
        assert_eq!(split_device_var("_ZONECFG_device_resources"), None);
        let v = parse_get_zcfg_var("get_zcfg_var: '_ZONECFG_attr_bootrom=<null>'").unwrap();
        assert_eq!(v.value, None);
        assert!(parse_get_zcfg_var("get_zcfg_var: nothing").is_none());
    }
}
