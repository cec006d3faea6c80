//! Lines the bhyve brand's output had before zoneadmd relayed it.
//!
//! zoneadmd runs the brand's boot program with `do_subproc`
//! (illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`), reads its output
//! with `fgets` into a 1024-byte buffer, removes a trailing newline and
//! logs each piece with `zerror`, which adds one back: a line longer than
//! 1023 bytes becomes several records, all but the last exactly 1023 bytes
//! long. The analysis joins them again before a line is read.

use super::record::Record;

/// zoneadmd's `do_subproc` reads the brand's output with `fgets` into a
/// 1024-byte buffer and logs each piece as one message (its newline
/// removed, `zerror` adding one back): a longer line arrives as records of
/// exactly this many bytes followed by the rest (illumos-joyent
/// `usr/src/cmd/zoneadmd/zoneadmd.c`).
pub const SUBPROC_CHUNK: usize = 1023;

/// A line split by `do_subproc` longer than this is not joined further.
const MAX_JOINED: usize = 64 * 1024;

/// A record with the log line it began on, after joining.
pub(crate) struct Whole {
    pub(crate) line: usize,
    pub(crate) rec: Record,
}

/// Joins the pieces `do_subproc` split a long line into: a record of
/// exactly [`SUBPROC_CHUNK`] bytes continues in the next record of the
/// same stream.
#[derive(Default)]
pub(crate) struct Joiner {
    pending: Option<Whole>,
}

impl Joiner {
    /// Takes the next record; returns the records that are whole now (a
    /// piece of another stream that was waiting, then this one).
    pub(crate) fn push(&mut self, line: usize, rec: Record) -> Vec<Whole> {
        let piece = rec.text.len() == SUBPROC_CHUNK;
        let mut out = Vec::new();
        let cur = match self.pending.take() {
            Some(mut p) if p.rec.stream == rec.stream && p.rec.format == rec.format => {
                p.rec.text.push_str(&rec.text);
                p
            }
            Some(p) => {
                out.push(p);
                Whole { line, rec }
            }
            None => Whole { line, rec },
        };
        if piece && cur.rec.text.len() < MAX_JOINED {
            self.pending = Some(cur);
        } else {
            out.push(cur);
        }
        out
    }

    /// The piece left at the end of the log.
    pub(crate) fn flush(&mut self) -> Option<Whole> {
        self.pending.take()
    }
}

#[cfg(test)]
mod tests {
    use super::super::analysis::analyze;
    use super::*;

    /// do_subproc's fgets pieces: a 1500-byte `add_arg` line logged as a
    /// 1023-byte record and the rest, each with zerror's newline, in the
    /// stream format; a record of another stream in between does not
    /// join.
    #[test]
    fn long_lines_split_by_do_subproc_are_joined() {
        let path = format!("/dev/ppt0,rom=/{}", "r".repeat(1500));
        let text = format!("add_arg: argv[3]='0:8:0,passthru,{path}'");
        let (head, tail) = text.split_at(SUBPROC_CHUNK);
        let rec = |t: &str, stream: &str| {
            format!(
                "{{\"log\":{},\"stream\":\"{stream}\",\"time\":\"t\"}}\n",
                serde_json::Value::from(format!("{t}\n"))
            )
        };
        let log = format!(
            "{}{}{}{}",
            rec("add_arg: argv[2]='-s'", "zoneadmd"),
            rec(head, "zoneadmd"),
            rec(tail, "zoneadmd"),
            rec("add_arg: argv[4]='SYSbhyve-12'", "zoneadmd"),
        );
        let a = analyze(log.as_bytes()).unwrap();
        let last = a.last.unwrap();
        assert_eq!(
            last.argv.get(&3).map(String::as_str),
            Some(format!("0:8:0,passthru,{path}").as_str())
        );
        assert_eq!(last.argv_line(3), Some(2));
        assert_eq!(last.passthru().count(), 1);
        assert_eq!(last.vm_name(), Some("SYSbhyve-12"));
        assert_eq!(a.lines.unrecognised, 0);

        // A piece followed by another stream's record stays a piece.
        let log = format!("{}{}", rec(head, "zoneadmd"), rec("x", "stderr"));
        let a = analyze(log.as_bytes()).unwrap();
        assert_eq!(a.lines.unrecognised, 1, "{:?}", a.unrecognised);
        assert!(a.last.unwrap().argv[&3].ends_with('r'));
    }
}
