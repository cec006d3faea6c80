//! Global options (`--from`, `--root`, `--cfgspace`) and loading the host
//! they name.

use std::path::{Path, PathBuf};

use clap::Args;
use pci_core::sources::{
    hostfacts, DumpSource, SnapshotSource, Source, SourceError, SysfsDetail, SysfsSource,
};
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

/// A parsed `--from` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A Linux sysfs tree (the directory holding `bus/` and `devices/`).
    Sysfs(PathBuf),
    /// An lspci dump file, or stdin for `dump:-`.
    Dump(Option<PathBuf>),
    /// A JSON host snapshot.
    Snapshot(PathBuf),
    /// An illumos devinfo snapshot.
    Devinfo(PathBuf),
    /// The running illumos kernel's device tree (`auto` on illumos).
    LiveIllumos,
}

impl SourceSpec {
    /// Parses `--from`; `auto` becomes this platform's live source.
    pub fn parse(spec: &str) -> Result<SourceSpec, CliError> {
        let need = |kind: &str, rest: &str| {
            if rest.is_empty() {
                Err(CliError::input(format!(
                    "--from {kind}: needs a path, e.g. --from {kind}:FILE"
                )))
            } else {
                Ok(PathBuf::from(rest))
            }
        };
        match spec.split_once(':') {
            None if spec == "auto" => Self::auto(),
            Some(("sysfs", rest)) => Ok(SourceSpec::Sysfs(need("sysfs", rest)?)),
            Some(("dump", "-")) => Ok(SourceSpec::Dump(None)),
            Some(("dump", rest)) => Ok(SourceSpec::Dump(Some(need("dump", rest)?))),
            Some(("snapshot", rest)) => Ok(SourceSpec::Snapshot(need("snapshot", rest)?)),
            Some(("devinfo", rest)) => Ok(SourceSpec::Devinfo(need("devinfo", rest)?)),
            _ => Err(CliError::input(format!(
                "--from `{spec}`: unknown source; use auto, sysfs:DIR, dump:FILE|-, snapshot:FILE or devinfo:FILE"
            ))),
        }
    }

    /// The live source of the platform we run on (interface §2).
    fn auto() -> Result<SourceSpec, CliError> {
        if cfg!(target_os = "linux") {
            Ok(SourceSpec::Sysfs(pci_core::sources::default_sysfs_root()))
        } else if cfg!(target_os = "illumos") {
            Ok(SourceSpec::LiveIllumos)
        } else {
            Err(CliError::input(
                "--from auto: no live source on this platform; use sysfs:DIR, dump:FILE, snapshot:FILE or devinfo:FILE",
            ))
        }
    }
}

impl Global {
    /// Reads the host named by `--from`, printing its warnings on stderr.
    pub fn load_host(&self) -> Result<Host, CliError> {
        let host = self.load_host_quiet(SysfsDetail::Full)?;
        for w in &host.warnings {
            eprintln!("pptctl: warning: {w}");
        }
        Ok(host)
    }

    /// Like [`Global::load_host`], reading only the identity of each
    /// function where the source can save work by it (sysfs), and without
    /// the illumos passes: for listings that print nothing else (`show -n`).
    pub fn load_host_identity(&self) -> Result<Host, CliError> {
        let host = self.load_host_quiet(SysfsDetail::Identity)?;
        for w in &host.warnings {
            eprintln!("pptctl: warning: {w}");
        }
        Ok(host)
    }

    /// Reads the host without printing its warnings (`pptctl bench` loads
    /// it many times). [`SysfsDetail::Identity`] skips the illumos passes.
    pub fn load_host_quiet(&self, detail: SysfsDetail) -> Result<Host, CliError> {
        let spec = SourceSpec::parse(&self.from)?;
        let (mut host, links_read) = load(&spec, &self.root, detail)?;
        if detail == SysfsDetail::Full {
            // /dev/ppt* is read from --root for a devinfo file, and for any
            // source when --root is given; otherwise a snapshot keeps the
            // links it recorded (and Linux sources have none).
            let read_links = !links_read
                && (matches!(spec, SourceSpec::Devinfo(_)) || self.root != Path::new("/"));
            self.illumos_pass(&mut host, read_links)?;
        }
        Ok(host)
    }

    /// `--from` as a user would write it back (`auto` resolved), for
    /// recording in snapshots.
    pub fn source_label(&self) -> String {
        match SourceSpec::parse(&self.from) {
            Ok(SourceSpec::Sysfs(p)) => format!("sysfs:{}", p.display()),
            _ => self.from.clone(),
        }
    }

    /// The passes every host gets after its source read it: `/dev/ppt*`
    /// links from `--root` when `read_links`, `--cfgspace` joined by
    /// address, illumos node names predicted for functions no devinfo tree
    /// describes, and a warning for each `/dev/pptN` that names no node.
    fn illumos_pass(&self, host: &mut Host, read_links: bool) -> Result<(), CliError> {
        let root = HostRoot::new(&self.root);
        if read_links {
            let (links, diags) = pci_illumos::pptdev::read_links(&root);
            host.ppt_links = links;
            host.warnings.extend(diags);
        }
        if let Some(dir) = &self.cfgspace {
            pci_illumos::cfgspace::join(host, dir)
                .map_err(|e| CliError::input(format!("--cfgspace {e}")))?;
        }
        pci_illumos::naming::predict(host);
        // One warning per link: a link already reported (dangling,
        // unreadable) is not reported again as stale.
        for d in pci_illumos::pptdev::stale_links(host) {
            if !host.warnings.iter().any(|w| w.file == d.file) {
                host.warnings.push(d);
            }
        }
        Ok(())
    }
}

/// Reads the source named by `spec`; the passes every host gets run in
/// [`Global::load_host`]. The flag says whether `/dev/ppt*` was already read (the live illumos
/// source reads it itself).
fn load(spec: &SourceSpec, root: &Path, detail: SysfsDetail) -> Result<(Host, bool), CliError> {
    let mut host = match spec {
        SourceSpec::Sysfs(dir) => SysfsSource::new(dir).with_detail(detail).load(),
        SourceSpec::Dump(Some(file)) => DumpSource::file(file).load(),
        SourceSpec::Dump(None) => DumpSource::stdin().load(),
        SourceSpec::Snapshot(file) => SnapshotSource::new(file).load(),
        SourceSpec::Devinfo(file) => {
            return pci_illumos::devinfo::load_file(file)
                .map(|h| (h, false))
                .map_err(|e| CliError::input(e.to_string()));
        }
        SourceSpec::LiveIllumos => {
            return pci_illumos::live::load_host(&HostRoot::new(root))
                .map(|h| (h, true))
                .map_err(|e| CliError::input(e.to_string()));
        }
    }
    .map_err(source_error)?;
    if let (SourceSpec::Sysfs(dir), SysfsDetail::Full) = (spec, detail) {
        // CPU vendor and IOMMU presence for `check` and snapshots; procfs
        // only belongs to the live tree, a copied tree has none.
        let proc_dir = if dir == Path::new("/sys") {
            PathBuf::from("/proc")
        } else {
            dir.join("proc")
        };
        let (facts, warnings) = hostfacts::linux(dir, &proc_dir);
        host.facts = facts;
        host.warnings.extend(warnings);
    }
    Ok((host, false))
}

/// Every source error is unreadable input: exit 2.
fn source_error(e: SourceError) -> CliError {
    CliError::input(e.to_string())
}
