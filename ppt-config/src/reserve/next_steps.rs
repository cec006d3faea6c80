//! What the user does after a reservation is written.

use super::{Action, Plan};
use crate::boot_media::Layout;

impl Plan {
    /// What the user does next, as lines of text; `vm_json` is the vmadm
    /// payload to suggest, printed as given.
    pub fn next_steps(&self, vm_json: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let persistent = matches!(self.layout, Layout::PersistentRoot { .. });
        let rebuild = match &self.layout {
            Layout::PersistentRoot { root } => crate::session::archive::update_command(root),
            Layout::BootMedia { .. } => String::new(),
        };
        match self.action {
            Action::Reserve => {
                // Nothing changed and everything is bound now: no reboot needed.
                let in_effect =
                    self.is_noop() && self.functions.iter().all(|f| f.ppt_instance.is_some());
                out.push("Next:".into());
                let mut n = 1;
                if in_effect {
                    out.push(format!(
                        "  {n}. Nothing to reboot for: the functions are bound to ppt now. `pptadm list -a` shows:"
                    ));
                } else if persistent {
                    out.push(format!(
                        "  {n}. Run `{rebuild}` (or pass --update-archive): the kernel reads /etc/ppt_aliases from the boot archive."
                    ));
                    n += 1;
                }
                if !in_effect {
                    out.push(format!(
                        "  {n}. Reboot. The kernel reads ppt_aliases once, at boot; until then nothing new is bound to ppt."
                    ));
                    n += 1;
                    out.push(format!(
                        "  {n}. After the reboot `pptadm list -a` should show:"
                    ));
                }
                out.push(format!(
                    "       {:<11}{:<7}{:<7}PATH",
                    "DEV", "VENDOR", "DEVICE"
                ));
                for f in &self.functions {
                    let dev = match f.ppt_instance {
                        Some(i) => format!("/dev/ppt{i}"),
                        None => "/dev/pptN".into(),
                    };
                    out.push(format!(
                        "       {:<11}{:<7}{:<7}{}",
                        dev,
                        format!("{:x}", f.ids.0),
                        format!("{:x}", f.ids.1),
                        f.path.as_deref().unwrap_or("--")
                    ));
                }
                n += 1;
                if let Some(j) = vm_json {
                    out.push(format!(
                        "  {n}. Give them to the VM (`vmadm update UUID < payload.json`, VM stopped) with:"
                    ));
                    for l in j.lines() {
                        out.push(format!("       {l}"));
                    }
                }
            }
            Action::Unreserve => {
                out.push("Next:".into());
                out.push(
                    "  1. Remove the functions from every VM first (vmadm update UUID with \"remove_pci_devices\": [\"/devices/...\"])."
                        .into(),
                );
                if persistent {
                    out.push(format!("  2. Run `{rebuild}` (or pass --update-archive)."));
                    out.push("  3. Reboot: the functions go back to their own drivers.".into());
                } else {
                    out.push("  2. Reboot: the functions go back to their own drivers.".into());
                }
            }
        }
        out
    }
}
