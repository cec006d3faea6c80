//! Pass-through viability rules.
