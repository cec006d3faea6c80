//! One platform.log line decoded: which of the field formats it is in, its
//! stream, time and message text.
//!
//! zoneadmd writes `<zonepath>/logs/platform.log` through its log stream
//! code (illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`, `zerror` calls
//! `logstream_write` with the message and its newline). Two JSON shapes are
//! seen in the field, both quoted in smartos-live issues 901 and 947:
//!
//! * the older one, one object per line with `log` (the message including
//!   its `\n`), `stream` (`zoneadmd`, `stderr`, ...) and `time`, plus
//!   `{"event":"open","stream":"logfile",...}` markers;
//! * the bunyan-style one with `time`, `v`, `hostname`, `name`, `pid`,
//!   `level`, `msg` (again with its `\n`) and `stream`.
//!
//! Anything else is plain text: the same messages as `vmadm start` prints
//! them (`zone 'UUID': add_arg: ...`), pasted into a file by hand.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

/// The shape of one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `{"log": "...", "stream": "...", "time": "..."}`.
    Stream,
    /// `{"time", "v", "hostname", "name", "pid", "level", "msg", ...}`.
    Bunyan,
    /// A JSON object with neither `log` nor `msg` (`{"event":"open",...}`).
    Event,
    /// Not JSON: plain text, or a line that starts like JSON but does not
    /// parse (cut off, unbalanced).
    Plain,
}

/// A decoded line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line's format.
    pub format: Format,
    /// The `stream` field, when there is one.
    pub stream: Option<String>,
    /// The `time` field as written, when there is one.
    pub time: Option<String>,
    /// The message, its trailing newline removed; for plain text the line
    /// without a `zone 'NAME': ` prefix.
    pub text: String,
    /// The line starts with `{` but is not a JSON object.
    pub malformed_json: bool,
}

/// The fields read from a JSON line, borrowed where possible (the common
/// case, decoded without building a map).
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    log: Option<Cow<'a, str>>,
    #[serde(borrow)]
    msg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stream: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<Time<'a>>,
}

/// `time` as a string or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Time<'a> {
    #[serde(borrow)]
    Text(Cow<'a, str>),
    Number(serde_json::Number),
}

fn string_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Removes the `zone 'NAME': ` prefix zoneadm and vmadm put before every
/// message they relay.
fn strip_zone_prefix(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix("zone '") {
        if let Some(end) = rest.find("': ") {
            return &rest[end + 3..];
        }
    }
    s
}

/// Decodes one line.
pub fn decode(line: &str) -> Record {
    let trimmed = line.trim();
    if trimmed.starts_with('{') {
        if let Ok(f) = serde_json::from_str::<Fields>(trimmed) {
            let (format, text) = match (f.log, f.msg) {
                (Some(t), _) => (Format::Stream, t),
                (None, Some(t)) => (Format::Bunyan, t),
                (None, None) => (Format::Event, Cow::Borrowed("")),
            };
            return Record {
                format,
                stream: f.stream.map(Cow::into_owned),
                time: f.time.map(|t| match t {
                    Time::Text(s) => s.into_owned(),
                    Time::Number(n) => n.to_string(),
                }),
                text: text.trim_end_matches(['\n', '\r']).to_string(),
                malformed_json: false,
            };
        }
        // Fields of another type (`"log": 5`): read it loosely.
        if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(trimmed) {
            let stream = string_field(&obj, "stream");
            let time = string_field(&obj, "time");
            let (format, text) = if let Some(t) = string_field(&obj, "log") {
                (Format::Stream, t)
            } else if let Some(t) = string_field(&obj, "msg") {
                (Format::Bunyan, t)
            } else {
                (Format::Event, String::new())
            };
            let text = text.trim_end_matches(['\n', '\r']).to_string();
            return Record {
                format,
                stream,
                time,
                text,
                malformed_json: false,
            };
        }
        return Record {
            format: Format::Plain,
            stream: None,
            time: None,
            text: trimmed.to_string(),
            malformed_json: true,
        };
    }
    Record {
        format: Format::Plain,
        stream: None,
        time: None,
        text: strip_zone_prefix(line.trim_end()).to_string(),
        malformed_json: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_json_shapes_and_plain_text() {
        let r = decode(
            r#"{"log":"add_arg: argv[2]='-U'\n","stream":"zoneadmd","time":"2020-02-08T23:13:35.550172000Z"}"#,
        );
        assert_eq!(r.format, Format::Stream);
        assert_eq!(r.text, "add_arg: argv[2]='-U'");
        assert_eq!(r.stream.as_deref(), Some("zoneadmd"));
        let r = decode(
            r#"{ "time": "2020-07-01T06:19:55.964209000Z", "v": 0, "hostname": "h", "name": "zoneadmd","pid": 7347, "level": 30, "msg":"add_arg: argv[36]='x'\n", "stream":"zoneadmd" }"#,
        );
        assert_eq!(r.format, Format::Bunyan);
        assert_eq!(r.text, "add_arg: argv[36]='x'");
        let r = decode(r#"{"event":"open","stream":"logfile","time":"t"}"#);
        assert_eq!(r.format, Format::Event);
        let r = decode("zone 'abc': add_arg: argv[3]='abc'");
        assert_eq!(r.format, Format::Plain);
        assert_eq!(r.text, "add_arg: argv[3]='abc'");
        let r = decode(r#"{"log":"cut off"#);
        assert!(r.malformed_json);
        assert_eq!(r.format, Format::Plain);
    }
}
