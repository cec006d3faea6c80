//! `--json`: one document, `{"functions": [...]}`, keys as docs/json.md.
//! Absent facts are `null`, never guessed: a 64-byte dump has no extended
//! capabilities, a dump has no BAR sizes.

use pci_core::caps::CapError;
use pci_core::config::ConfigSpace;
use pci_core::Function;
use serde_json::{json, Map, Value};

/// The JSON document for `functions`, pretty-printed with a final newline.
pub fn render(functions: &[&Function]) -> String {
    let list: Vec<Value> = functions.iter().map(|f| function(f)).collect();
    let mut s = serde_json::to_string_pretty(&json!({ "functions": list }))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn hex4(v: Option<u16>) -> Value {
    v.map_or(Value::Null, |v| Value::String(format!("{v:04x}")))
}

fn chain_error(e: &CapError) -> Value {
    json!({"offset": e.offset(), "error": e.to_string()})
}

/// One function's object.
fn function(f: &Function) -> Value {
    let mut obj = Map::new();
    identity(&mut obj, f);
    let cfg = f.config_space();
    if cfg.len() < 64 {
        for k in [
            "bars",
            "capabilities",
            "extended_capabilities",
            "pcie",
            "msi",
            "msix",
            "sriov",
            "acs",
        ] {
            obj.insert(k.to_string(), Value::Null);
        }
        return Value::Object(obj);
    }
    bars(&mut obj, f);
    capabilities(&mut obj, &cfg);
    features(&mut obj, &cfg);
    Value::Object(obj)
}

/// The keys every function has: IDs, what the OS says, the SR-IOV links
/// and the size of the config space read.
fn identity(obj: &mut Map<String, Value>, f: &Function) {
    let ids = &f.ids;
    let illumos = f.illumos.as_ref();
    let mut put = |k: &str, v: Value| {
        obj.insert(k.to_string(), v);
    };
    put("slot", json!(f.address.to_string()));
    put("vendor", json!(format!("{:04x}", ids.vendor)));
    put("device", json!(format!("{:04x}", ids.device)));
    put("subsystem_vendor", hex4(ids.subsystem_vendor));
    put("subsystem", hex4(ids.subsystem));
    put("class", json!(format!("{:06x}", ids.class)));
    put("revision", json!(format!("{:02x}", ids.revision)));
    put("header_type", json!(ids.header_type.map(|h| h & 0x7f)));
    put(
        "multifunction",
        json!(ids.header_type.map(|h| h & 0x80 != 0)),
    );
    put("driver", json!(f.driver));
    put("iommu_group", json!(f.iommu_group));
    put("illumos_path", json!(illumos.map(|n| n.path.clone())));
    put(
        "illumos_path_source",
        json!(illumos.and_then(|n| n.path_source)),
    );
    // The illumos binding as the devinfo tree records it (null when the
    // path is only predicted: no tree, no driver or instance).
    put(
        "illumos_driver",
        json!(illumos.and_then(|n| n.driver.clone())),
    );
    put("instance", json!(illumos.and_then(|n| n.instance)));
    put("physfn", json!(f.physfn.map(|a| a.to_string())));
    put(
        "virtfns",
        json!(f.virtfns.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
    );
    put("config_size", json!(f.config_space().len()));
}

fn bars(obj: &mut Map<String, Value>, f: &Function) {
    let bars: Vec<Value> = f
        .bars()
        .into_iter()
        .filter_map(Result::ok)
        .map(|b| {
            json!({
                "index": b.index,
                "kind": b.kind.as_str(),
                "prefetchable": b.prefetchable,
                "address": format!("{:x}", b.address),
                "size": b.size,
            })
        })
        .collect();
    obj.insert("bars".into(), json!(bars));
}

/// Both capability chains, and where either breaks.
fn capabilities(obj: &mut Map<String, Value>, cfg: &ConfigSpace<'_>) {
    let mut caps = Vec::new();
    let mut errors = Vec::new();
    for c in cfg.capabilities() {
        match c {
            Ok(c) => caps.push(json!({"offset": c.offset, "id": c.id, "name": c.name()})),
            Err(e) => errors.push(chain_error(&e)),
        }
    }
    obj.insert("capabilities".into(), json!(caps));
    // Extended space exists only with 4096 bytes; otherwise unknown.
    if cfg.has_extended_space() {
        let mut ext = Vec::new();
        for c in cfg.extended_capabilities() {
            match c {
                Ok(c) => ext.push(json!({
                    "offset": c.offset, "id": c.id, "version": c.version, "name": c.name()
                })),
                Err(e) => errors.push(chain_error(&e)),
            }
        }
        obj.insert("extended_capabilities".into(), json!(ext));
    } else {
        obj.insert("extended_capabilities".into(), Value::Null);
    }
    if !errors.is_empty() {
        obj.insert("capability_errors".into(), json!(errors));
    }
}

/// The decoded capabilities pass-through cares about.
fn features(obj: &mut Map<String, Value>, cfg: &ConfigSpace<'_>) {
    let mut put = |k: &str, v: Value| {
        obj.insert(k.to_string(), v);
    };
    put(
        "pcie",
        cfg.pci_express().map_or(Value::Null, |e| {
            let link = e.link;
            json!({
                "type": e.port_type.as_str(),
                "flr": e.flr(),
                "link_speed": link.map(|l| l.speed_name()),
                "link_width": link.map(|l| l.width),
                "link_cap_speed": link.map(|l| l.cap_speed_name()),
                "link_cap_width": link.map(|l| l.cap_width),
            })
        }),
    );
    put(
        "msi",
        cfg.msi().map_or(Value::Null, |m| {
            json!({"vectors": m.vectors_capable, "64bit": m.is_64bit(), "maskable": m.maskable()})
        }),
    );
    put(
        "msix",
        cfg.msix().map_or(Value::Null, |m| {
            json!({
                "table_size": m.table_size,
                "table_bar": m.table_bir, "table_offset": m.table_offset,
                "pba_bar": m.pba_bir, "pba_offset": m.pba_offset,
            })
        }),
    );
    put(
        "sriov",
        cfg.sriov().map_or(
            Value::Null,
            |s| json!({"total_vfs": s.total_vfs, "num_vfs": s.num_vfs}),
        ),
    );
    put(
        "acs",
        cfg.acs().map_or(
            Value::Null,
            |a| json!({"flags": a.capability.names(), "enabled": a.control.names()}),
        ),
    );
    // With the capability area read (256 bytes or more), a function with
    // neither a PCIe nor an AF capability has no FLR: a fact, not unknown.
    put(
        "flr",
        json!(cfg.flr().or((cfg.len() >= 256).then_some(false))),
    );
}
