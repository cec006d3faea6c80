//! Writes a generated host as a `pptctl snapshot` JSON document
//! (`"format": "pptctl-snapshot/1"`, README.md): the serde form of
//! `pci_core::Host` with the facts a Linux sysfs source would have read.

use pci_core::{Function, Host, HostFacts, Identity};
use serde::Serialize;

use crate::error::GenError;
use crate::sysfs::{bar_sizes, linux_driver};
use crate::topology::GenHost;

/// The format tag of snapshot documents.
pub const FORMAT: &str = "pptctl-snapshot/1";

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    #[serde(flatten)]
    host: &'a Host,
}

/// The `pci_core::Host` a sysfs source would build from the generated tree.
pub fn to_host(host: &GenHost) -> Host {
    let mut group = 0u32;
    let functions = host
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (sv, ss) = f.subsystem();
            let ids = Identity {
                vendor: f.vendor(),
                device: f.device(),
                subsystem_vendor: (f.header_type() == 0).then_some(sv),
                subsystem: (f.header_type() == 0).then_some(ss),
                class: f.class(),
                revision: f.revision(),
                header_type: Some(f.config[0x0e]),
            };
            let mut func = Function::new(f.address, ids, f.config.clone());
            func.bar_sizes = bar_sizes(f);
            func.driver = linux_driver(f, i).map(str::to_string);
            if f.address.function == 0 {
                group += 1;
            }
            func.iommu_group = Some(group);
            func
        })
        .collect();
    Host {
        functions,
        facts: HostFacts {
            os: Some("linux".into()),
            ..HostFacts::default()
        },
        ..Host::default()
    }
}

/// The snapshot document text.
pub fn snapshot_json(host: &GenHost) -> Result<String, GenError> {
    let h = to_host(host);
    let mut s = serde_json::to_string_pretty(&Document {
        format: FORMAT,
        host: &h,
    })?;
    s.push('\n');
    Ok(s)
}
