//! Property test: the compiled matcher gives libppt's answer.
//!
//! The reference is [`PptMatches::first_match`], a plain transcription of
//! libppt `match_ppt` (in-order scan, `strcmp` against `"%x"` and the devfs
//! path). Rule files are generated from fragments that hit every `sscanf`
//! edge (case, padding, commas, whitespace, class forms, paths with
//! `/devices`, `:ppt`, `\r`), so that many lines do match the random devices.

use pci_illumos::matcher::Matcher;
use pci_illumos::matches::{NodeIds, PptMatches};
use proptest::prelude::*;

const PATHS: &[&str] = &[
    "/pci@0,0/pci8086,151@1/display@0",
    "/pci@0,0/pci8086,151@1/pci1462,2291@0,1",
    "/pci@0,0/pci1028,52c@19",
    "/pci@0,0/pci8086,1e18@1c,4/pci7470,3468@0",
    "/pci@5e,0/pci8086,2030@0/pci15d9,37d2@0,1",
];

const IDS: &[u32] = &[
    0, 1, 0xa, 0xa65, 0xbe3, 0x10de, 0x8086, 0x1502, 0x15f0, 0xffff,
];

fn hex_token() -> impl Strategy<Value = String> {
    prop_oneof![
        // canonical
        prop::sample::select(IDS).prop_map(|v| format!("{v:x}")),
        // upper case, zero padded, truncated or junk
        prop::sample::select(IDS).prop_map(|v| format!("{v:X}")),
        prop::sample::select(IDS).prop_map(|v| format!("{v:04x}")),
        prop::sample::select(IDS).prop_map(|v| format!("{v:x}").chars().take(2).collect()),
        "[0-9a-fA-F,x ]{0,6}",
        Just("class".to_string()),
    ]
}

fn path_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(PATHS),
        prop_oneof![Just(""), Just("/devices")],
        prop_oneof![Just(""), Just(":ppt"), Just("\r"), Just(" "), Just("@0")],
    )
        .prop_map(|(p, pre, suf)| format!("{pre}{p}{suf}"))
}

fn id_line() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("pci"),
            Just("pciex"),
            Just("PCI"),
            Just(" pci"),
            Just("pcie"),
            Just("#pci")
        ],
        hex_token(),
        prop_oneof![Just(","), Just(" ,"), Just(", "), Just(""), Just(",,")],
        prop_oneof![hex_token(), Just(String::new())],
        prop_oneof![
            Just(""),
            Just(".8086.1528"),
            Just(" # c"),
            Just("\r"),
            Just("1")
        ],
    )
        .prop_map(|(p, v, sep, d, tail)| format!("{p}{v}{sep}{d}{tail}"))
}

fn rule_file() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => id_line(),
            2 => path_line(),
            1 => "[ -~]{0,20}",
        ],
        0..40,
    )
    .prop_map(|lines| lines.join("\n"))
}

fn device() -> impl Strategy<Value = (String, u32, u32)> {
    (
        prop_oneof![
            prop::sample::select(PATHS).prop_map(str::to_string),
            "/pci@[0-9a-f]{1,2},0/[a-z0-9,@]{1,12}",
        ],
        prop_oneof![prop::sample::select(IDS), 0u32..=0xffff],
        prop_oneof![prop::sample::select(IDS), 0u32..=0xffff],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiled_equals_reference(
        file in rule_file(),
        devices in prop::collection::vec(device(), 1..20),
    ) {
        let rules = PptMatches::parse(file.as_bytes(), "/etc/ppt_matches");
        let compiled = Matcher::compile(&rules);
        for (path, vendor, device) in &devices {
            let node = NodeIds { path, vendor: *vendor, device: *device };
            let want = rules.first_match(&node).map(|l| l.number);
            prop_assert_eq!(compiled.first_match(&node), want, "file {:?} node {:?}", file, node);
            let all: Vec<usize> = rules
                .rules()
                .filter(|l| l.rule.matches_node(&node))
                .map(|l| l.number)
                .collect();
            prop_assert_eq!(compiled.all_matches(&node), all);
        }
    }

    #[test]
    fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let m = PptMatches::parse(&bytes, "/etc/ppt_matches");
        let c = Matcher::compile(&m);
        let node = NodeIds { path: "/pci@0,0", vendor: 0x8086, device: 0x1502 };
        prop_assert_eq!(c.first_match(&node), m.first_match(&node).map(|l| l.number));
    }
}

/// The generators must actually produce matches, or the property proves
/// nothing: check that a fixed sample has hits of every kind.
#[test]
fn generators_hit_every_kind() {
    let file = "pci10de,a65\npciex8086\n/pci@0,0/pci1028,52c@19\n";
    let rules = PptMatches::parse(file.as_bytes(), "f");
    let c = Matcher::compile(&rules);
    let hit = |path: &str, v, d| {
        c.first_match(&NodeIds {
            path,
            vendor: v,
            device: d,
        })
    };
    assert_eq!(hit(PATHS[0], 0x10de, 0xa65), Some(1));
    assert_eq!(hit(PATHS[1], 0x8086, 0x1), Some(2));
    assert_eq!(hit(PATHS[2], 0x1, 0x1), Some(3));
    assert_eq!(hit(PATHS[3], 0x1, 0x1), None);
}
