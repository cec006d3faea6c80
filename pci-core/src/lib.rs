//! PCI facts without an operating system.
//!
//! `pci-core` holds the model every `pptctl` source produces ([`Host`],
//! [`Function`], [`Address`]), zero-copy decoding of configuration space and
//! its capability chains, `pci.ids` names, and the portable sources: Linux
//! sysfs trees, `lspci -x…` dumps and the JSON host snapshot. It never
//! prints, never exits and never panics on bytes from outside.

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
