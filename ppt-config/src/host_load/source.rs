//! A host from a `--from` source: the grammar ([`SourceSpec`]), reading
//! the source, and the passes every host gets afterwards (`/dev/ppt*`
//! links from `--root`, `--cfgspace` joined by address, illumos node
//! names predicted for functions no devinfo tree describes, stale-link
//! warnings, Linux host facts for sysfs trees). The readers are
//! pci-core's and pci-illumos's; the order they run in is decided here.

use std::path::{Path, PathBuf};

use pci_core::progress::Observer;
use pci_core::sources::{
    hostfacts, DumpSource, SnapshotSource, Source, SourceError, SysfsDetail, SysfsSource,
};
use pci_core::Host;

use pci_illumos::binding::KernelFiles;
use pci_illumos::cfgspace::CfgspaceError;
use pci_illumos::devinfo::LoadError as DevinfoLoadError;
use pci_illumos::live::LiveError;
use pci_illumos::root::HostRoot;

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

/// Why a host could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `--from` is not a source this program knows, or lacks its path.
    #[error("{0}")]
    Spec(String),
    /// A portable source (sysfs, dump, snapshot) failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A devinfo snapshot file could not be read.
    #[error(transparent)]
    Devinfo(#[from] DevinfoLoadError),
    /// The live illumos device tree could not be read.
    #[error(transparent)]
    Live(#[from] LiveError),
    /// The `--cfgspace` directory could not be read.
    #[error("--cfgspace {0}")]
    Cfgspace(#[from] CfgspaceError),
}

impl SourceSpec {
    /// Parses `--from`; `auto` becomes this platform's live source.
    pub fn parse(spec: &str) -> Result<SourceSpec, LoadError> {
        let need = |kind: &str, rest: &str| {
            if rest.is_empty() {
                Err(LoadError::Spec(format!(
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
            _ => Err(LoadError::Spec(format!(
                "--from `{spec}`: unknown source; use auto, sysfs:DIR, dump:FILE|-, snapshot:FILE or devinfo:FILE"
            ))),
        }
    }

    /// The live source of the platform we run on (README.md).
    pub fn auto() -> Result<SourceSpec, LoadError> {
        if cfg!(target_os = "linux") {
            Ok(SourceSpec::Sysfs(pci_core::sources::default_sysfs_root()))
        } else if cfg!(target_os = "illumos") {
            Ok(SourceSpec::LiveIllumos)
        } else {
            Err(LoadError::Spec(
                "--from auto: no live source on this platform; use sysfs:DIR, dump:FILE, snapshot:FILE or devinfo:FILE".to_string(),
            ))
        }
    }

    /// Whether the source is an illumos device tree (a devinfo snapshot or
    /// the live kernel): the host facts then come from the files under
    /// `--root` ([`pci_illumos::hostfacts::fill`]).
    pub fn is_illumos_tree(&self) -> bool {
        matches!(self, SourceSpec::Devinfo(_) | SourceSpec::LiveIllumos)
    }

    /// The source as a user would write it back, for recording in
    /// snapshots; `raw` is what was given (kept for `auto` on illumos).
    pub fn label(&self, raw: &str) -> String {
        match self {
            SourceSpec::Sysfs(p) => format!("sysfs:{}", p.display()),
            _ => raw.to_string(),
        }
    }
}

/// What to load and how.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The source.
    pub source: SourceSpec,
    /// `--root`: the filesystem root of the host's files.
    pub root: PathBuf,
    /// `--cfgspace`: raw config space saved by `pcieadm save-cfgspace -a`.
    pub cfgspace: Option<PathBuf>,
    /// How much to read per function. [`SysfsDetail::Identity`] also skips
    /// the illumos passes (for listings that print nothing else).
    pub detail: SysfsDetail,
    /// The alias files of the boot whose node names are predicted for
    /// functions no devinfo tree describes: whether a `compatible` entry
    /// binds an active driver decides whether an IDE controller is named
    /// `pci-ide` ([`pci_illumos::naming::predict_bound`]). `None`: nothing is
    /// taken to bind.
    pub kernel_files: Option<KernelFiles>,
    /// Told of the functions read, so a caller can show progress on a
    /// large host.
    pub progress: Observer,
}

impl LoadOptions {
    /// Full detail from `source` under `root`, no `--cfgspace`.
    pub fn new(source: SourceSpec, root: impl Into<PathBuf>) -> Self {
        LoadOptions {
            source,
            root: root.into(),
            cfgspace: None,
            detail: SysfsDetail::Full,
            kernel_files: None,
            progress: Observer::none(),
        }
    }
}

/// Reads the host `opts` names, runs the passes, and returns it with its
/// warnings in [`Host::warnings`] (nothing is printed).
pub fn load_host(opts: &LoadOptions) -> Result<Host, LoadError> {
    let (mut host, links_read) = read_source(opts)?;
    if opts.detail == SysfsDetail::Full {
        // /dev/ppt* is read from --root for a devinfo file, and for any
        // source when --root is given; otherwise a snapshot keeps the
        // links it recorded (and Linux sources have none).
        let read_links = !links_read
            && (matches!(opts.source, SourceSpec::Devinfo(_)) || opts.root != Path::new("/"));
        illumos_pass(opts, &mut host, read_links)?;
    }
    Ok(host)
}

/// The passes every host gets after its source read it: `/dev/ppt*`
/// links from `--root` when `read_links`, `--cfgspace` joined by address,
/// illumos node names predicted for functions no devinfo tree describes,
/// and a warning for each `/dev/pptN` that names no node.
fn illumos_pass(opts: &LoadOptions, host: &mut Host, read_links: bool) -> Result<(), LoadError> {
    let root = HostRoot::new(&opts.root);
    if read_links {
        let (links, diags) = pci_illumos::pptdev::read_links(&root);
        host.ppt_links = links;
        host.warnings.extend(diags);
    }
    if let Some(dir) = &opts.cfgspace {
        pci_illumos::cfgspace::join(host, dir)?;
    }
    match &opts.kernel_files {
        Some(files) => pci_illumos::naming::predict_knowing(host, &files.binder()),
        None => pci_illumos::naming::predict(host),
    }
    // One warning per link: a link already reported (dangling,
    // unreadable) is not reported again as stale.
    for d in pci_illumos::pptdev::stale_links(host) {
        if !host.warnings.iter().any(|w| w.file == d.file) {
            host.warnings.push(d);
        }
    }
    Ok(())
}

/// Joins `--cfgspace` (when given) to a host read elsewhere.
pub fn join_cfgspace(host: &mut Host, dir: Option<&Path>) -> Result<(), LoadError> {
    if let Some(dir) = dir {
        pci_illumos::cfgspace::join(host, dir)?;
    }
    Ok(())
}

/// Reads the source named by `spec`. The flag says whether `/dev/ppt*`
/// was already read (the live illumos source reads it itself).
fn read_source(opts: &LoadOptions) -> Result<(Host, bool), LoadError> {
    let (spec, root, detail) = (&opts.source, &opts.root, opts.detail);
    let mut host = match spec {
        SourceSpec::Sysfs(dir) => SysfsSource::new(dir)
            .with_detail(detail)
            .with_progress(opts.progress.clone())
            .load()?,
        SourceSpec::Dump(Some(file)) => DumpSource::file(file).load()?,
        SourceSpec::Dump(None) => DumpSource::stdin().load()?,
        SourceSpec::Snapshot(file) => SnapshotSource::new(file).load()?,
        SourceSpec::Devinfo(file) => return Ok((pci_illumos::devinfo::load_file(file)?, false)),
        SourceSpec::LiveIllumos => {
            return Ok((pci_illumos::live::load_host(&HostRoot::new(root))?, true));
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_grammar() {
        assert_eq!(
            SourceSpec::parse("dump:-").ok(),
            Some(SourceSpec::Dump(None))
        );
        assert_eq!(
            SourceSpec::parse("snapshot:s.json").ok(),
            Some(SourceSpec::Snapshot(PathBuf::from("s.json")))
        );
        let e = SourceSpec::parse("devinfo:").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("--from devinfo: needs a path, e.g. --from devinfo:FILE")
        );
        assert!(SourceSpec::parse("nfs:x").is_err());
        assert!(SourceSpec::Devinfo(PathBuf::from("x")).is_illumos_tree());
        assert!(!SourceSpec::Dump(None).is_illumos_tree());
    }
}
