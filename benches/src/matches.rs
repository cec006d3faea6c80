//! Writes `ppt_matches` files of M rules against a generated host, in the
//! syntax libppt reads (illumos-gate libppt.c `get_matches`; docs/match.md): `pciexVVVV,DDDD`,
//! `pciVVVV,DDDD`, vendor-only `pciVVVV`, devfs path lines, plus lines libppt
//! ignores (comments, blanks, `pciclass,…`). IDs are lower-case unpadded
//! hex, the only spelling libppt matches.

use std::fmt::Write as _;

use crate::devinfo::devfs_paths;
use crate::rng::Rng;
use crate::topology::GenHost;

/// `rules` lines: about 70 % match some function, the rest never do.
pub fn matches_text(host: &GenHost, rules: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0x006d_6174_6368_6573);
    let paths = devfs_paths(host);
    let n = host.functions.len();
    let mut s = String::with_capacity(rules * 24);
    for _ in 0..rules {
        let f = &host.functions[rng.below(n)];
        let r = rng.below(100);
        let _ = match r {
            0..=34 => writeln!(s, "pciex{:x},{:x}", f.vendor(), f.device()),
            35..=54 => writeln!(s, "pci{:x},{:x}", f.vendor(), f.device()),
            55..=59 => writeln!(s, "pciex{:x}", f.vendor()),
            60..=69 => writeln!(s, "{}", paths[rng.below(n)]),
            // IDs no function has (vendor 0xfffe is never assigned).
            70..=84 => writeln!(s, "pcifffe,{:x}", rng.below(0x10000)),
            85..=89 => writeln!(
                s,
                "/pci@ff,0/pci{:x},{:x}@0",
                rng.below(0xffff),
                rng.below(0xffff)
            ),
            90..=94 => writeln!(s, "# reserved for guest {}", rng.below(1000)),
            _ => writeln!(s, "pciclass,{:06x}", f.class()),
        };
    }
    s
}
