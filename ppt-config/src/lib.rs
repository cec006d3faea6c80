//! The files a ppt reservation touches and the decisions made from them:
//! lossless editors for `ppt_aliases`, `ppt_matches`, GRUB `menu.lst` and
//! loader `loader.conf.local`; atomic locked writes with backups; vmadm
//! `pci_devices` generation and validation; pass-through viability rules;
//! what `ppt_matches` and `ppt_aliases` do on a host (`pptctl match`).

pub mod aliases_file;
pub mod atomic;
pub mod boot_media;
pub mod diagnose;
pub mod edit;
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
