//! Gathers the pending configuration for `check`: VM payloads given with
//! `--vm`, and (when available) the next boot's binding prediction.

use std::path::PathBuf;

use pci_core::Host;
use ppt_config::viability::pending::{VmDevice, VmPlan};
use ppt_config::viability::Plan;
use serde_json::Value;

use crate::error::CliError;
use crate::global::Global;

/// Fills `plan.pending` (and `plan.next_boot`) from the host's files and `vms`.
pub fn gather(
    _global: &Global,
    _host: &Host,
    vms: &[PathBuf],
    plan: &mut Plan,
) -> Result<(), CliError> {
    for file in vms {
        plan.pending.vms.push(read_vm(file)?);
    }
    Ok(())
}

/// vmadm `parsePCIslot` (illumos.md §5.1): 1–3 decimal parts
/// (device / device:function / bus:device:function), sign allowed, no `0x`,
/// no spaces; bus 0–255, device 0–31, function 0–7.
pub fn parse_pci_slot(text: &str) -> Option<(u8, u8, u8)> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let num = |s: &str| -> Option<i64> {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let nums: Vec<i64> = parts.iter().map(|p| num(p)).collect::<Option<_>>()?;
    let (b, d, f) = match nums.as_slice() {
        [d] => (0, *d, 0),
        [d, f] => (0, *d, *f),
        [b, d, f] => (*b, *d, *f),
        _ => return None,
    };
    if !(0..=255).contains(&b) || !(0..=31).contains(&d) || !(0..=7).contains(&f) {
        return None;
    }
    Some((b as u8, d as u8, f as u8))
}

fn read_vm(file: &std::path::Path) -> Result<VmPlan, CliError> {
    let shown = file.display().to_string();
    let bytes = crate::error::read_payload(file)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        CliError::input(format!(
            "{shown}:{}: not a vmadm JSON payload: {e}",
            e.line()
        ))
    })?;
    let mut plan = VmPlan {
        file: shown.clone(),
        name: v
            .get("alias")
            .or_else(|| v.get("uuid"))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Default::default()
    };
    let list = v
        .get("pci_devices")
        .or_else(|| v.get("add_pci_devices"))
        .or_else(|| v.get("update_pci_devices"));
    let Some(list) = list else {
        return Err(CliError::input(format!(
            "{shown}: the payload has no pci_devices"
        )));
    };
    let Some(items) = list.as_array() else {
        plan.errors
            .push("Invalid value(s) for: pci_devices".to_string());
        return Ok(plan);
    };
    let mut bad = Vec::new();
    let mut missing = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = item.get("path").and_then(Value::as_str);
        let slot_text = item.get("pci_slot").and_then(Value::as_str);
        match path {
            None => missing.push(format!("pci_devices.{i}.path")),
            Some(p) if !p.starts_with("/devices") => bad.push(format!("pci_devices.{i}.path")),
            _ => {}
        }
        let slot = match slot_text {
            None => {
                missing.push(format!("pci_devices.{i}.pci_slot"));
                None
            }
            Some(s) => {
                let parsed = parse_pci_slot(s);
                if parsed.is_none() {
                    bad.push(format!("pci_devices.{i}.pci_slot"));
                }
                parsed
            }
        };
        if let Some(p) = path {
            plan.devices.push(VmDevice {
                index: i,
                path: p.to_string(),
                pci_slot: slot_text.map(str::to_string),
                slot,
            });
        }
    }
    // vmadm reports bad values first, then missing properties (illumos.md §5.1).
    if !bad.is_empty() {
        plan.errors
            .push(format!("Invalid value(s) for: {}", bad.join(",")));
    }
    if !missing.is_empty() {
        plan.errors.push(format!(
            "Missing required properties: {}",
            missing.join(",")
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_as_vmadm_parses_them() {
        assert_eq!(parse_pci_slot("8"), Some((0, 8, 0)));
        assert_eq!(parse_pci_slot("0:8:1"), Some((0, 8, 1)));
        assert_eq!(parse_pci_slot("8:1"), Some((0, 8, 1)));
        assert_eq!(parse_pci_slot("+4"), Some((0, 4, 0)));
        for bad in [
            "0x8", "4 ", "4:0:0:0", "256:0:0", "-1:0:0", "4:32:0", "4:0:8", "",
        ] {
            assert_eq!(parse_pci_slot(bad), None, "{bad}");
        }
    }
}
