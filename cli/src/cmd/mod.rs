//! One module per subcommand: its arguments and its `run`.

pub mod bench;
pub mod check;
pub mod completions;
pub mod diagnose;
pub mod diff;
pub mod fleet;
pub mod list;
pub mod man;
pub mod matches;
pub mod report;
pub mod reserve;
pub mod show;
pub mod snapshot;
pub mod tree;
pub mod vm_json;
