//! Property tests of the platform.log reader: the test logs of
//! cli/tests/data/platform-log (both JSON formats, pasted text) mutated the
//! way cut, concatenated and hand-edited logs are damaged. Whatever the
//! bytes, the reader ends with counts that add up, keeps its bounds, and
//! finds the same attempts whether the input arrives whole or one byte per
//! read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufReader, Read};

use pci_illumos::platform_log::analysis::{MAX_ARGV, MAX_MESSAGES, QUOTED_EACH_END};
use pci_illumos::platform_log::analyze;
use proptest::prelude::*;

#[path = "../../tests/support/mutate.rs"]
mod mutate;
use mutate::{apply, Mutation};

fn sample(i: usize) -> Vec<u8> {
    const NAMES: [&str; 5] = [
        "bar-assert.stream.log",
        "clean.stream.log",
        "missing-ppt.bunyan.log",
        "pasted.plain.log",
        "unresolved.bunyan.log",
    ];
    let p = format!(
        "{}/../cli/tests/data/platform-log/{}",
        env!("CARGO_MANIFEST_DIR"),
        NAMES[i % NAMES.len()]
    );
    std::fs::read(p).unwrap()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"{".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"add_arg: argv[0]='".to_vec()),
        Just(b"get_zcfg_var: '_ZONECFG_device__x_path=".to_vec()),
        Just(b"Assertion failed: error == 0, function modify_bar_registration".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(vec![b'x'; 70_000]),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        3 => (any::<usize>(), interesting).prop_map(|(p, b)| Mutation::Insert(p, b)),
        2 => (any::<usize>(), 1usize..400).prop_map(|(p, n)| Mutation::Delete(p, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), 1usize..2000).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        1 => Just(Mutation::Crlf),
    ]
}

/// A reader that returns one byte per read call.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mutated_logs_give_consistent_bounded_results(
        which in 0usize..5,
        muts in proptest::collection::vec(mutation(), 0..8),
    ) {
        let mut bytes = sample(which);
        apply(&mut bytes, &muts);
        let a = analyze(&bytes[..]).unwrap();
        let l = &a.lines;
        // Every line is counted once by shape (or as empty).
        prop_assert_eq!(l.stream + l.bunyan + l.event + l.plain + l.empty, l.total);
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
        let last_unterminated = usize::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'));
        prop_assert_eq!(l.total, newlines + last_unterminated);
        if let Some(last) = &a.last {
            prop_assert!(last.argv.len() <= MAX_ARGV);
            prop_assert!(last.messages.len() <= MAX_MESSAGES);
            prop_assert!(last.first_line <= last.last_line);
        }
        prop_assert!(a.unrecognised.first.len() <= QUOTED_EACH_END);
        prop_assert!(a.unrecognised.last.len() <= QUOTED_EACH_END);
        // The same answer when the bytes arrive one per read.
        let b = analyze(BufReader::with_capacity(3, Trickle(&bytes))).unwrap();
        prop_assert_eq!(a, b);
    }
}
