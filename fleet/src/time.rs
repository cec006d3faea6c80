//! Snapshot times: RFC 3339 text <-> Unix seconds, UTC. Stored as seconds
//! so history orders numerically in both databases.

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
pub fn format_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn num(s: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    range.contains(&v).then_some(v)
}

/// Unix seconds of an RFC 3339 time (`2026-12-01T14:53:55Z`,
/// `…T14:53:55.123+01:00`); fractions are dropped. `None` if malformed.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let y = num(s.get(0..4)?, 0..=9999)?;
    let mo = num(s.get(5..7)?, 1..=12)?;
    let d = num(s.get(8..10)?, 1..=31)?;
    let h = num(s.get(11..13)?, 0..=23)?;
    let mi = num(s.get(14..16)?, 0..=59)?;
    let se = num(s.get(17..19)?, 0..=60)?;
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            sign * (num(&rest[1..3], 0..=23)? * 3600 + num(&rest[4..6], 0..=59)? * 60)
        }
    };
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return None; // 2026-02-30
    }
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// This machine's clock, in Unix seconds (0 before the epoch): what the
/// fleet stamps an ingest with and judges snapshot and claim times against.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// How a duration is written, for messages: the one grammar of every
/// fleet option that takes one (`--ttl`, `--max-age`, `--max-future-skew`).
pub const DURATION_GRAMMAR: &str =
    "N seconds, or N followed by s, m, h, d or w (90s, 30m, 2h, 7d, 1w)";

/// Seconds of a duration written `N` or `N` followed by a unit: `s`,
/// `m`, `h`, `d` or `w` (`300`, `90s`, `5m`, `2h`, `1d`, `1w`)
/// ([`DURATION_GRAMMAR`]). `None` if malformed or beyond a century.
pub fn parse_duration(s: &str) -> Option<i64> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let unit = match &s[digits..] {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    let n = num(&s[..digits], 0..=36_500 * 86_400)?;
    Some(n * unit).filter(|v| *v <= 36_500 * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Some(300));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1d"), Some(86_400));
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("1w"), Some(604_800));
        assert_eq!(parse_duration("5200w"), Some(5200 * 604_800));
        for bad in [
            "",
            "m",
            "h",
            "5 m",
            "-5m",
            "-1h",
            "1.5h",
            "1y",
            "soon",
            "99999999999d",
            "5300w",
            "99999999999999999999d",
            "５m",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips() {
        for s in [0, 1_796_136_835, 951_782_400, -86_400] {
            assert_eq!(parse_rfc3339(&format_rfc3339(s)), Some(s));
        }
        assert_eq!(format_rfc3339(1_796_136_835), "2026-12-01T14:53:55Z");
    }

    #[test]
    fn offsets_and_fractions() {
        assert_eq!(
            parse_rfc3339("2026-12-01T15:53:55.25+01:00"),
            parse_rfc3339("2026-12-01T14:53:55Z")
        );
    }

    #[test]
    fn malformed_is_refused() {
        for s in [
            "",
            "2026-12-01",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-12-01T00:00:00",
            "2026-12-01T00:00:00+1:00",
            "2026-12-01T00:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }
}
