//! The device resources of a zone's configuration file,
//! `/etc/zones/NAME.xml`: `<device match="PATH">` elements whose
//! properties are `<net-attr name="…" value="…"/>` children (SmartOS
//! stores device attributes that way; third-party SmartOS tools read it
//! the same way, e.g. project-FiFo chunter's `chunter_zoneparser`).
//!
//! This is a small, tolerant scanner for those two elements, not an XML
//! parser: anything else in the file is skipped, and a file it cannot make
//! sense of yields no devices rather than an error.

use std::io::Read;

use super::analysis::ConfigDevice;
use super::zonecfg::sanitize_env_name;
use crate::root::HostRoot;

/// The largest zone XML read (real ones are a few KiB).
pub const MAX_ZONE_XML: u64 = 4 << 20;

/// A device resource of the zone configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ZoneDevice {
    /// The `match` value as written (`/devices/...`, or `/dev/pptN`).
    pub matches: String,
    /// `model`, when set.
    pub model: Option<String>,
    /// `pci_slot`, when set.
    pub pci_slot: Option<String>,
}

impl ZoneDevice {
    /// The device as zoneadmd would export it to the brand (without the
    /// resolved `path`, which exists only at boot).
    pub fn to_config(&self) -> ConfigDevice {
        ConfigDevice {
            resource: sanitize_env_name(&self.matches),
            path: None,
            model: self.model.clone(),
            pci_slot: self.pci_slot.clone(),
            line: 0,
        }
    }
}

/// Why the zone configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ZoneXmlError {
    /// Opening or reading failed.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The host path.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Larger than [`MAX_ZONE_XML`].
    #[error("{file}: larger than {MAX_ZONE_XML} bytes; not a zone configuration")]
    TooLarge {
        /// The host path.
        file: String,
    },
}

/// The host path of zone `name`'s configuration.
pub fn zone_xml_path(name: &str) -> String {
    format!("/etc/zones/{name}.xml")
}

/// Reads zone `name`'s device resources under `root`; `Ok(None)` when the
/// file does not exist.
pub fn read_zone_devices(
    root: &HostRoot,
    name: &str,
) -> Result<Option<Vec<ZoneDevice>>, ZoneXmlError> {
    let file = zone_xml_path(name);
    let f = match std::fs::File::open(root.path(&file)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ZoneXmlError::Read { file, source }),
    };
    let mut bytes = Vec::new();
    f.take(MAX_ZONE_XML + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ZoneXmlError::Read {
            file: file.clone(),
            source,
        })?;
    if bytes.len() as u64 > MAX_ZONE_XML {
        return Err(ZoneXmlError::TooLarge { file });
    }
    Ok(Some(parse_zone_devices(&String::from_utf8_lossy(&bytes))))
}

/// The value of attribute `name` inside one tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let i = rest.find(name)?;
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = rest[i + name.len()..].trim_start();
        if before_ok {
            if let Some(after) = after.strip_prefix('=') {
                let after = after.trim_start();
                let quote = after.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let body = &after[1..];
                    let end = body.find(quote)?;
                    return Some(unescape(&body[..end]));
                }
            }
        }
        rest = &rest[i + name.len()..];
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Scans zone XML text for `<device>` elements and their `<net-attr>`s.
pub fn parse_zone_devices(xml: &str) -> Vec<ZoneDevice> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<device") {
        rest = &rest[i + "<device".len()..];
        if !rest.starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/') {
            continue;
        }
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..tag_end];
        let self_closing = tag.trim_end().ends_with('/');
        let Some(matches) = attr(tag, "match") else {
            rest = &rest[tag_end..];
            continue;
        };
        let mut dev = ZoneDevice {
            matches,
            model: None,
            pci_slot: None,
        };
        rest = &rest[tag_end + 1..];
        if !self_closing {
            let body_end = rest.find("</device").unwrap_or(rest.len());
            let mut body = &rest[..body_end];
            while let Some(j) = body.find("<net-attr") {
                body = &body[j + "<net-attr".len()..];
                let end = body.find('>').unwrap_or(body.len());
                let t = &body[..end];
                match (attr(t, "name").as_deref(), attr(t, "value")) {
                    (Some("model"), v) => dev.model = v,
                    (Some("pci_slot"), v) => dev.pci_slot = v,
                    _ => {}
                }
                body = &body[end..];
            }
            rest = &rest[body_end..];
        }
        out.push(dev);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_devices_and_their_attributes() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<zone name="u" zonepath="/zones/u" brand="bhyve">
  <device match="/dev/zvol/rdsk/zones/u/disk0">
    <net-attr name="boot" value="true"/>
    <net-attr name="model" value="virtio"/>
  </device>
  <device match="/devices/pci@0,0/pci8086,151@1/display@0">
    <net-attr name="model" value="passthru"/>
    <net-attr value="0:8:0" name="pci_slot"/>
  </device>
  <device match="/dev/ppt1"/>
  <devices-not match="x"/>
</zone>"#;
        let d = parse_zone_devices(xml);
        assert_eq!(d.len(), 3, "{d:?}");
        assert_eq!(d[1].matches, "/devices/pci@0,0/pci8086,151@1/display@0");
        assert_eq!(d[1].model.as_deref(), Some("passthru"));
        assert_eq!(d[1].pci_slot.as_deref(), Some("0:8:0"));
        assert_eq!(
            d[1].to_config().resource,
            "_devices_pci_0_0_pci8086_151_1_display_0"
        );
        assert_eq!(d[2].matches, "/dev/ppt1");
        assert_eq!(d[2].model, None);
        assert!(parse_zone_devices("<device match=\"unterminated").is_empty());
        assert!(parse_zone_devices("\u{0}\u{1} junk").is_empty());
    }
}
