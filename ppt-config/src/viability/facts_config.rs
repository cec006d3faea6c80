//! Config-space facts for the rules, read through pci-core's decoders.
//!
//! Waiting for pci-core's `ConfigSpace` decoders (core-decode): until they
//! land every config-derived fact stays unknown, which the rules report as
//! such instead of guessing.

use pci_core::Function;

use super::facts::FunctionFacts;

/// Fills the config-derived facts of `facts` from `f.config`.
pub fn fill(facts: &mut FunctionFacts, f: &Function) {
    let _ = (facts, f);
}
