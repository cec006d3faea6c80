//! The rule table's own checks.

use super::*;
use std::collections::BTreeSet;

#[test]
fn codes_are_unique_kebab_case() {
    let mut seen = BTreeSet::new();
    for r in ALL {
        assert!(seen.insert(r.code), "duplicate {}", r.code);
        assert!(
            r.code.split('-').all(|w| !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
            "{} is not kebab-case",
            r.code
        );
        assert!(!r.reads.is_empty() && !r.summary.is_empty());
        if r.severity != Severity::Info {
            assert!(!r.hint.is_empty(), "{} needs a hint", r.code);
        }
    }
    assert_eq!(by_code("no-msi"), Some(&NO_MSI));
    assert_eq!(by_code("nope"), None);
}
