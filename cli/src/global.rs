//! Global options (`--from`, `--root`, `--cfgspace`) and loading the host
//! they name.

use std::path::PathBuf;

use clap::Args;
use pci_core::Host;

use crate::error::CliError;

/// Options valid for every subcommand.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Where devices come from: auto, sysfs:DIR, dump:FILE|-, snapshot:FILE, devinfo:FILE.
    #[arg(long, global = true, default_value = "auto", value_name = "SOURCE")]
    pub from: String,
    /// Filesystem root for every illumos file read or written.
    #[arg(long, global = true, default_value = "/", value_name = "DIR")]
    pub root: PathBuf,
    /// Raw config space saved by `pcieadm save-cfgspace -a DIR`, joined to devinfo nodes.
    #[arg(long, global = true, value_name = "DIR")]
    pub cfgspace: Option<PathBuf>,
}

impl Global {
    /// Reads the host named by `--from`, printing its warnings on stderr.
    pub fn load_host(&self) -> Result<Host, CliError> {
        let host = load(&self.from)?;
        for w in &host.warnings {
            eprintln!("pptctl: warning: {w}");
        }
        Ok(host)
    }
}

fn load(spec: &str) -> Result<Host, CliError> {
    Err(CliError::input(format!(
        "source `{spec}` is not supported yet"
    )))
}
