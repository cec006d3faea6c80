//! The `ppt_matches` edit of a plan (`--matches`).

use pci_core::Host;

use super::choose::Chosen;
use super::{Action, Options, DRIVER};
use crate::aliases_file::AliasesFile;
use crate::matches_file::{id_line, MatchesFile};

/// Adds (or, on unreserve, removes where no other reserved function keeps
/// the id) each chosen function's `ppt_matches` line.
pub(super) fn edit(
    host: &Host,
    chosen: &[Chosen<'_>],
    action: Action,
    opts: Options,
    aliases: &AliasesFile,
    matches: &mut MatchesFile,
    warnings: &mut Vec<String>,
) {
    if opts.matches {
        for (f, _) in chosen {
            let (v, d) = (f.ids.vendor, f.ids.device);
            match action {
                Action::Reserve => {
                    if !crate::matches_file::id_expressible(v) {
                        warnings.push(format!(
                            "{}: no line can name vendor {v:x} (libppt reads `{}` as vendor `{:.4}`); \
                             not written, the ppt_aliases entry still reserves {}",
                            matches.file(),
                            id_line(v, d, f.is_pcie()),
                            id_line(v, d, f.is_pcie())
                                .trim_start_matches("pciex")
                                .trim_start_matches("pci"),
                            f.address
                        ));
                    }
                    matches.add_id(v, d, f.is_pcie());
                }
                Action::Unreserve => {
                    // Keep the line while another reserved function has the id.
                    let still = host.functions.iter().any(|o| {
                        o.ids.vendor == v
                            && o.ids.device == d
                            && !chosen.iter().any(|(c, _)| c.address == o.address)
                            && o.illumos
                                .as_ref()
                                .is_some_and(|n| aliases.has_alias(DRIVER, &n.path))
                    }) || aliases.has_alias(DRIVER, &id_line(v, d, f.is_pcie()));
                    if !still {
                        matches.remove_id(v, d);
                    }
                }
            }
        }
    }
}
