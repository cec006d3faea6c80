//! `--json`: one document, `{"functions": [...]}`, keys as interface §3.

use pci_core::Function;
use serde_json::{json, Value};

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

/// One function's object.
fn function(f: &Function) -> Value {
    let ids = &f.ids;
    let illumos = f.illumos.as_ref();
    json!({
        "slot": f.address.to_string(),
        "vendor": format!("{:04x}", ids.vendor),
        "device": format!("{:04x}", ids.device),
        "subsystem_vendor": hex4(ids.subsystem_vendor),
        "subsystem": hex4(ids.subsystem),
        "class": format!("{:06x}", ids.class),
        "revision": format!("{:02x}", ids.revision),
        "header_type": ids.header_type.map(|h| h & 0x7f),
        "multifunction": ids.header_type.map(|h| h & 0x80 != 0),
        "driver": f.driver,
        "iommu_group": f.iommu_group,
        "illumos_path": illumos.map(|n| n.path.clone()),
        "illumos_path_source": illumos.and_then(|n| n.path_source),
    })
}
