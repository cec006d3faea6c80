//! PCI facts without an operating system.
//!
//! Owns: the model every `pptctl` source produces ([`Host`],
//! [`Function`], [`Address`]); zero-copy decoding of configuration space
//! and its capability chains ([`config`], [`caps`]); `pci.ids` names;
//! what a function is for pass-through, answered once for every caller
//! (bridge, PCI Express, infrastructure, the never-pass-through table:
//! [`passthrough`], [`Function::is_bridge`], [`Function::is_pcie`],
//! [`Function::has_devinfo_node`]); and the portable sources: Linux sysfs
//! trees, `lspci -x…` dumps and the version 1 JSON host snapshot.
//!
//! Never: prints or exits (errors are typed, warnings are
//! [`Diagnostic`]s); panics on bytes from outside; decides what illumos
//! binds or reads its configuration files (`pci-illumos`,
//! `ppt-config`).

pub mod address;
pub mod caps;
pub mod config;
pub mod function;
pub mod hexbytes;
pub mod host;
pub mod names;
pub mod passthrough;
pub mod progress;
pub mod root;
pub mod sources;
pub mod text;

pub use address::{Address, AddressError};
pub use function::{Function, Identity, IllumosNode, OsBar, PathSource, PropValue};
pub use host::{CpuVendor, Diagnostic, Host, HostFacts, IommuFacts, PptLink};
