//! The functions a reservation is about, and what refuses or cautions
//! against reserving them.

use pci_core::{Address, Function, Host};

use super::{cautions, refusal, Action, Options, ReserveError};

/// A chosen function, and the selected function whose device it shares
/// when it was added as a sibling.
pub(super) type Chosen<'h> = (&'h Function, Option<Address>);

/// The selected functions plus the other functions of their devices (a
/// GPU's audio function) unless `--single-function`, in host order;
/// functions not in `host.functions` (a caller's own list) are kept too.
pub(super) fn functions<'h>(
    host: &'h Host,
    selected: &[&'h Function],
    opts: Options,
) -> Vec<Chosen<'h>> {
    let mut chosen: Vec<Chosen<'h>> = Vec::new();
    for f in &host.functions {
        if selected.iter().any(|s| s.address == f.address) {
            chosen.push((f, None));
        } else if !opts.single_function {
            if let Some(s) = selected.iter().find(|s| s.address.same_device(&f.address)) {
                chosen.push((f, Some(s.address)));
            }
        }
    }
    for s in selected {
        if !chosen.iter().any(|(f, _)| f.address == s.address) {
            chosen.push((s, None));
        }
    }
    chosen
}

/// Refusals, only when reserving: an error without `--force`, warnings
/// with it; the cautions always warn.
pub(super) fn refusals(
    host: &Host,
    chosen: &[Chosen<'_>],
    action: Action,
    opts: Options,
    warnings: &mut Vec<String>,
) -> Result<(), ReserveError> {
    if action != Action::Reserve {
        return Ok(());
    }
    warnings.extend(chosen.iter().flat_map(|(f, _)| cautions(f)));
    let reasons: Vec<String> = chosen.iter().flat_map(|(f, _)| refusal(host, f)).collect();
    if !reasons.is_empty() {
        if !opts.force {
            return Err(ReserveError::Refused(reasons));
        }
        warnings.extend(reasons.into_iter().map(|r| format!("--force: {r}")));
    }
    Ok(())
}
