//! The rules about the next boot and the files it reads.

use super::super::Severity::{Fail, Info, Warn};
use super::{rule, Rule, Scope::Config};

/// What the next boot will change (aliases are read once at boot:
/// illumos-gate `usr/src/uts/common/os/modsysfile.c` `make_aliases`, from
/// `modctl.c` `mod_setup`).
pub const PENDING_CHANGE: Rule = rule(
    "pending-change",
    Info,
    Config,
    "driver now vs after the next boot",
    "the next boot changes a binding",
    "",
);

/// What the next boot keeps (aliases are read once at boot, `modctl.c`
/// `mod_setup`; /dev/pptN is the ppt instance: ppt.c `ppt_ddi_attach`
/// numbers its minor node by instance and devfsadm
/// `usr/src/cmd/devfsadm/i386/misc_link_i386.c` names the link after it).
pub const PPT_KEPT: Rule = rule(
    "ppt-kept",
    Info,
    Config,
    "driver now vs after the next boot",
    "a function stays on ppt after the next boot",
    "",
);

/// Source: the kernel reads its alias files from the boot modules first
/// (illumos-gate krtld bootrd.c `BRD_OPEN`); on SmartOS the root is a
/// ramdisk, so only the boot media's module lines tell the next boot.
pub const NEXT_BOOT_UNKNOWN: Rule = rule(
    "next-boot-unknown",
    Warn,
    Config,
    "boot media (menu.lst or loader.conf module lines)",
    "what the next boot binds is not known without the boot media",
    "give --boot-media DIR: the mounted USB key (/mnt/usbkey) or the boot pool's boot dataset (/zones/boot)",
);

/// Source: the kernel of a persistent root reads ppt_aliases before the
/// root is mounted, from the boot archive (krtld bootrd.c `BRD_OPEN`); an
/// archive built before the change carries the old copy.
pub const ARCHIVE_STALE: Rule = rule(
    "archive-stale",
    Warn,
    Config,
    "/etc/ppt_aliases vs the boot archive's time",
    "`/etc/ppt_aliases` changed after the boot archive was built",
    "run `bootadm update-archive` before rebooting",
);

/// ppt_matches reserves nothing: only libppt reads it (illumos-gate
/// `usr/src/lib/libppt/common/libppt.c` `get_matches`, `match_ppt`); the
/// kernel binds from `ppt_aliases` and `driver_aliases` (`modsysfile.c`
/// `make_aliases`).
pub const MATCHES_ONLY: Rule = rule(
    "matches-only",
    Warn,
    Config,
    "ppt_matches vs ppt_aliases",
    "a device is listed by ppt_matches but no alias binds it to ppt",
    "ppt_matches only widens `pptadm list -a`; reserve with ppt_aliases (pptctl reserve; on SmartOS with --boot-media DIR)",
);

/// Source: bootadm packs only what the archive's file lists name
/// (illumos-gate `usr/src/cmd/boot/bootadm/bootadm.c` `read_list`), and the
/// kernel of a persistent root reads its alias files from the archive
/// before the root is mounted (krtld `bootrd.c` `BRD_OPEN`): a file the
/// lists leave out is not read at all by the next boot.
pub const ARCHIVE_OMITS: Rule = rule(
    "archive-omits",
    Fail,
    Config,
    "/boot/solaris/filelist.ramdisk and /etc/boot/solaris/filelist.ramdisk",
    "the boot archive's file lists leave out the ppt_aliases of the reservation: the next boot does not read it",
    "add etc/ppt_aliases to /etc/boot/solaris/filelist.ramdisk (pptctl reserve does) and run `bootadm update-archive`",
);

/// Source: `check_driver_disable` (illumos-gate
/// `usr/src/uts/i86pc/os/ddi_impl.c`) marks a driver removed when the boot
/// property `disable-<driver>` is `true`, and the kernel binds no node to a
/// removed driver (devcfg.c `ddi_compatible_driver_major`).
pub const DRIVER_DISABLED: Rule = rule(
    "driver-disabled",
    Warn,
    Config,
    "the next boot's boot options (-B disable-<driver>=true)",
    "a boot option disables a driver at the next boot: no node binds to it",
    "remove the disable-<driver> boot option if the driver should bind",
);
