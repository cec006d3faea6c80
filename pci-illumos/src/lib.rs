//! illumos knowledge for `pptctl`.
//!
//! The devinfo snapshot reader (live or cached), `/dev/pptN` links, the ppt
//! driver's ioctl definitions, x86 PCI node naming and `compatible` lists,
//! libppt's `ppt_matches` semantics with a compiled matcher, and the
//! kernel's alias binding rules. Everything works under an alternate root so
//! it is tested on Linux; only the live readers need illumos.

pub mod aliases;
pub mod binding;
pub mod cfgspace;
pub mod devinfo;
pub mod files;
pub mod hostfacts;
pub mod ioctl;
pub mod live;
pub mod load;
pub mod matcher;
pub mod matches;
pub mod naming;
pub mod pptdev;
pub mod root;
