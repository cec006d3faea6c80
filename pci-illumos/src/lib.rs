//! illumos knowledge for `pptctl`.
//!
//! Owns: how illumos sees PCI. The devinfo snapshot reader (live or
//! cached), `/dev/pptN` links, the ppt driver's ioctl definitions, x86 PCI
//! node naming and `compatible` lists ([`naming`]), devfs paths and their
//! parents ([`devfs`]), libppt's `ppt_matches` semantics and device lists
//! ([`matches`](mod@matches), [`matcher`], [`libppt`]), the kernel's alias binding
//! rules ([`binding`], [`aliases`]), and the readers a host loader calls
//! (devinfo files, the live tree, `/dev/ppt*`, `--cfgspace`). Loading a
//! host from a `--from` source is `ppt-config`'s `host_load`. Everything
//! works under an alternate root so it is tested on Linux; only the live
//! readers need illumos.
//!
//! Never: prints or exits; writes a file (the editors and the atomic
//! writer are `ppt-config`'s); decides policy: whether a device should be
//! passed through, what to reserve, what a VM payload needs
//! (`ppt-config`); recomputes a PCI fact `pci-core` answers (bridge,
//! PCIe, devinfo node).

pub mod aliases;
pub mod binding;
pub mod cfgspace;
pub mod devfs;
pub mod devinfo;
pub mod files;
pub mod hostfacts;
pub mod ioctl;
pub mod libppt;
pub mod live;
pub mod matcher;
pub mod matches;
pub mod naming;
pub mod pci_reg;
pub mod platform_log;
pub mod pptdev;
pub mod root;
