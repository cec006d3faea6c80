//! `nvlist_print_json` for an nvlist of strings (illumos
//! `usr/src/lib/libnvpair/nvpair_json.c` behaviour): compact, keys in
//! insertion order, every value a JSON string.

/// Appends `s` as a JSON string the way libnvpair escapes it: `"`, `\`
/// and the named control characters with a backslash, other control
/// characters and every non-ASCII character as `\uXXXX` (UTF-16 units).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x0c' => out.push_str("\\f"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            c if (c as u32) < 0x20 || (c as u32) >= 0x7f => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
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
            ("label", "a\"b\\c\n\u{1}é".into()),
        ]);
        assert_eq!(o, r#"{"dev":"/dev/ppt0","label":"a\"b\\c\n\u0001\u00e9"}"#);
    }
}
