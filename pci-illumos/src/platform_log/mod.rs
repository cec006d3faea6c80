//! A bhyve zone's `platform.log` read back: which bhyve command line the
//! bhyve brand built, which devices it passed through at which guest slots,
//! the zone configuration they came from, and the messages bhyve, zoneadmd
//! and the brand wrote when something failed.
//!
//! * [`lines`]: a bounded line reader (any input, bounded memory);
//! * [`record`]: the field formats of one line;
//! * [`subproc`]: long lines zoneadmd relayed in pieces, joined again;
//! * [`argv`] and [`zonecfg`]: the brand's `add_arg` and `get_zcfg_var`
//!   debug lines;
//! * [`catalogue`]: the recognised messages and their sources;
//! * [`analysis`]: the whole log in one pass.
//!
//! Where the host's view of the same devices is joined in, and findings are
//! written: `ppt_config::diagnose`. Patterns and sources: docs/diagnose.md.

pub mod analysis;
pub mod argv;
pub mod catalogue;
pub mod lines;
pub mod record;
pub mod subproc;
pub mod zonecfg;

pub use analysis::{analyze, Analysis, Attempt, ConfigDevice, Message};

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlatformLogError {
    /// Reading failed part way.
    #[error("cannot read: {0}")]
    Read(std::io::Error),
}
