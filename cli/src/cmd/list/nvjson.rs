//! `nvlist_print_json` for an nvlist of strings (illumos
//! `usr/src/lib/libnvpair/nvpair_json.c` behaviour): compact, keys in
//! insertion order, every value a JSON string.

/// Appends `s` as a JSON string the way libnvpair escapes it under
/// pptadm, which never calls setlocale and so runs in the C locale
/// (illumos-gate `usr/src/lib/libnvpair/nvpair_json.c`,
/// `nvlist_print_json_string`; the C locale's `mbrtowc` is
/// `_none_mbrtowc` in `usr/src/lib/libc/port/locale/none.c`, one byte per
/// character): `"`, `\` and the named control characters with a
/// backslash, other control characters and every byte above 0x7f as
/// `\u00XX`, 0x7f (DEL) as is. A UTF-8 `é` therefore becomes
/// `\u00c3\u00a9`. The C string ends at a NUL byte.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            0 => break,
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x0c => out.push_str("\\f"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x01..=0x1f | 0x80..=0xff => out.push_str(&format!("\\u{b:04x}")),
            _ => out.push(char::from(b)),
        }
    }
    out.push('"');
}

/// `{"k":"v",...}` for string pairs.
pub fn object(pairs: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(&mut out, k);
        out.push(':');
        string(&mut out, v);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let o = object(&[
            ("dev", "/dev/ppt0".into()),
            ("label", "a\"b\\c\n\u{1}\u{7f}é~".into()),
        ]);
        assert_eq!(
            o,
            "{\"dev\":\"/dev/ppt0\",\"label\":\"a\\\"b\\\\c\\n\\u0001\u{7f}\\u00c3\\u00a9~\"}"
        );
        assert_eq!(object(&[("k", "a\0b".into())]), r#"{"k":"a"}"#);
    }
}
