//! Property tests: the dump parser never panics on random or mutated
//! input, and what it accepts obeys its invariants (sorted, config at most
//! 4096 bytes, identity read from the bytes).

use pci_core::sources::dump::parse_dump_bytes;
use pci_core::sources::identity_from_config;
use proptest::prelude::*;

const SEED: &str = "\
0000:00:1f.3 Audio device: Intel Corporation Device a2c8 (rev 04)
\tSubsystem: whatever
00: 86 80 c8 a2 06 04 10 00 04 00 03 04 10 00 00 00
10: 04 00 10 f1 00 00 00 00 00 00 00 00 00 00 00 00
20: 04 00 00 f1 00 00 00 00 00 00 00 00 43 10 f1 86
30: 00 00 00 00 50 00 00 00 00 00 00 00 ff 01 00 00

00:00.0 Host bridge
00: 86 80 57 0d 00 00 00 00 00 00 00 06 00 00 80 00
ff0: 01 02 03
";

fn check(bytes: &[u8]) {
    if let Ok(host) = parse_dump_bytes(bytes, "p") {
        assert!(!host.functions.is_empty());
        for w in host.functions.windows(2) {
            assert!(w[0].address <= w[1].address);
        }
        for f in &host.functions {
            assert!(f.config.len() <= 4096);
            assert_eq!(f.ids, identity_from_config(&f.config));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn mutated_dumps_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16),
        cut in any::<usize>(),
    ) {
        let mut bytes = SEED.as_bytes().to_vec();
        for (at, b) in edits {
            let i = at % bytes.len();
            // Bias towards characters that matter to the grammar.
            const GRAMMAR: &[u8] = b"0123456789abcdefABCDEF: .\n\r\t";
            bytes[i] = match b % 4 {
                0 => GRAMMAR[usize::from(b) % GRAMMAR.len()],
                _ => b,
            };
        }
        bytes.truncate(cut % (bytes.len() + 1));
        check(&bytes);
    }

    #[test]
    fn line_soup_never_panics(lines in proptest::collection::vec(
        prop_oneof![
            Just("00:00.0 x".to_string()),
            Just("0000:01:02.3 y".to_string()),
            Just("fffff:ff:1f.7 z".to_string()),
            Just(String::new()),
            "[0-9a-f]{2,8}: ([0-9a-fA-F]{2} ){0,20}[0-9a-f]{0,3}",
            "\t[ -~]{0,300}",
        ],
        0..64,
    )) {
        check(lines.join("\n").as_bytes());
    }
}
