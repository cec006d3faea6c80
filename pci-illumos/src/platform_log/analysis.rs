//! Reads a whole platform.log, line by line, and keeps what matters in
//! bounded memory: the last boot attempt in full (argument vector, device
//! configuration, recognised messages), counts of everything else, and the
//! first and last unrecognised messages quoted.

use std::collections::{BTreeMap, VecDeque};
use std::io::BufRead;

use serde::Serialize;

use super::argv::{parse_add_arg, SlotArg};
use super::catalogue::{recognise, Pattern};
use super::lines::Lines;
use super::record::{decode, Format};
use super::subproc::{Joiner, Whole};
use super::zonecfg::{parse_get_zcfg_var, split_device_var};
use super::PlatformLogError;

/// Most argv entries kept per attempt (the brand's own limit is 100,
/// boot.c `ZH_MAXARGS`).
pub const MAX_ARGV: usize = 256;
/// Most device resources kept per attempt.
pub(crate) const MAX_DEVICES: usize = 256;
/// Most recognised messages kept per attempt; the rest are counted.
pub const MAX_MESSAGES: usize = 100;
/// Unrecognised messages quoted from the start and from the end.
pub const QUOTED_EACH_END: usize = 10;
/// The longest text quoted from one line.
pub const MAX_QUOTE: usize = 400;

/// A device resource of the zone configuration, from `get_zcfg_var` lines.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ConfigDevice {
    /// The sanitized `match` value (`_devices_pci_0_0_...`).
    pub resource: String,
    /// `path`: for a pass-through device the `/dev/pptN` zoneadmd resolved.
    pub path: Option<String>,
    /// `model` (`passthru`, `virtio`, ...).
    pub model: Option<String>,
    /// `pci_slot` as configured.
    pub pci_slot: Option<String>,
    /// First log line naming this device.
    pub line: usize,
}

/// How the brand's VM names start (boot.c `add_vmname`).
pub const VM_NAME_PREFIX: &str = "SYSbhyve-";

/// The name the brand gives a VM whose zone has no `_ZONECFG_did`.
pub const VM_NAME_UNKNOWN: &str = "SYSbhyve-unknown";

/// A recognised message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Log line.
    pub line: usize,
    /// The line's time, when it has one.
    pub time: Option<String>,
    /// The line's stream, when it has one.
    pub stream: Option<String>,
    /// The message text (at most [`MAX_QUOTE`] characters).
    pub text: String,
    /// The pattern's code.
    pub code: &'static str,
    /// The device the message names, if any.
    pub device: Option<String>,
    /// The error text at its end, if any.
    pub errno: Option<String>,
    #[serde(skip)]
    /// The pattern.
    pub pattern: &'static Pattern,
}

/// A line quoted as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    /// Log line.
    pub line: usize,
    /// The text (at most [`MAX_QUOTE`] characters; `…` marks a cut).
    pub text: String,
}

/// One boot attempt: from the first `add_arg` (or a zoneadmd failure that
/// comes before the brand runs) to the next.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Attempt {
    /// First log line of the attempt.
    pub first_line: usize,
    /// Last log line that belongs to it.
    pub last_line: usize,
    /// Time of the first line, when known.
    pub time: Option<String>,
    /// bhyve's arguments by index, as logged.
    pub argv: BTreeMap<usize, String>,
    /// argv entries not kept (over [`MAX_ARGV`]).
    pub argv_dropped: usize,
    /// Every `-s` argument.
    pub slots: Vec<SlotArg>,
    /// Device resources from the zone configuration, in log order.
    pub devices: Vec<ConfigDevice>,
    /// `_ZONECFG_device_resources`, when logged.
    pub device_resources: Option<String>,
    /// Recognised messages in log order.
    pub messages: Vec<Message>,
    /// Recognised messages not kept (over [`MAX_MESSAGES`]).
    pub messages_dropped: usize,
    #[serde(skip)]
    argv_lines: BTreeMap<usize, usize>,
}

impl Attempt {
    /// The VM's UUID: the argument after `-U`.
    pub fn uuid(&self) -> Option<&str> {
        self.argv
            .iter()
            .find(|(_, v)| v.as_str() == "-U")
            .and_then(|(i, _)| self.argv.get(&(i + 1)))
            .map(String::as_str)
    }

    /// The VM's name in vmm: the last argument, which the brand always
    /// adds (boot.c `add_vmname`: `SYSbhyve-` and zoneadmd's
    /// `_ZONECFG_did`, or `SYSbhyve-unknown` when that is unset or empty;
    /// the brand reads it with `getenv`, so no `get_zcfg_var` line shows
    /// it).
    pub fn vm_name(&self) -> Option<&str> {
        self.argv
            .values()
            .next_back()
            .map(String::as_str)
            .filter(|v| v.starts_with(VM_NAME_PREFIX))
    }

    /// Whether any recognised message is a problem.
    pub fn has_problem(&self) -> bool {
        self.messages.iter().any(|m| m.pattern.problem)
    }

    /// The pass-through `-s` arguments.
    pub fn passthru(&self) -> impl Iterator<Item = &SlotArg> {
        self.slots.iter().filter(|s| s.emulation == "passthru")
    }

    /// The log line of argv entry `index`.
    pub fn argv_line(&self, index: usize) -> Option<usize> {
        self.argv_lines.get(&index).copied()
    }

    fn device_mut(&mut self, resource: &str, line: usize) -> Option<&mut ConfigDevice> {
        let pos = match self.devices.iter().position(|d| d.resource == resource) {
            Some(p) => p,
            None if self.devices.len() < MAX_DEVICES => {
                self.devices.push(ConfigDevice {
                    resource: resource.to_string(),
                    line,
                    ..Default::default()
                });
                self.devices.len() - 1
            }
            None => return None,
        };
        self.devices.get_mut(pos)
    }

    fn is_empty(&self) -> bool {
        self.argv.is_empty() && self.devices.is_empty() && self.messages.is_empty()
    }

    /// Rebuilds the `-s` list from argv (a `-s` and the value after it).
    fn finish(&mut self) {
        self.slots.clear();
        for (i, v) in &self.argv {
            if v == "-s" {
                if let Some(val) = self.argv.get(&(i + 1)) {
                    let line = self.argv_lines.get(&(i + 1)).copied().unwrap_or(0);
                    self.slots.push(SlotArg::parse(val, i + 1, line));
                }
            }
        }
    }
}

/// Counts of what the reader met.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LineCounts {
    /// All lines.
    pub total: usize,
    /// `{"log","stream","time"}` lines.
    pub stream: usize,
    /// Bunyan-style lines.
    pub bunyan: usize,
    /// Other JSON objects (`{"event":"open",...}`).
    pub event: usize,
    /// Plain-text lines.
    pub plain: usize,
    /// Empty lines.
    pub empty: usize,
    /// Lines starting with `{` that are not JSON objects.
    pub malformed_json: usize,
    /// Lines longer than the per-line cap (only their start was read).
    pub truncated: usize,
    /// Lines that are not valid UTF-8.
    pub invalid_utf8: usize,
    /// Lines with NUL or control bytes.
    pub binary: usize,
    /// `add_arg` lines.
    pub add_arg: usize,
    /// `get_zcfg_var` lines.
    pub get_zcfg_var: usize,
    /// Lines matched to a recognised message.
    pub recognised: usize,
    /// Lines with a message pptctl does not recognise.
    pub unrecognised: usize,
}

/// Unrecognised messages: the first and the last few, quoted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Unrecognised {
    /// The first [`QUOTED_EACH_END`].
    pub first: Vec<Quote>,
    /// The last [`QUOTED_EACH_END`] after `first` (none repeated).
    pub last: VecDeque<Quote>,
}

/// Everything read from one platform.log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Analysis {
    /// What the lines were.
    pub lines: LineCounts,
    /// How many boot attempts the log shows.
    pub attempts: usize,
    /// Problems recognised in attempts before the last one.
    pub earlier_problems: usize,
    /// The last boot attempt, in full.
    pub last: Option<Attempt>,
    /// Unrecognised messages, quoted.
    pub unrecognised: Unrecognised,
}

impl Analysis {
    /// Whether the input looks like no text log at all: binary or invalid
    /// lines and not one message a platform.log has.
    pub fn is_not_a_log(&self) -> bool {
        let l = &self.lines;
        let known = l.stream + l.bunyan + l.event + l.add_arg + l.get_zcfg_var + l.recognised;
        known == 0 && (l.binary > 0 || l.invalid_utf8 > 0)
    }
}

fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTE {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX_QUOTE).collect();
        s.push('…');
        s
    }
}

struct Builder {
    out: Analysis,
    current: Attempt,
    max_index: Option<usize>,
}

impl Builder {
    /// The messages of one whole record: it may carry several lines.
    fn messages_of(&mut self, w: &Whole) {
        for part in w.rec.text.split('\n') {
            let part = part.trim_end_matches('\r');
            if !part.trim().is_empty() {
                self.message(w.line, part, &w.rec.time, &w.rec.stream);
            }
        }
    }

    fn start_attempt(&mut self, line: usize, time: Option<String>) {
        let mut old = std::mem::take(&mut self.current);
        if !old.is_empty() {
            old.finish();
            if let Some(prev) = self.out.last.take() {
                self.out.earlier_problems +=
                    prev.messages.iter().filter(|m| m.pattern.problem).count()
                        + prev.messages_dropped;
            }
            self.out.last = Some(old);
        }
        self.current = Attempt {
            first_line: line,
            last_line: line,
            time,
            ..Default::default()
        };
        self.out.attempts += 1;
        self.max_index = None;
    }

    fn ensure_attempt(&mut self, line: usize, time: &Option<String>) {
        if self.out.attempts == 0 {
            self.start_attempt(line, time.clone());
        }
    }

    fn message(
        &mut self,
        number: usize,
        text: &str,
        time: &Option<String>,
        stream: &Option<String>,
    ) {
        if let Some((index, value)) = parse_add_arg(text) {
            self.out.lines.add_arg += 1;
            let restart = self.max_index.is_some_and(|m| index <= m);
            if restart || self.out.attempts == 0 {
                self.start_attempt(number, time.clone());
            }
            self.max_index = Some(self.max_index.map_or(index, |m| m.max(index)));
            let a = &mut self.current;
            if a.argv.len() < MAX_ARGV || a.argv.contains_key(&index) {
                a.argv.insert(index, value);
                a.argv_lines.insert(index, number);
            } else {
                a.argv_dropped += 1;
            }
            a.last_line = number;
            return;
        }
        if let Some(var) = parse_get_zcfg_var(text) {
            self.out.lines.get_zcfg_var += 1;
            self.ensure_attempt(number, time);
            let a = &mut self.current;
            a.last_line = number;
            if var.name == "_ZONECFG_device_resources" {
                a.device_resources = var.value;
            } else if let Some((res, prop)) = split_device_var(&var.name) {
                let res = res.to_string();
                if let Some(d) = a.device_mut(&res, number) {
                    match prop {
                        "path" => d.path = var.value,
                        "model" => d.model = var.value,
                        "pci_slot" => d.pci_slot = var.value,
                        _ => {}
                    }
                }
            }
            return;
        }
        if let Some(r) = recognise(text) {
            self.out.lines.recognised += 1;
            let before_boot = r.pattern.before_boot
                && !self.current.argv.is_empty()
                && !self.current.has_problem();
            if before_boot {
                self.start_attempt(number, time.clone());
            }
            self.ensure_attempt(number, time);
            let a = &mut self.current;
            a.last_line = number;
            if a.messages.len() < MAX_MESSAGES {
                a.messages.push(Message {
                    line: number,
                    time: time.clone(),
                    stream: stream.clone(),
                    text: quote(text),
                    code: r.pattern.code,
                    device: r.device,
                    errno: r.errno,
                    pattern: r.pattern,
                });
            } else {
                a.messages_dropped += 1;
            }
            return;
        }
        self.out.lines.unrecognised += 1;
        let q = Quote {
            line: number,
            text: quote(text),
        };
        let u = &mut self.out.unrecognised;
        if u.first.len() < QUOTED_EACH_END {
            u.first.push(q);
        } else {
            if u.last.len() == QUOTED_EACH_END {
                u.last.pop_front();
            }
            u.last.push_back(q);
        }
    }
}

/// Two writers interleaved without a newline leave `{…}{…}` on one line:
/// the objects, when every piece decodes as one.
fn split_glued(text: &str) -> Option<Vec<super::record::Record>> {
    let text = text.trim();
    if !text.contains("}{") {
        return None;
    }
    let pieces: Vec<&str> = text.split("}{").collect();
    let n = pieces.len();
    let mut out = Vec::with_capacity(n);
    for (i, p) in pieces.iter().enumerate() {
        let obj = format!(
            "{}{p}{}",
            if i == 0 { "" } else { "{" },
            if i + 1 == n { "" } else { "}" }
        );
        let r = decode(&obj);
        if r.malformed_json {
            return None;
        }
        out.push(r);
    }
    Some(out)
}

/// Reads a platform.log from `input` and reconstructs its boot attempts.
/// Only an I/O error fails; any content gives an [`Analysis`].
pub fn analyze<R: BufRead>(input: R) -> Result<Analysis, PlatformLogError> {
    let mut lines = Lines::new(input);
    let mut joined = Joiner::default();
    let mut b = Builder {
        out: Analysis::default(),
        current: Attempt::default(),
        max_index: None,
    };
    while let Some(line) = lines.next_line().map_err(PlatformLogError::Read)? {
        let c = &mut b.out.lines;
        c.total += 1;
        c.truncated += usize::from(line.truncated);
        c.invalid_utf8 += usize::from(line.invalid_utf8);
        c.binary += usize::from(line.binary);
        if line.text.trim().is_empty() {
            c.empty += 1;
            continue;
        }
        let rec = decode(&line.text);
        match rec.format {
            Format::Stream => c.stream += 1,
            Format::Bunyan => c.bunyan += 1,
            Format::Event => c.event += 1,
            Format::Plain => c.plain += 1,
        }
        c.malformed_json += usize::from(rec.malformed_json);
        let records = if rec.malformed_json {
            split_glued(&line.text).unwrap_or_else(|| vec![rec])
        } else {
            vec![rec]
        };
        for rec in records {
            if rec.format == Format::Event {
                continue;
            }
            for whole in joined.push(line.number, rec) {
                b.messages_of(&whole);
            }
        }
    }
    if let Some(whole) = joined.flush() {
        b.messages_of(&whole);
    }
    let mut last = std::mem::take(&mut b.current);
    if !last.is_empty() {
        last.finish();
        if let Some(prev) = b.out.last.take() {
            b.out.earlier_problems +=
                prev.messages.iter().filter(|m| m.pattern.problem).count() + prev.messages_dropped;
        }
        b.out.last = Some(last);
    }
    Ok(b.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_attempts_and_keeps_the_last() {
        let log = "\
{\"log\":\"add_arg: argv[2]='-U'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t1\"}
{\"log\":\"add_arg: argv[3]='u-1'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t1\"}
{\"log\":\"Assertion failed: error == 0, file pci_emul.c, line 517, function modify_bar_registration\\n\",\"stream\":\"stderr\",\"time\":\"t2\"}
{\"log\":\"add_arg: argv[2]='-U'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t3\"}
{\"log\":\"add_arg: argv[3]='u-1'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t3\"}
{\"log\":\"get_zcfg_var: '_ZONECFG_device__devices_pci_0_0_x_0_pci_slot=0:8:0'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t3\"}
{\"log\":\"add_arg: argv[4]='-S'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t3\"}
{\"log\":\"add_arg: argv[5]='-s'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t3\"}
{\"log\":\"add_arg: argv[6]='0:8:0,passthru,/dev/ppt0'\\n\",\"stream\":\"zoneadmd\",\"time\":\"t3\"}
something else
";
        let a = analyze(log.as_bytes()).unwrap();
        assert_eq!(a.attempts, 2);
        assert_eq!(a.earlier_problems, 1);
        let last = a.last.unwrap();
        assert_eq!(last.uuid(), Some("u-1"));
        assert_eq!(last.first_line, 4);
        let p: Vec<_> = last.passthru().collect();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].passthru_path(), Some("/dev/ppt0"));
        assert_eq!(last.devices[0].pci_slot.as_deref(), Some("0:8:0"));
        assert_eq!(a.lines.unrecognised, 1);
        assert_eq!(a.unrecognised.first[0].text, "something else");
    }

    #[test]
    fn zoneadmd_failure_after_a_boot_starts_a_new_attempt() {
        let log = "\
add_arg: argv[2]='-U'
add_arg: argv[3]='u'
failed to resolve passthru device /devices/pci@0,0/a@1: No such file or directory
failed to setup environment
";
        let a = analyze(log.as_bytes()).unwrap();
        assert_eq!(a.attempts, 2);
        let last = a.last.unwrap();
        assert!(last.argv.is_empty());
        assert_eq!(last.messages.len(), 2);
    }

    #[test]
    fn glued_objects_are_split() {
        let log = "{\"log\":\"add_arg: argv[2]='-U'\\n\",\"stream\":\"zoneadmd\"}{\"log\":\"add_arg: argv[3]='u'\\n\",\"stream\":\"zoneadmd\"}\n";
        let a = analyze(log.as_bytes()).unwrap();
        assert_eq!(a.lines.malformed_json, 1);
        assert_eq!(a.last.unwrap().uuid(), Some("u"));
    }

    #[test]
    fn binary_input_is_not_a_log() {
        let a = analyze(&b"\x00\x01\x02\xff\xfe\n\x7fELF\x00"[..]).unwrap();
        assert!(a.is_not_a_log());
        let a = analyze(&b"add_arg: argv[2]='-U'\n\x00\x01\n"[..]).unwrap();
        assert!(!a.is_not_a_log());
    }
}
