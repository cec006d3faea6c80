//! Which driver the kernel binds to each node after the next boot.
//!
//! Rules (docs/illumos.md):
//!
//! * The binding hash holds driver names (`name_to_major`), then the aliases
//!   of `/etc/ppt_aliases`, then those of `/etc/driver_aliases`; the first
//!   binding of a string wins, later ones only log a warning. So a
//!   compatible alias in `ppt_aliases` takes that ID from its usual driver.
//! * A node is first bound by its `compatible` list, most specific entry
//!   first, each by exact string equality, then by its node name, and only
//!   to an active driver (illumos-gate `usr/src/uts/common/os/devcfg.c`,
//!   `ddi_compatible_driver_major`, `bind_node`; `driver_active` in
//!   `modsubr.c`). A node nothing binds stays DS_LINKED.
//! * A path-oriented alias (the devfs path with unit addresses, no
//!   `/devices`, no minor) is looked up only after the parent nexus has
//!   named a node bound that way (DDI_CTLOPS_INITCHILD in `init_node`);
//!   when its driver is active the node is then rebound to it ("this type
//!   of binding occurs via more obtuse 'rebind'", the comment in
//!   `ddi_compatible_driver_major`). So a path alias never takes a node
//!   that no driver claims: only a compatible alias reserves it.
//! * The files are read once at boot, from the boot-module copy under
//!   `/system/boot` when there is one (krtld `bootrd.c` `BRD_OPEN`).
//!
//! `/dev/pptN` is the ppt instance number (ppt.c `ppt_ddi_attach`; the
//! devfsadm `ppt` link rule in `misc_link_i386.c`), which comes from
//! `path_to_inst` when the path was ever bound to ppt; otherwise the kernel
//! hands out a new number at attach and the prediction is a guess.

use pci_core::{Function, Host};

use crate::aliases::{AliasFile, Binding, BindingTable, NameToMajor, PathToInst};
use crate::matches::Lint;

/// The ppt driver's name.
pub const PPT: &str = "ppt";

mod alias_report;
mod kernel_files;

use alias_report::alias_reports;
pub use kernel_files::{Inactive, KernelFiles};

/// How a node got its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundBy {
    /// A path-oriented alias equal to the node's devfs path.
    PathAlias,
    /// This entry of the node's `compatible` list.
    Compatible(String),
    /// The node name (last resort).
    NodeName(String),
}

/// The binding the kernel picks for one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The string that was looked up (path, compatible entry or node name).
    pub key: String,
    /// How.
    pub via: BoundBy,
    /// Which driver, from which file and line.
    pub binding: Binding,
}

/// A predicted `/dev/pptN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PptDev {
    /// `/dev/pptN`.
    pub dev: String,
    /// `true` when the instance is recorded (path_to_inst or the current
    /// binding), `false` when it is the next free number: only a guess.
    pub certain: bool,
}

/// What happens to one function at the next boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// Index into [`Host::functions`].
    pub function: usize,
    /// devfs path.
    pub path: String,
    /// Driver bound now.
    pub driver_now: Option<String>,
    /// The binding after the next boot; `None` when nothing binds it, or
    /// when it cannot be known (see [`Prediction::known`]).
    pub after: Option<Decision>,
    /// Whether `after` is a real prediction. `false` when `driver_aliases`
    /// is missing and `ppt_aliases` does not decide the node.
    pub known: bool,
    /// The binding `driver_aliases` alone would give (to tell when a
    /// `ppt_aliases` entry takes a device from its driver).
    pub without_ppt_aliases: Option<Decision>,
    /// Predicted `/dev/pptN` when the node goes to ppt.
    pub dev: Option<PptDev>,
    /// A path alias that names this node but cannot take effect: no
    /// active driver binds the node by `compatible` or node name first,
    /// so the kernel never names it and never checks the path (or the
    /// alias's own driver is not active).
    pub blocked_path_alias: Option<Binding>,
}

impl Prediction {
    /// The driver after the next boot, when known.
    pub fn driver_after(&self) -> Option<&str> {
        self.after.as_ref().map(|d| d.binding.driver.as_str())
    }

    /// Whether the driver changes at the next boot (an unknown prediction
    /// counts as a change only for a node bound to ppt now, since only
    /// `ppt_aliases` could be keeping it there).
    pub fn changes(&self) -> bool {
        if self.known {
            self.driver_after() != self.driver_now.as_deref()
        } else {
            self.driver_now.as_deref() == Some(PPT)
        }
    }
}

/// One `ppt_aliases` entry (or problem line) and what it does on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasReport {
    /// Host path of the file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The alias as the kernel stores it, or the line's text when the line
    /// binds nothing ([`AliasReport::as_written`]).
    pub alias: String,
    /// `alias` is the text of a line the kernel rejects, as its author
    /// wrote it (quotes included or missing), not an alias the kernel
    /// stores.
    pub as_written: bool,
    /// `path` or `compatible`.
    pub kind: &'static str,
    /// Paths of the functions this entry binds at the next boot.
    pub matches: Vec<String>,
    /// Everything wrong or surprising about it.
    pub lints: Vec<Lint>,
}

impl AliasReport {
    /// The alias as a reader knows it from the file: an alias the kernel
    /// stores, quoted (`"/pci@0,0/…"`); a rejected line's text as written,
    /// never quoted again. Not escaped: the caller escapes what it prints.
    pub fn shown(&self) -> String {
        if self.as_written {
            self.alias.clone()
        } else {
            format!("\"{}\"", self.alias)
        }
    }
}

/// Binding prediction for a whole host.
#[derive(Debug, Clone, Default)]
pub struct BindingReport {
    /// One prediction per function with an illumos node, in host order.
    pub predictions: Vec<Prediction>,
    /// One report per `ppt_aliases` entry or problem line, in file order.
    pub ppt_aliases: Vec<AliasReport>,
    /// Host path of the `ppt_aliases` file read, if any.
    pub ppt_aliases_file: Option<String>,
    /// Host path of the `driver_aliases` file read; `None` means only what
    /// `ppt_aliases` decides could be predicted.
    pub driver_aliases_file: Option<String>,
}

fn node_driver_now(f: &Function) -> Option<String> {
    f.illumos
        .as_ref()
        .and_then(|n| n.driver.clone())
        .or_else(|| f.driver.clone())
}

/// What binds a node: first by `compatible` and node name (to active
/// drivers only), then a path alias rebinds a node so bound. Also returns
/// a path alias that names the node but cannot take effect.
/// `claimed_anyway`: treat the node as bound first even when `table`
/// binds it by neither (the driver bound now, when `driver_aliases` is
/// unknown).
fn decide(
    table: &BindingTable,
    files: &KernelFiles,
    f: &Function,
    claimed_anyway: bool,
) -> (Option<Decision>, Option<Binding>) {
    let Some(n) = f.illumos.as_ref() else {
        return (None, None);
    };
    let active = |b: &&Binding| files.driver_active(&b.driver);
    let first = n
        .compatible
        .iter()
        .find_map(|c| {
            table.get(c).filter(active).map(|b| Decision {
                key: c.clone(),
                via: BoundBy::Compatible(c.clone()),
                binding: b.clone(),
            })
        })
        .or_else(|| {
            table.get(&n.node_name).filter(active).map(|b| Decision {
                key: n.node_name.clone(),
                via: BoundBy::NodeName(n.node_name.clone()),
                binding: b.clone(),
            })
        });
    // init_node rebinds by path only to an active driver other than the
    // one bound (devcfg.c: `driver_active(major) && major !=
    // DEVI(dip)->devi_major`): when the compatible entry already binds the
    // path's driver, the compatible entry is what binds the node.
    let same = |b: &Binding| first.as_ref().is_some_and(|d| d.binding.driver == b.driver);
    match table.get(&n.path) {
        Some(b) if same(b) => (first, None),
        Some(b) if (first.is_some() || claimed_anyway) && files.driver_active(&b.driver) => (
            Some(Decision {
                key: n.path.clone(),
                via: BoundBy::PathAlias,
                binding: b.clone(),
            }),
            None,
        ),
        Some(b) => (first, Some(b.clone())),
        None => (first, None),
    }
}

/// The compatible alias that reserves a function no driver claims: the
/// `pciexVVVV,DDDD` entry of its `compatible` list, else `pciVVVV,DDDD`
/// (conventional PCI nodes have no `pciex` forms) — the vendor,device
/// form, without subsystem or revision, so it survives a board or
/// revision change. Such an alias binds every function that lists the
/// string and that no more specific entry binds first. `None` when the
/// list has neither form.
pub fn compatible_alias(f: &Function) -> Option<&str> {
    let n = f.illumos.as_ref()?;
    let (v, d) = (f.ids.vendor, f.ids.device);
    let want = [format!("pciex{v:x},{d:x}"), format!("pci{v:x},{d:x}")];
    want.iter()
        .find_map(|w| n.compatible.iter().find(|c| *c == w))
        .map(String::as_str)
}

/// Whether the device tree shows that no driver claims `f`: its node was
/// read from a devinfo tree, has no driver and is in state DS_LINKED (or
/// earlier). A path alias never takes such a node (see the module docs);
/// only a compatible alias ([`compatible_alias`]) reserves it. Nodes whose
/// state is not known (predicted ones, older snapshots) are never called
/// unclaimed, since nothing tells.
pub fn unclaimed(f: &Function) -> bool {
    f.devinfo_node()
        .is_some_and(|n| n.driver.is_none() && n.node_state.is_some_and(|s| s <= DS_LINKED))
}

/// DDI node state DS_LINKED: known to the tree, bound to no driver
/// (`sys/ddi_impldefs.h`).
pub const DS_LINKED: i32 = 1;

/// Predicts the next boot's bindings for `host` from `files`.
pub fn predict(host: &Host, files: &KernelFiles) -> BindingReport {
    let mut all: Vec<&AliasFile> = Vec::new();
    if let Some(p) = &files.ppt_aliases {
        all.push(p);
    }
    if let Some(d) = &files.driver_aliases {
        all.push(d);
    }
    // Without name_to_major the driver names are not known; the drivers
    // bound now and those named in the aliases files certainly exist, so
    // they stand in (node names such as `pci-ide` bind by driver name).
    let assumed = files
        .name_to_major
        .is_none()
        .then(|| assumed_drivers(host, &all));
    let n2m = files.name_to_major.as_ref().or(assumed.as_ref());
    let table = BindingTable::build(n2m, &all);
    let without = files
        .driver_aliases
        .as_ref()
        .map(|d| BindingTable::build(n2m, &[d]));
    let ppt_file = files.ppt_aliases.as_ref().map(|p| p.file.clone());

    let mut predictions = Vec::new();
    for (i, f) in host.functions.iter().enumerate() {
        let Some(n) = f.illumos.as_ref() else {
            continue;
        };
        let driver_now = node_driver_now(f);
        // Without driver_aliases the first binding is unknown; a node
        // bound now is taken to be bound again.
        let claimed_anyway = files.driver_aliases.is_none() && driver_now.is_some();
        let (after, blocked) = decide(&table, files, f, claimed_anyway);
        let by_ppt_file = after
            .as_ref()
            .is_some_and(|d| Some(&d.binding.file) == ppt_file.as_ref());
        let known = files.driver_aliases.is_some() || by_ppt_file;
        predictions.push(Prediction {
            function: i,
            path: n.path.clone(),
            driver_now,
            after: if known { after } else { None },
            known,
            without_ppt_aliases: without
                .as_ref()
                .and_then(|t| decide(t, files, f, claimed_anyway).0),
            dev: None,
            blocked_path_alias: blocked,
        });
    }
    assign_devs(host, files.path_to_inst.as_ref(), &mut predictions);
    if files.smartos {
        // path_to_inst lives on the ramdisk: no instance number carries
        // over to the next boot.
        for d in predictions.iter_mut().filter_map(|p| p.dev.as_mut()) {
            d.certain = false;
        }
    }

    let ppt_aliases = match &files.ppt_aliases {
        Some(pf) => alias_reports(host, files, pf, &table, &predictions),
        None => Vec::new(),
    };
    BindingReport {
        predictions,
        ppt_aliases,
        ppt_aliases_file: ppt_file,
        driver_aliases_file: files.driver_aliases.as_ref().map(|d| d.file.clone()),
    }
}

/// Host path under which driver names stand when `name_to_major` is
/// missing (their line number is 0).
pub(crate) const ASSUMED_DRIVERS: &str = "/etc/name_to_major";

fn assumed_drivers(host: &Host, files: &[&AliasFile]) -> NameToMajor {
    let mut n = NameToMajor {
        file: ASSUMED_DRIVERS.to_string(),
        drivers: Default::default(),
    };
    let bound = host.functions.iter().filter_map(node_driver_now);
    let named = files
        .iter()
        .flat_map(|f| f.entries.iter().map(|e| e.driver.clone()));
    for d in bound.chain(named) {
        n.drivers.entry(d).or_insert((0, 0));
    }
    n
}

/// `/dev/pptN` for every node going to ppt: the recorded instance when
/// there is one, else the next free numbers in host order (a guess: the
/// kernel numbers them in attach order).
fn assign_devs(host: &Host, p2i: Option<&PathToInst>, preds: &mut [Prediction]) {
    let mut next = p2i.map(|p| p.next_free(PPT)).unwrap_or(0);
    for f in &host.functions {
        if let Some(n) = &f.illumos {
            if n.driver.as_deref() == Some(PPT) {
                if let Some(i) = n.instance.and_then(|i| u32::try_from(i).ok()) {
                    next = next.max(i.saturating_add(1));
                }
            }
        }
    }
    for p in preds.iter_mut() {
        if p.driver_after() != Some(PPT) {
            continue;
        }
        let f = &host.functions[p.function];
        let now_inst = f
            .illumos
            .as_ref()
            .filter(|n| n.driver.as_deref() == Some(PPT))
            .and_then(|n| n.instance)
            .and_then(|i| u32::try_from(i).ok());
        let recorded = now_inst.or_else(|| p2i.and_then(|t| t.instance(&p.path, PPT)));
        p.dev = Some(match recorded {
            Some(i) => PptDev {
                dev: format!("/dev/ppt{i}"),
                certain: true,
            },
            None => {
                let i = next;
                next = next.saturating_add(1);
                PptDev {
                    dev: format!("/dev/ppt{i}"),
                    certain: false,
                }
            }
        });
    }
}

/// `<file>:<line>`, or the file alone for line 0 (a driver name standing
/// in for a missing `name_to_major`).
pub(crate) fn by_string(file: &str, line: usize) -> String {
    if line == 0 {
        file.to_string()
    } else {
        format!("{file}:{line}")
    }
}

impl Prediction {
    /// A known prediction that `driver` binds the node at `path` by
    /// `via`, from `file` line `line` (for programs and tests that state a
    /// next boot without predicting one).
    pub fn decided(path: &str, driver: &str, via: BoundBy, file: &str, line: usize) -> Prediction {
        let key = match &via {
            BoundBy::PathAlias => path.to_string(),
            BoundBy::Compatible(c) | BoundBy::NodeName(c) => c.clone(),
        };
        Prediction {
            function: 0,
            path: path.to_string(),
            driver_now: None,
            after: Some(Decision {
                key,
                via,
                binding: Binding {
                    driver: driver.to_string(),
                    file: file.to_string(),
                    line,
                },
            }),
            known: true,
            without_ppt_aliases: None,
            dev: None,
            blocked_path_alias: None,
        }
    }

    /// Why the node gets its driver, in words (`path alias in
    /// /etc/ppt_aliases line 3`).
    pub fn why(&self) -> String {
        if !self.known {
            // ppt ships with no aliases of its own (illumos-gate
            // `usr/src/pkg/manifests/system-bhyve.p5m`), so a
            // node no ppt_aliases entry decides leaves ppt; which host
            // driver takes it needs driver_aliases, which was not read.
            return "no ppt_aliases entry binds it; /etc/driver_aliases was not read".into();
        }
        match &self.after {
            Some(d) => {
                let place = format!("{} line {}", d.binding.file, d.binding.line);
                match &d.via {
                    BoundBy::PathAlias => format!("path alias in {place}"),
                    BoundBy::Compatible(c) => format!("\"{c}\" in {place}"),
                    BoundBy::NodeName(n) => format!("node name {n}"),
                }
            }
            None => "no alias binds it".to_string(),
        }
    }

    /// `<file>:<line>` of the entry that decides the binding, when one does.
    pub fn by(&self) -> Option<String> {
        self.after
            .as_ref()
            .map(|d| by_string(&d.binding.file, d.binding.line))
    }

    /// The `/dev/pptN` in words: the recorded one, or the guess marked as
    /// such.
    pub fn dev_text(&self) -> Option<String> {
        self.dev.as_ref().map(|d| {
            if d.certain {
                d.dev.clone()
            } else {
                format!("{} (a guess: the instance is not recorded yet)", d.dev)
            }
        })
    }

    /// The `/dev/pptN` when its instance is recorded.
    pub fn certain_dev(&self) -> Option<&str> {
        self.dev
            .as_ref()
            .filter(|d| d.certain)
            .map(|d| d.dev.as_str())
    }
}
