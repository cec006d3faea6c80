//! The rules about the pending configuration: aliases, reservations and
//! VM payloads (the next boot's own rules are in `next_boot.rs`).

use super::Scope::Config;
use super::{rule, Rule};
use crate::viability::Severity::{Fail, Warn};

// ---- configuration ------------------------------------------------------

/// Source: illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`
/// `resolve_device_match` turns the path into /dev/pptN with libppt
/// `ppt_devpath_to_dev`, so the device must be bound to ppt with a
/// /dev/pptN link at boot.
pub const PPT_NOT_BOUND: Rule = rule(
    "ppt-not-bound",
    Fail,
    Config,
    "vmadm pci_devices paths; driver now and after the next boot",
    "a VM needs the device but it is not bound to ppt now and will not be after the next boot",
    "reserve it (pptctl reserve PATH; on SmartOS pptctl reserve --boot-media DIR PATH), then reboot",
);

/// Source: illumos-joyent `usr/src/cmd/zoneadmd/zoneadmd.c`
/// `resolve_device_match` ("failed to resolve passthru device").
pub const VM_DEVICE_MISSING: Rule = rule(
    "vm-device-missing",
    Fail,
    Config,
    "vmadm pci_devices paths vs the device tree",
    "a VM names a device path that does not exist on this host",
    "fix the path: use `pptctl vm-json SELECTOR` to produce it",
);

/// Source: smartos-live `src/vm/node_modules/VM.js` (`validatePCIDevice` /
/// `parsePCIslot` errors).
pub const VM_PAYLOAD_INVALID: Rule = rule(
    "vm-payload-invalid",
    Fail,
    Config,
    "vmadm payload",
    "vmadm would reject the payload",
    "fix the payload; `pptctl vm-json --check FILE` explains",
);

/// Source: smartos-live `src/vm/node_modules/VM.js` removes `pci_devices.*`
/// sub-properties without an entry in `src/vm/node_modules/proptable.js`
/// from the payload.
pub const VM_PAYLOAD_DROPPED: Rule = rule(
    "vm-payload-dropped",
    Warn,
    Config,
    "vmadm payload",
    "vmadm drops a property it does not know from the payload",
    "remove the property, or check its spelling",
);

/// Source: illumos-joyent `usr/src/lib/brand/bhyve/zone/boot.c` (enum
/// `pci_slot_t`: hostbridge 0, CD 3, disks 4–5, NICs 6, fbuf 30, LPC 31);
/// vmadm does not cross-check, and bhyve rejects a slot used twice when the
/// VM boots (illumos-gate `usr/src/cmd/bhyve/common/pci_emul.c`
/// `pci_parse_slot`). A fail: the payload cannot be trusted to start, and
/// `vm-json --check` calls it an error. The hint stays on bus 0: another
/// bus is [`GUEST_BUS_MPTABLE`]'s business.
pub const GUEST_SLOT_RESERVED: Rule = rule(
    "guest-slot-reserved",
    Fail,
    Config,
    "vmadm pci_devices pci_slot",
    "the guest slot is one the bhyve brand uses for its own devices",
    "use bus 0 devices 1–2 or 7–29",
);

/// Source: illumos-gate `usr/src/cmd/bhyve/amd64/mptbl.c` `mptable_build`:
/// with any bus above 0 configured, bhyve prints "MPtable is incompatible
/// with multiple PCI hierarchies" and does not start, unless MPtable
/// generation is off (`-Y`, or `-o x86.mptable=false`: `bhyverun.c`); the
/// bhyve brand never passes `-Y` itself (illumos-joyent
/// `usr/src/lib/brand/bhyve/zone/boot.c`), only the VM's own
/// `bhyve_extra_opts` can (`add_bhyve_extra_opts`). docs/guest-slots.md.
pub const GUEST_BUS_MPTABLE: Rule = rule(
    "guest-bus-mptable",
    Fail,
    Config,
    "vmadm pci_devices pci_slot bus; bhyve_extra_opts",
    "a guest device is on a bus above 0 while bhyve builds its MPtable: bhyve will not start",
    "put the device on bus 0 (devices 1–2 or 7–29), or turn the MPtable off with -Y in the VM's bhyve_extra_opts",
);

/// Source: bhyve rejects a slot used twice (illumos-gate
/// `usr/src/cmd/bhyve/common/pci_emul.c` `pci_parse_slot`, "already
/// occupied"); the brand's boot.c does not check.
pub const GUEST_SLOT_CONFLICT: Rule = rule(
    "guest-slot-conflict",
    Fail,
    Config,
    "vmadm pci_devices pci_slot",
    "two devices of one VM use the same guest slot: bhyve will not start",
    "give each device its own slot",
);

/// Source: guests see functions of a device only when function 0 exists
/// (smartos-live `src/vm/man/vmadm.8.md`, `disks.*.pci_slot`).
pub const GUEST_SLOT_NO_FUNCTION_0: Rule = rule(
    "guest-slot-no-function-0",
    Warn,
    Config,
    "vmadm pci_devices pci_slot functions",
    "a guest device has functions but no function 0: guests may not see them",
    "put one function of the device at function 0 (e.g. 0:8:0 and 0:8:1)",
);

/// Source: illumos-gate `usr/src/uts/intel/io/vmm/io/ppt.c`
/// `ppt_assign_device`: a ppt device is assigned to one VM at a time
/// (EBUSY).
pub const VM_DEVICE_SHARED: Rule = rule(
    "vm-device-shared",
    Warn,
    Config,
    "vmadm pci_devices paths across VMs",
    "two VMs use the same device: only one can run at a time",
    "give each VM its own device, or never run them together",
);

/// Source: a compatible alias is compared as an exact string with every
/// node's `compatible` list, so it binds every matching device
/// (illumos-gate `usr/src/uts/common/os/devcfg.c`
/// `ddi_compatible_driver_major`; seen in smartos-live issue 901).
pub const ALIAS_TAKES_MORE: Rule = rule(
    "alias-takes-more",
    Warn,
    Config,
    "ppt_aliases compatible entries vs the nodes' compatible lists",
    "an ID alias binds more than one function",
    "use path aliases (pptctl reserve PATH; on SmartOS with --boot-media DIR) to reserve single functions",
);

/// Source: a path alias must be the byte-exact `ddi_pathname` (illumos-gate
/// `usr/src/uts/common/os/devcfg.c` `init_node`).
pub const ALIAS_BINDS_NOTHING: Rule = rule(
    "alias-binds-nothing",
    Warn,
    Config,
    "ppt_aliases entries vs the device tree",
    "a ppt_aliases entry matches no device on this host",
    "fix or remove the entry; `pptctl match --explain` shows why",
);

/// Source: a function reserved for the next boot that fails a per-function
/// gate (ppt attach or bhyve, the `fail` rules of scope function above)
/// cannot work.
pub const RESERVED_FAILS: Rule = rule(
    "reserved-fails",
    Fail,
    Config,
    "per-function verdicts of reserved functions",
    "a function reserved for ppt fails a pass-through gate",
    "unreserve it (pptctl unreserve SELECTOR; on SmartOS with --boot-media DIR) or fix the cause",
);
