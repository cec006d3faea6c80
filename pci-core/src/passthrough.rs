//! What a PCI function is, for pass-through: bridge, infrastructure, and
//! the one table of functions that may never be passed through.
//!
//! Two different questions share the word "bridge", so they have two
//! names here:
//!
//! * [`is_bridge`] answers it in the configuration-space sense: header
//!   layout 1 (PCI-to-PCI) or 2 (CardBus), the functions that forward a
//!   bus. Binding one to ppt takes everything behind it from the host.
//!   When the header type is unknown (a devinfo snapshot without config
//!   space), the class codes that the PCI specification ties to those
//!   layouts (0x0604, 0x0609 PCI-to-PCI; 0x0607 CardBus) stand in.
//! * [`is_bridge_class`] is the class code's base 0x06 ("Bridge device").
//!   It also covers endpoints such as class 0x0680 ("other bridge"),
//!   which platforms use for housekeeping functions with a type 0 header;
//!   those forward nothing, so they are not refused, but they are host
//!   infrastructure nobody means to pass through ([`is_infrastructure`]).
//!
//! [`never()`] is the table both `reserve` (refusals) and `check` (fail
//! codes) read, so the two cannot disagree.

use crate::address::Address;

/// Header layout (header type register 0x0e, bits 6:0) of a PCI-to-PCI bridge.
pub const HEADER_PCI_BRIDGE: u8 = 1;
/// Header layout of a CardBus bridge.
pub(crate) const HEADER_CARDBUS: u8 = 2;

/// Base class 0x06, bridge devices.
pub(crate) const CLASS_BRIDGE: u8 = 0x06;
/// Class 0x0600 (base and sub class), host bridge.
pub(crate) const CLASS_HOST_BRIDGE: u16 = 0x0600;
/// Class 0x0601, ISA bridge (on x86 the LPC controller).
pub(crate) const CLASS_ISA_BRIDGE: u16 = 0x0601;

/// Whether a function forwards a bus: header layout 1 or 2, or, with the
/// header type unknown, a class code that implies one.
pub fn is_bridge(class: u32, header_layout: Option<u8>) -> bool {
    match header_layout {
        Some(h) => matches!(h, HEADER_PCI_BRIDGE | HEADER_CARDBUS),
        None => matches!(class >> 8, 0x0604 | 0x0609 | 0x0607),
    }
}

/// Whether the class code's base class is 0x06 (bridge device).
pub fn is_bridge_class(class: u32) -> bool {
    (class >> 16) as u8 == CLASS_BRIDGE
}

/// Host infrastructure: forwarding bridges and every bridge-class function
/// (host bridges, ISA/LPC, "other bridge" housekeeping functions). A plain
/// `check` leaves these out; nobody passes them through.
pub fn is_infrastructure(class: u32, header_layout: Option<u8>) -> bool {
    is_bridge(class, header_layout) || is_bridge_class(class)
}

/// What the table needs to know about a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The function.
    pub address: Address,
    /// 24-bit class code.
    pub class: u32,
    /// Header layout (header type & 0x7f), when known.
    pub header_layout: Option<u8>,
    /// illumos devfs path, when known.
    pub path: Option<&'a str>,
}

/// Why a function may never be passed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Never {
    /// It forwards a bus ([`is_bridge`]).
    Bridge {
        /// Header layout (1 or 2) when known.
        header_layout: Option<u8>,
    },
    /// Host bridge or ISA/LPC bridge by class: the host cannot run without it.
    HostCritical {
        /// Class 0x0600 or 0x0601.
        class: u32,
    },
    /// It controls the device the host boots from.
    BootDevice {
        /// The boot device's devfs path.
        device: String,
    },
}

impl Never {
    /// The `check` fail code it is reported under.
    pub fn code(&self) -> &'static str {
        match self {
            Never::Bridge { .. } => "bridge",
            Never::HostCritical { .. } | Never::BootDevice { .. } => "host-critical",
        }
    }

    /// The reason in words, for `address`.
    pub fn message(&self, address: Address) -> String {
        match self {
            Never::Bridge { header_layout } => {
                let kind = if *header_layout == Some(HEADER_CARDBUS) {
                    "a CardBus bridge"
                } else {
                    "a PCI-to-PCI bridge"
                };
                match header_layout {
                    Some(h) => format!(
                        "{address} is {kind} (header type {h}); ppt would take everything below it from the host"
                    ),
                    None => format!(
                        "{address} is {kind} (by its class code); ppt would take everything below it from the host"
                    ),
                }
            }
            Never::HostCritical { class } => {
                let what = if *class >> 8 == u32::from(CLASS_HOST_BRIDGE) {
                    "host bridge"
                } else {
                    "ISA/LPC bridge"
                };
                format!(
                    "{address} is the {what} (class {class:06x}); the host cannot run without it"
                )
            }
            Never::BootDevice { device } => {
                format!("{address} controls the boot pool device {device}")
            }
        }
    }
}

/// Every reason `c` may never be passed through; empty when it may.
/// `boot_devices` are the devfs paths the host boots from.
pub fn never(c: &Candidate<'_>, boot_devices: &[String]) -> Vec<Never> {
    let mut out = Vec::new();
    if is_bridge(c.class, c.header_layout) {
        out.push(Never::Bridge {
            header_layout: c.header_layout,
        });
    }
    let class16 = (c.class >> 8) as u16;
    if class16 == CLASS_HOST_BRIDGE || class16 == CLASS_ISA_BRIDGE {
        out.push(Never::HostCritical { class: c.class });
    } else if let Some(path) = c.path.filter(|p| !p.is_empty()) {
        let below = format!("{path}/");
        if let Some(dev) = boot_devices
            .iter()
            .find(|d| d.as_str() == path || d.starts_with(&below))
        {
            out.push(Never::BootDevice {
                device: dev.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cand(class: u32, header_layout: Option<u8>) -> Candidate<'static> {
        Candidate {
            address: "00:01.0".parse().unwrap(),
            class,
            header_layout,
            path: Some("/pci@0,0/pci8086,151@1"),
        }
    }

    #[test]
    fn other_bridge_endpoint_is_not_refused_but_is_infrastructure() {
        assert!(never(&cand(0x068000, Some(0)), &[]).is_empty());
        assert!(is_infrastructure(0x068000, Some(0)));
        assert!(!is_bridge(0x068000, Some(0)));
        assert!(is_bridge_class(0x068000));
    }

    #[test]
    fn bridges_by_header_or_by_class_when_unknown() {
        assert_eq!(never(&cand(0x060400, Some(1)), &[])[0].code(), "bridge");
        assert_eq!(never(&cand(0x060700, None), &[])[0].code(), "bridge");
        assert_eq!(never(&cand(0x030000, Some(2)), &[])[0].code(), "bridge");
        assert!(never(&cand(0x060400, Some(0)), &[]).is_empty());
        let host = never(&cand(0x060000, Some(0)), &[]);
        assert_eq!(host[0].code(), "host-critical");
    }

    #[test]
    fn boot_device_below_is_critical() {
        let boot = vec!["/pci@0,0/pci8086,151@1/disk@0,0".to_string()];
        let r = never(&cand(0x010802, Some(0)), &boot);
        assert_eq!(r.len(), 1);
        assert!(r[0]
            .message("00:01.0".parse().unwrap())
            .contains("boot pool"));
        let other = vec!["/pci@0,0/pci8086,151@10".to_string()];
        assert!(never(&cand(0x010802, Some(0)), &other).is_empty());
    }
}
