//! Portable sources of host data.

pub mod hostfacts;
