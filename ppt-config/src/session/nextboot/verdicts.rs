//! The next boot's facts that `check` and `match` report as findings: a
//! reservation the boot archive leaves out, and drivers a boot option
//! disables.

use pci_core::Host;

use crate::session::archive::{self, ArchiveVerdict};
use crate::session::{next_boot, root_archive, Captured};
use crate::viability::rules::{ARCHIVE_OMITS, DRIVER_DISABLED};
use crate::viability::Reason;

const PPT_ALIASES: &str = "/etc/ppt_aliases";

/// Why the next boot will not read the root's `/etc/ppt_aliases`, when
/// the archive's file lists leave it out (a persistent root, the file
/// present, no boot module delivering it): the message and the hint
/// with the exact commands.
pub fn archive_omits(c: &Captured, root: &std::path::Path) -> Option<Reason> {
    c.files.root(PPT_ALIASES).bytes()?;
    if c.files
        .root(&format!("/system/boot{PPT_ALIASES}"))
        .bytes()
        .is_some()
    {
        return None;
    }
    (root_archive(c, PPT_ALIASES) == ArchiveVerdict::NotListed).then(|| {
        Reason::with_hint(
            &ARCHIVE_OMITS,
            archive::not_listed(PPT_ALIASES),
            format!(
                "add etc/ppt_aliases to {} (pptctl reserve does), then run `{}`",
                archive::LOCAL_FILELIST,
                archive::update_command(root)
            ),
        )
    })
}

/// Each driver the next boot's boot options disable that matters here
/// (ppt, or a driver bound to a function now), with the option's place.
pub fn disabled_drivers(c: &Captured, host: &Host) -> Vec<Reason> {
    let d = next_boot(c).disabled();
    d.drivers
        .iter()
        .filter(|(drv, _)| {
            drv.as_str() == pci_illumos::binding::PPT
                || host.functions.iter().any(|f| {
                    f.illumos.as_ref().and_then(|n| n.driver.as_deref()) == Some(drv.as_str())
                        || f.driver.as_deref() == Some(drv.as_str())
                })
        })
        .map(|(drv, by)| {
            Reason::new(
                &DRIVER_DISABLED,
                format!("{by}: the boot option disable-{drv}=true disables {drv} at the next boot: the kernel binds no node to it"),
            )
        })
        .collect()
}

/// Every next-boot finding for `check`.
pub fn reasons(c: &Captured, host: &Host, root: &std::path::Path) -> Vec<Reason> {
    let mut out: Vec<Reason> = archive_omits(c, root).into_iter().collect();
    out.extend(disabled_drivers(c, host));
    out
}
