//! Building an [`Identity`] from raw config bytes.

use super::ConfigSpace;
use crate::function::Identity;

impl Identity {
    /// Reads the identity registers from raw config space.
    ///
    /// Needs at least the first 15 bytes (vendor, device, class, revision,
    /// header type); the subsystem IDs are filled when the header type has
    /// them and they are present (for bridges, from the SSVID capability).
    /// Returns `None` when fewer than 15 bytes are given.
    pub fn from_config(bytes: &[u8]) -> Option<Identity> {
        let cfg = ConfigSpace::new(bytes);
        let header_type = cfg.header_type_raw()?;
        let sub = cfg.subsystem();
        Some(Identity {
            vendor: cfg.vendor_id()?,
            device: cfg.device_id()?,
            subsystem_vendor: sub.map(|s| s.0),
            subsystem: sub.map(|s| s.1),
            class: cfg.class_code()?,
            revision: cfg.revision()?,
            header_type: Some(header_type),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_config() {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&[0x36, 0x1b, 0x0c, 0x00]);
        b[8..12].copy_from_slice(&[0x02, 0x00, 0x04, 0x06]);
        b[0x0e] = 0x80;
        b[0x2c..0x30].copy_from_slice(&[0xf4, 0x1a, 0x00, 0x11]);
        let id = Identity::from_config(&b).unwrap();
        assert_eq!((id.vendor, id.device), (0x1b36, 0x000c));
        assert_eq!(id.class, 0x060400);
        assert_eq!(id.revision, 2);
        assert_eq!(id.header_type, Some(0x80));
        assert_eq!(id.subsystem_vendor, Some(0x1af4));
        assert_eq!(id.subsystem, Some(0x1100));
        // Bridge without SSVID: no subsystem.
        b[0x0e] = 0x01;
        let id = Identity::from_config(&b).unwrap();
        assert_eq!(id.subsystem, None);
        assert!(Identity::from_config(&b[..14]).is_none());
        assert!(Identity::from_config(&b[..15]).is_some());
    }
}
