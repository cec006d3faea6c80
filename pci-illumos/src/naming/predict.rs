//! Predicting every node the x86 enumerator would create for a host read
//! without a devinfo tree: bus numbers to root complexes, paths down the
//! bridges, and each node's properties.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pci_core::{Diagnostic, Function, Host, IllumosNode, PathSource, PropValue};

use super::{
    compat_subsys, compatible, node_name_with, pcie_cap, unit_address, CompatStyle, PcieCap,
    STYLE_ENV,
};

fn header_type(f: &Function) -> Option<u8> {
    f.header_layout()
}

/// Predicts the illumos node of every function that has none yet, and
/// the root-complex nexus nodes when the host has none. Functions the
/// kernel would not create a node for (a PCIe capability of an unknown
/// version) are left without one and noted in `host.warnings`.
///
/// The `compatible` generation is the current one unless the environment
/// variable [`STYLE_ENV`] says `legacy`; an unknown value is a warning and
/// the default is used.
pub fn predict(host: &mut Host) {
    predict_knowing(host, &|_| false)
}

/// [`predict`] knowing which strings bind an active driver (see
/// [`predict_bound`]); the `compatible` generation comes from the
/// environment as for [`predict`].
pub fn predict_knowing(host: &mut Host, binds: &dyn Fn(&str) -> bool) {
    let style = match std::env::var(STYLE_ENV) {
        Ok(v) => CompatStyle::parse(&v).unwrap_or_else(|| {
            host.warnings.push(Diagnostic {
                file: None,
                line: None,
                message: format!(
                    "{STYLE_ENV}={v}: unknown style (use legacy or ipd9); predicting the current (ipd9) names"
                ),
            });
            CompatStyle::Ipd9
        }),
        Err(_) => CompatStyle::Ipd9,
    };
    predict_bound(host, style, binds)
}

/// [`predict`] with an explicit `compatible` generation.
pub fn predict_with(host: &mut Host, style: CompatStyle) {
    predict_bound(host, style, &|_| false)
}

/// [`predict_with`] knowing which strings bind an active driver (the
/// next boot's alias files: pci-illumos `binding::KernelFiles::binder`),
/// which decides whether an IDE controller is named `pci-ide`
/// ([`node_name_with`]).
pub fn predict_bound(host: &mut Host, style: CompatStyle, binds: &dyn Fn(&str) -> bool) {
    let buses = Buses::of(host);
    let pcie: Vec<PcieCap> = host.functions.iter().map(|f| pcie_cap(&f.config)).collect();
    let compats: Vec<Vec<String>> = host
        .functions
        .iter()
        .zip(&pcie)
        .map(|(f, c)| {
            compatible(
                &f.ids,
                header_type(f),
                matches!(c, PcieCap::Version(_)),
                style,
            )
        })
        .collect();
    let names: Vec<String> = host
        .functions
        .iter()
        .zip(&compats)
        .map(|(f, c)| node_name_with(&f.ids, header_type(f), c, binds))
        .collect();
    let (paths, roots) = buses.paths(host, &pcie, &names);
    let planned = Planned {
        style,
        pcie,
        compats,
        names,
        paths,
    };
    let warnings = add_nodes(host, planned);
    host.warnings.extend(warnings);
    if host.nexus.is_empty() {
        add_nexus(host, &roots, &buses.root_addr);
    }
}

/// The bus topology the enumerator sees: which bridge each bus hangs
/// below, and the unit address of each root complex.
struct Buses {
    /// Secondary bus -> the bridge above it (domain 0 only).
    behind: HashMap<u8, usize>,
    /// Root bus -> its `pci@N,0` number.
    root_addr: BTreeMap<u8, u32>,
}

impl Buses {
    fn of(host: &Host) -> Buses {
        let mut behind: HashMap<u8, usize> = HashMap::new();
        for (i, f) in host.functions.iter().enumerate() {
            if f.address.domain != 0 {
                continue;
            }
            if let Some(sec) = f.secondary_bus() {
                if sec != 0 && sec != f.address.bus {
                    behind.entry(sec).or_insert(i);
                }
            }
        }
        let secondary: BTreeSet<u8> = behind.keys().copied().collect();
        let max_bus = host
            .functions
            .iter()
            .map(|f| f.address.bus)
            .max()
            .unwrap_or(0);
        // pci_setup_tree: bus 0 is root address 0; every later bus number
        // that is not a bridge's secondary bus takes the next counter value.
        let mut root_addr: BTreeMap<u8, u32> = BTreeMap::new();
        root_addr.insert(0, 0);
        let mut counter = 0u32;
        for b in 1..=max_bus {
            if !secondary.contains(&b) {
                counter += 1;
                root_addr.insert(b, counter);
            }
        }
        Buses { behind, root_addr }
    }

    /// Every function's predicted path and its parent's `device_type`,
    /// and which root buses hold a PCIe function (their nexus is
    /// `pciex`). Paths are computed parent first; a bridge's chain is
    /// bounded by the number of functions (guards against bus-number
    /// cycles in bad input).
    fn paths(
        &self,
        host: &Host,
        pcie: &[PcieCap],
        names: &[String],
    ) -> (Vec<NodePath>, BTreeMap<u8, bool>) {
        let n = host.functions.len();
        let mut roots: BTreeMap<u8, bool> = BTreeMap::new();
        let mut paths: Vec<NodePath> = Vec::with_capacity(n);
        for i in 0..n {
            let mut chain = vec![i];
            let mut cur = i;
            while let Some(&p) = self.behind.get(&host.functions[cur].address.bus) {
                if chain.contains(&p) || chain.len() > n {
                    break;
                }
                chain.push(p);
                cur = p;
            }
            let top_bus = host.functions[cur].address.bus;
            let root_pcie = roots.entry(top_bus).or_insert(false);
            if matches!(pcie[cur], PcieCap::Version(_)) {
                *root_pcie = true;
            }
            paths.push(Some(self.chain_path(host, top_bus, &chain, pcie, names)));
        }
        (paths, roots)
    }

    /// The path down `chain` (the function first, its topmost bridge
    /// last) from the root complex of `top_bus`, and the `device_type`
    /// of the function's parent.
    fn chain_path(
        &self,
        host: &Host,
        top_bus: u8,
        chain: &[usize],
        pcie: &[PcieCap],
        names: &[String],
    ) -> (String, Option<String>) {
        let mut path = match self.root_addr.get(&top_bus) {
            Some(r) => format!("/pci@{r:x},0"),
            None => format!("/pci@{top_bus:x},0"),
        };
        let mut parent_type = None::<String>;
        let mut parent_path_type = Some("pci".to_string());
        for &j in chain.iter().rev() {
            let f = &host.functions[j];
            let name = &names[j];
            path = format!("{path}/{name}@{}", unit_address(&f.address));
            parent_type = parent_path_type.clone();
            parent_path_type = f.is_bridge().then(|| {
                if matches!(pcie[j], PcieCap::Version(_)) {
                    "pciex".to_string()
                } else {
                    "pci".to_string()
                }
            });
        }
        (path, parent_type)
    }
}

/// A predicted path and the `device_type` of its parent.
type NodePath = Option<(String, Option<String>)>;

/// What [`predict_bound`] worked out for every function, by index.
struct Planned {
    style: CompatStyle,
    pcie: Vec<PcieCap>,
    compats: Vec<Vec<String>>,
    names: Vec<String>,
    paths: Vec<NodePath>,
}

/// Gives every function that has no node yet its predicted one; returns
/// the warnings for functions the kernel would create no node for.
fn add_nodes(host: &mut Host, mut planned: Planned) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    for (i, f) in host.functions.iter_mut().enumerate() {
        // Vendor 0xffff (nothing answered) or 0 is no device to the
        // enumerator (pci_boot.c process_devfunc): no node.
        if f.illumos.is_some()
            || f.address.domain != 0
            || f.ids.vendor == 0xffff
            || f.ids.vendor == 0
        {
            continue;
        }
        if let PcieCap::Unsupported(v) = planned.pcie[i] {
            warnings.push(Diagnostic {
                file: None,
                line: None,
                message: format!(
                    "{}: PCIe capability version {v}: the illumos enumerator creates no node for it",
                    f.address
                ),
            });
            continue;
        }
        let Some((path, parent_type)) = planned.paths[i].take() else {
            continue;
        };
        let is_pcie = matches!(planned.pcie[i], PcieCap::Version(_));
        let device_type = f
            .is_bridge()
            .then(|| if is_pcie { "pciex" } else { "pci" }.to_string());
        let compat = planned.compats[i].clone();
        let ua = unit_address(&f.address);
        let props = node_props(f, planned.style, &ua, device_type.as_deref(), &compat);
        f.illumos = Some(IllumosNode {
            path,
            path_source: Some(PathSource::Predicted),
            node_name: planned.names[i].clone(),
            unit_address: Some(ua),
            driver: None,
            instance: None,
            binding_name: None,
            compatible: compat,
            parent_device_type: parent_type,
            device_type,
            props,
            minors: Vec::new(),
            // Whether the node will initialise depends on the driver that
            // binds it, which naming does not know.
            ..IllumosNode::default()
        });
    }
    warnings
}

/// The properties the enumerator gives a function's node
/// (`pci_prop_set_common_props`): `reg`, the ids, `unit-address`,
/// `device_type` for bridges and `compatible`.
fn node_props(
    f: &Function,
    style: CompatStyle,
    ua: &str,
    device_type: Option<&str>,
    compat: &[String],
) -> BTreeMap<String, PropValue> {
    let ints = |v: i32| PropValue::Ints(vec![v]);
    let mut props = BTreeMap::new();
    let phys_hi = (u32::from(f.address.bus) << 16)
        | (u32::from(f.address.device) << 11)
        | (u32::from(f.address.function) << 8);
    props.insert(
        "reg".to_string(),
        PropValue::Ints(vec![phys_hi as i32, 0, 0, 0, 0]),
    );
    props.insert("vendor-id".to_string(), ints(i32::from(f.ids.vendor)));
    props.insert("device-id".to_string(), ints(i32::from(f.ids.device)));
    props.insert("revision-id".to_string(), ints(i32::from(f.ids.revision)));
    props.insert("class-code".to_string(), ints(f.ids.class as i32));
    if let Some((sv, ss)) = compat_subsys(&f.ids, header_type(f), style) {
        props.insert("subsystem-vendor-id".to_string(), ints(i32::from(sv)));
        props.insert("subsystem-id".to_string(), ints(i32::from(ss)));
    }
    props.insert(
        "unit-address".to_string(),
        PropValue::Strings(vec![ua.to_string()]),
    );
    if let Some(dt) = device_type {
        props.insert(
            "device_type".to_string(),
            PropValue::Strings(vec![dt.to_string()]),
        );
    }
    props.insert(
        "compatible".to_string(),
        PropValue::Strings(compat.to_vec()),
    );
    props
}

/// The root-complex nexus nodes (`/pci@N,0`), `pciex` when a PCIe
/// function hangs below.
fn add_nexus(host: &mut Host, roots: &BTreeMap<u8, bool>, root_addr: &BTreeMap<u8, u32>) {
    for (&bus, &is_pcie) in roots {
        let r = root_addr.get(&bus).copied().unwrap_or(u32::from(bus));
        let dt = if is_pcie { "pciex" } else { "pci" }.to_string();
        let mut props = BTreeMap::new();
        props.insert(
            "device_type".to_string(),
            PropValue::Strings(vec![dt.clone()]),
        );
        host.nexus.push(IllumosNode {
            path: format!("/pci@{r:x},0"),
            path_source: Some(PathSource::Predicted),
            node_name: "pci".to_string(),
            unit_address: Some(format!("{r:x},0")),
            device_type: Some(dt),
            props,
            ..IllumosNode::default()
        });
    }
}
