//! The pass-through devices of bhyve zones, from the zone configuration
//! under `--root` (`/etc/zones/NAME.xml`, what `zonecfg` writes).
//!
//! SmartOS's vmadm stores each `pci_devices` entry as a zonecfg `device`
//! resource: `match` is the `/devices/...` path, with the properties
//! `model=passthru` and `pci-slot` (smartos-live
//! `src/vm/node_modules/VM.js`, `buildPCIDeviceZonecfg`). In the XML the
//! properties are `net-attr` elements of the `device` element, and a
//! device whose `model` is `passthru` is a pass-through device
//! (`src/vm/node_modules/vmload/vmload-xml.js`, `endElement`).

use std::path::Path;

use pci_illumos::files::{read_file, FileState};
use pci_illumos::root::HostRoot;
use serde::{Deserialize, Serialize};

/// Where zonecfg keeps zone configurations.
pub(crate) const ZONES_DIR: &str = "/etc/zones";

/// One pass-through device of a zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneDevice {
    /// The device path (`/devices/pci@0,0/...`), as configured.
    pub path: String,
    /// The guest slot (`0:8:0`), when configured.
    pub pci_slot: Option<String>,
}

/// A bhyve zone and its pass-through devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BhyveZone {
    /// The zone name (the VM's UUID on SmartOS).
    pub name: String,
    /// The host path of its configuration file.
    pub file: String,
    /// Its `pci_devices`.
    pub pci_devices: Vec<ZoneDevice>,
}

/// The bhyve zones configured under a root, or why they are not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zones {
    /// Read from the zone configuration files.
    Known(Vec<BhyveZone>),
    /// Not known (no readable `/etc/zones` under the root).
    Unknown(String),
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the start tag text `tag`.
fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before_ok = i == 0 || rest[..i].ends_with(|c: char| c.is_whitespace());
        let after = rest[i + name.len()..].trim_start();
        if before_ok {
            if let Some(v) = after.strip_prefix('=') {
                let v = v.trim_start();
                let q = v.chars().next()?;
                if q == '"' || q == '\'' {
                    let body = &v[1..];
                    return body.find(q).map(|end| unescape(&body[..end]));
                }
            }
        }
        rest = &rest[i + name.len()..];
    }
    None
}

/// The start tags of the document with their names, in order (comments
/// and processing instructions skipped).
fn tags(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix("!--") {
            rest = r.find("-->").map_or("", |e| &r[e + 3..]);
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let body = &rest[..end];
        rest = &rest[end + 1..];
        if body.starts_with('?') || body.starts_with('!') {
            continue;
        }
        let name: String = body
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
            .collect();
        out.push((name, body.to_string()));
    }
    out
}

/// The zone in one configuration document, when it is a bhyve zone.
pub fn parse_zone(xml: &str, file: &str) -> Option<BhyveZone> {
    let tags = tags(xml);
    let (_, zone) = tags.iter().find(|(n, _)| n == "zone")?;
    if attr(zone, "brand").as_deref() != Some("bhyve") {
        return None;
    }
    let mut z = BhyveZone {
        name: attr(zone, "name").unwrap_or_default(),
        file: file.to_string(),
        pci_devices: Vec::new(),
    };
    // device start tag, then its net-attr children until the next
    // device or the end of the device element.
    let mut current: Option<(String, bool, Option<String>)> = None;
    let finish = |c: Option<(String, bool, Option<String>)>, z: &mut BhyveZone| {
        if let Some((path, true, slot)) = c {
            z.pci_devices.push(ZoneDevice {
                path,
                pci_slot: slot,
            });
        }
    };
    for (name, body) in &tags {
        match name.as_str() {
            "device" => {
                finish(current.take(), &mut z);
                current = Some((attr(body, "match").unwrap_or_default(), false, None));
            }
            "net-attr" => {
                if let Some(c) = current.as_mut() {
                    match (attr(body, "name").as_deref(), attr(body, "value")) {
                        (Some("model"), Some(v)) => c.1 = v == "passthru",
                        (Some("pci-slot"), v) => c.2 = v,
                        _ => {}
                    }
                }
            }
            "/device" => finish(current.take(), &mut z),
            _ => {}
        }
    }
    finish(current.take(), &mut z);
    Some(z)
}

/// Reads zone `name`'s configuration under `root`: `Ok(None)` when the
/// file does not exist or is no bhyve zone, the reason when it cannot be
/// read.
pub fn read_zone(root: &Path, name: &str) -> Result<Option<BhyveZone>, String> {
    let file = format!("{ZONES_DIR}/{name}.xml");
    match read_file(&HostRoot::new(root), &file) {
        FileState::Present(bytes) => Ok(parse_zone(&String::from_utf8_lossy(&bytes), &file)),
        FileState::Absent => Ok(None),
        FileState::Unreadable { message, .. } => Err(format!("{file}: cannot read: {message}")),
        FileState::TooLarge { size } => Err(format!(
            "{file}: {size} bytes, too large for a zone configuration"
        )),
    }
}

/// Reads every `/etc/zones/*.xml` under `root` (the index file and
/// templates hold no bhyve zone and are skipped by brand).
pub fn read(root: &Path) -> Zones {
    let base = HostRoot::new(root);
    let entries = match base.read_dir(ZONES_DIR) {
        Ok(e) => e,
        Err(e) => return Zones::Unknown(format!("{ZONES_DIR} cannot be read: {}", e.reason())),
    };
    let mut names: Vec<String> = entries
        .into_iter()
        .filter_map(|e| e.into_string().ok())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    names.sort();
    let mut zones = Vec::new();
    for n in names {
        let file = format!("{ZONES_DIR}/{n}");
        if let FileState::Present(bytes) = read_file(&base, &file) {
            if let Some(z) = parse_zone(&String::from_utf8_lossy(&bytes), &file) {
                zones.push(z);
            }
        }
    }
    Zones::Known(zones)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE zone PUBLIC "-//Sun Microsystems Inc//DTD Zones//EN" "file:///usr/share/lib/xml/dtd/zonecfg.dtd.1">
<!-- DO NOT EDIT THIS FILE. -->
<zone name="7c1b7a3e-0d1c-4b5e-9f3e-2a7a8f0e6d11" zonepath="/zones/7c1b7a3e" autoboot="true" brand="bhyve">
  <device match="/dev/zvol/rdsk/zones/7c1b7a3e/disk0">
    <net-attr name="boot" value="true"/>
    <net-attr name="model" value="virtio"/>
  </device>
  <device match="/devices/pci@0,0/pci8086,151@1/display@0">
    <net-attr name="model" value="passthru"/>
    <net-attr name="pci-slot" value="0:8:0"/>
  </device>
  <device match="/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1">
    <net-attr name="model" value="passthru"/>
    <net-attr name="pci-slot" value="0:8:1"/>
  </device>
  <attr name="alias" type="string" value="d2luMTA="/>
</zone>
"#;

    #[test]
    fn passthru_devices_of_a_bhyve_zone() {
        let z = parse_zone(XML, "/etc/zones/x.xml").unwrap();
        assert_eq!(z.name, "7c1b7a3e-0d1c-4b5e-9f3e-2a7a8f0e6d11");
        assert_eq!(z.pci_devices.len(), 2, "{z:?}");
        assert_eq!(
            z.pci_devices[1].path,
            "/devices/pci@0,0/pci8086,151@1/pci1462,2291@0,1"
        );
        assert_eq!(z.pci_devices[0].pci_slot.as_deref(), Some("0:8:0"));
        let joyent = XML.replace("brand=\"bhyve\"", "brand=\"joyent\"");
        assert!(parse_zone(&joyent, "f").is_none());
    }
}
