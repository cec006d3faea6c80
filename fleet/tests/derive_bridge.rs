//! A bridge read from a devinfo tree (no config space, so no header type)
//! is recorded as a bridge: the fleet asks pci-core, which falls back to
//! the class code, instead of reading the header type alone.

use fleet::derive::from_session;
use pci_core::{Address, Function, Host, Identity, IllumosNode, PathSource};
use ppt_config::session::{Captured, Session, SessionOptions};

fn devinfo_function(bdf: (u8, u8, u8), class: u32, path: &str) -> Function {
    let (bus, device, function) = bdf;
    let ids = Identity {
        vendor: 0x8086,
        device: 0x0151,
        subsystem_vendor: None,
        subsystem: None,
        class,
        revision: 9,
        header_type: None,
    };
    let Some(address) = Address::new(0, bus, device, function) else {
        panic!("{bus:02x}:{device:02x}.{function} is no PCI address");
    };
    let mut f = Function::new(address, ids, Vec::new());
    f.illumos = Some(IllumosNode {
        path: path.to_string(),
        path_source: Some(PathSource::Devinfo),
        ..IllumosNode::default()
    });
    f
}

#[test]
fn devinfo_bridges_are_bridges() {
    let host = Host {
        functions: vec![
            devinfo_function((0, 1, 0), 0x06_0400, "/pci@0,0/pci8086,151@1"),
            devinfo_function((1, 0, 0), 0x03_0000, "/pci@0,0/pci8086,151@1/display@0"),
        ],
        ..Host::default()
    };
    let Ok(opts) = SessionOptions::new("auto", "/") else {
        panic!("the default options are valid");
    };
    let session = Session::from_parts(&opts, host, Captured::default());
    let Ok(record) = from_session(&session, "h".to_string(), 0) else {
        panic!("a host without configuration files derives");
    };
    let bridge: Vec<bool> = record.functions.iter().map(|r| r.bridge).collect();
    assert_eq!(bridge, [true, false]);
}
