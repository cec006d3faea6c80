//! Serde helper: bytes as one lower-case hex string (used for raw config
//! space in snapshots).

use serde::{Deserialize, Deserializer, Serializer};

/// Writes bytes as a lower-case hex string.
pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(bytes))
}

/// Reads a hex string (either case, no separators) into bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    decode(&s).map_err(serde::de::Error::custom)
}

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// Bytes of a hex string; the message says what is wrong.
pub fn decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(format!("hex string has odd length {}", b.len()));
    }
    let nib = |c: u8, at: usize| -> Result<u8, String> {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("non-hex character at position {at}"))
    };
    b.chunks_exact(2)
        .enumerate()
        .map(|(i, p)| Ok(nib(p[0], 2 * i)? << 4 | nib(p[1], 2 * i + 1)?))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let v = vec![0u8, 0x0f, 0xa5, 0xff];
        assert_eq!(super::encode(&v), "000fa5ff");
        assert_eq!(super::decode("000FA5ff").unwrap(), v);
        assert!(super::decode("0").is_err());
        assert!(super::decode("zz").is_err());
    }
}
