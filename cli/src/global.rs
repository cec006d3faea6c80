//! Global options (`--from`, `--root`, `--cfgspace`) and loading the host
//! they name.

use std::path::{Path, PathBuf};

use clap::Args;
use pci_core::Host;
use pci_illumos::root::HostRoot;

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
        let (mut host, links_read) = load(&self.from, &self.root)?;
        self.illumos_pass(&mut host, links_read)?;
        for w in &host.warnings {
            eprintln!("pptctl: warning: {w}");
        }
        Ok(host)
    }

    /// The passes every host gets after its source read it: `/dev/ppt*`
    /// links from `--root` (for illumos sources, or whenever `--root` is
    /// given; a snapshot read with the default root keeps the links it
    /// recorded), `--cfgspace` joined by address, illumos node names
    /// predicted for functions no devinfo tree describes, and a warning for
    /// each `/dev/pptN` that names no node.
    fn illumos_pass(&self, host: &mut Host, links_read: bool) -> Result<(), CliError> {
        let root = HostRoot::new(&self.root);
        if !links_read && (host_is_devinfo(host) || self.root != Path::new("/")) {
            let (links, diags) = pci_illumos::pptdev::read_links(&root);
            host.ppt_links = links;
            host.warnings.extend(diags);
        }
        if let Some(dir) = &self.cfgspace {
            pci_illumos::cfgspace::join(host, dir)
                .map_err(|e| CliError::input(format!("--cfgspace {e}")))?;
        }
        pci_illumos::naming::predict(host);
        let stale = pci_illumos::pptdev::stale_links(host);
        host.warnings.extend(stale);
        Ok(())
    }
}

/// Whether the host came from a devinfo tree (its functions carry real paths).
fn host_is_devinfo(host: &Host) -> bool {
    host.functions
        .iter()
        .filter_map(|f| f.illumos.as_ref())
        .any(|n| n.path_source == Some(pci_core::PathSource::Devinfo))
}

/// Reads the source; the flag says whether `/dev/ppt*` was already read.
fn load(spec: &str, root: &Path) -> Result<(Host, bool), CliError> {
    if let Some(file) = spec.strip_prefix("devinfo:") {
        if file.is_empty() {
            return Err(CliError::input(
                "--from devinfo: needs a path, e.g. --from devinfo:/etc/devices/snapshot_cache",
            ));
        }
        let host = pci_illumos::devinfo::load_file(Path::new(file))
            .map_err(|e| CliError::input(e.to_string()))?;
        return Ok((host, false));
    }
    if spec == "auto" && cfg!(target_os = "illumos") {
        let host = pci_illumos::live::load_host(&HostRoot::new(root))
            .map_err(|e| CliError::input(e.to_string()))?;
        return Ok((host, true));
    }
    if let Some(file) = spec.strip_prefix("snapshot:") {
        // Minimal reader of the snapshot document until core-sources'
        // SnapshotSource is merged; it replaces this arm.
        let bytes = std::fs::read(file).map_err(|e| CliError::input(format!("{file}: {e}")))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| CliError::input(format!("{file}: not a pptctl snapshot: {e}")))?;
        if v.get("format").and_then(|f| f.as_str()) != Some("pptctl-snapshot/1") {
            return Err(CliError::input(format!(
                "{file}: not a pptctl-snapshot/1 document"
            )));
        }
        let host: Host =
            serde_json::from_value(v).map_err(|e| CliError::input(format!("{file}: {e}")))?;
        return Ok((host, false));
    }
    Err(CliError::input(format!(
        "source `{spec}` is not supported yet"
    )))
}
