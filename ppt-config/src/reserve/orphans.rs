//! Which `unreserve` selectors are orphans: devfs paths no function of
//! the host has any more (a card moved to another slot leaves an alias
//! that binds nothing), whose aliases `unreserve` removes without
//! resolving them.

use pci_core::Host;

use super::Action;
use crate::selector::Selector;

/// Splits `selectors` into the orphans (as text, for
/// [`super::plan_with_orphans`]) and the selectors to resolve. Only
/// `unreserve` has orphans: for `reserve` every selector must match.
pub fn split(
    host: &Host,
    selectors: Vec<Selector>,
    action: Action,
) -> (Vec<String>, Vec<Selector>) {
    let (orphans, rest): (Vec<Selector>, Vec<Selector>) = selectors.into_iter().partition(|s| {
        action == Action::Unreserve
            && matches!(s, Selector::Path(_))
            && !host.functions.iter().any(|f| s.matches(host, f))
    });
    (orphans.iter().map(ToString::to_string).collect(), rest)
}
