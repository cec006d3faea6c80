//! The files a ppt reservation touches and the decisions made from them.
//!
//! Owns: loading a host, from `--from` or from a stored snapshot
//! ([`host_load`]); the session over one host and its configuration
//! ([`session`]);
//! lossless editors for `ppt_aliases`, `ppt_matches`, GRUB `menu.lst` and
//! loader `loader.conf.local`; atomic locked writes with backups;
//! reservations; vmadm `pci_devices` generation and validation;
//! pass-through viability rules ([`viability`]); what `ppt_matches` and
//! `ppt_aliases` do on a host (`pptctl match`); the version 2 host
//! snapshot document ([`snapshot`]); diagnosis of a VM that does not
//! start.
//!
//! Never: prints or exits (the binary renders and chooses exit codes);
//! decodes PCI registers or names illumos nodes itself (it asks `pci-core`
//! and `pci-illumos`); writes a file other than through its atomic writer.

pub mod aliases_file;
pub mod atomic;
pub mod boot_media;
pub mod diagnose;
pub mod edit;
pub mod host_load;
pub mod loader_conf;
pub mod match_report;
pub mod matches_file;
pub mod menu_lst;
pub mod reserve;
pub mod selector;
pub mod session;
pub mod snapshot;
pub mod viability;
pub mod vmadm;
pub mod zones;
