//! ioctl numbers and argument structures for the illumos drivers pptctl
//! talks to: the devinfo driver (snapshots), the ppt driver (config space
//! of pass-through functions) and the PCI nexus `reg` minor (pcitool).
//!
//! These are plain data so they compile, and are size/offset checked, on
//! every Unix. [`crate::live`] issues the calls (compiled on every Unix,
//! called only on illumos) through the typed [`Request`] constants below,
//! so a call cannot pair a request code with another argument type, and
//! the tests here check exactly the codes and layouts those calls use.
//! Facts from illumos-gate `usr/src/uts/common/sys/devinfo_impl.h`,
//! `usr/src/uts/intel/sys/ppt_dev.h` and `usr/src/uts/common/sys/pci_tools.h`
//! (docs/illumos.md).

use std::ffi::c_void;
use std::marker::PhantomData;

/// An ioctl request code tied to the type its argument points at.
#[derive(Debug)]
pub struct Request<T> {
    code: i32,
    arg: PhantomData<fn(*mut T)>,
}

impl<T> Clone for Request<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Request<T> {}

impl<T> Request<T> {
    /// A request whose argument is a `*mut T`.
    pub const fn new(code: i32) -> Self {
        Request {
            code,
            arg: PhantomData,
        }
    }

    /// The request code.
    pub const fn code(self) -> i32 {
        self.code
    }

    /// Size of the argument the kernel reads or writes (for a buffer
    /// request, of one element).
    pub const fn arg_size(self) -> usize {
        std::mem::size_of::<T>()
    }
}

/// Take a snapshot of the whole tree: [`DinfoIo`] in; returns `map_size`.
pub const SNAPSHOT: Request<DinfoIo> = Request::new(DINFOCPYALL);
/// Copy the snapshot out into a byte buffer of at least `map_size`
/// rounded up to a page.
pub const SNAPSHOT_COPY_OUT: Request<u8> = Request::new(DINFOUSRLD);
/// Read one config-space value through `/dev/pptN`.
pub const PPT_CONFIG_READ: Request<PptCfgIo> = Request::new(PPT_CFG_READ);
/// Read one register through the PCI nexus `reg` minor.
pub const PCITOOL_READ: Request<PcitoolReg> = Request::new(PCITOOL_DEVICE_GET_REG);

/// devinfo ioctl base, `0xdf << 8`.
pub const DIIOC: i32 = 0xdf << 8;
/// Snapshot bit: include the subtree.
pub const DINFOSUBTREE: i32 = DIIOC | 0x01;
/// Snapshot bit: include minor nodes.
pub const DINFOMINOR: i32 = DIIOC | 0x02;
/// Snapshot bit: include properties.
pub const DINFOPROP: i32 = DIIOC | 0x04;
/// Snapshot bit: include multipath information.
pub const DINFOPATH: i32 = DIIOC | 0x08;
/// Snapshot bit: force-load all drivers (privileged).
pub const DINFOFORCE: i32 = DIIOC | 0x20;
/// Copy the snapshot just taken out to user memory; returns the copied
/// length (`map_size` rounded up to a page).
pub const DINFOUSRLD: i32 = DIIOC | 0x80;
/// Identify the driver: returns [`DI_MAGIC`].
pub const DINFOIDENT: i32 = DIIOC | 0x82;
/// Snapshot bit: serve the snapshot from `/etc/devices/snapshot_cache`.
pub const DINFOCACHE: i32 = DIIOC | 0x10_0000;
/// Subtree, properties and minors: what `di_init(.., DINFOCPYALL)` asks for.
pub const DINFOCPYALL: i32 = DINFOSUBTREE | DINFOPROP | DINFOMINOR;
/// What [`DINFOIDENT`] returns.
pub const DI_MAGIC: i32 = 0xdfdf;
/// The devinfo driver's node; `devinfo,ro` is the unprivileged minor.
pub const DEVINFO_NODE: &str = "/devices/pseudo/devinfo@0:devinfo";
/// The read-only devinfo minor for unprivileged callers.
pub const DEVINFO_RO_NODE: &str = "/devices/pseudo/devinfo@0:devinfo,ro";

/// `struct di_priv_data`: private-data formats (none requested here).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DiPrivData {
    /// Format version (0: none).
    pub version: i32,
    /// Number of parent formats.
    pub n_parent: i32,
    /// Number of driver formats.
    pub n_driver: i32,
    /// Parent formats.
    pub parent: *mut c_void,
    /// Driver formats.
    pub driver: *mut c_void,
}

/// `struct dinfo_io`: the argument of a snapshot ioctl.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct DinfoIo {
    /// Root of the snapshot, NUL-terminated (`/`).
    pub root_path: [u8; 1024],
    /// Private-data request.
    pub priv_data: DiPrivData,
}

impl DinfoIo {
    /// A request for the whole tree from `/`.
    pub fn whole_tree() -> Self {
        let mut root_path = [0u8; 1024];
        root_path[0] = b'/';
        DinfoIo {
            root_path,
            priv_data: DiPrivData {
                version: 0,
                n_parent: 0,
                n_driver: 0,
                parent: std::ptr::null_mut(),
                driver: std::ptr::null_mut(),
            },
        }
    }
}

/// ppt ioctl base, `('P' << 16) | ('T' << 8)`; the commands are plain
/// integers, not `_IOWR`-encoded.
pub const PPT_IOC: i32 = (b'P' as i32) << 16 | (b'T' as i32) << 8;
/// Read config space: [`PptCfgIo`] in/out.
pub const PPT_CFG_READ: i32 = PPT_IOC | 0x01;
/// Write config space: [`PptCfgIo`] in.
pub const PPT_CFG_WRITE: i32 = PPT_IOC | 0x02;
/// Query a BAR: [`PptBarQuery`] in/out.
pub const PPT_BAR_QUERY: i32 = PPT_IOC | 0x03;
/// Read an I/O BAR: [`PptBarIo`] in/out.
pub const PPT_BAR_READ: i32 = PPT_IOC | 0x04;
/// Write an I/O BAR: [`PptBarIo`] in.
pub const PPT_BAR_WRITE: i32 = PPT_IOC | 0x05;

/// `struct ppt_cfg_io`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PptCfgIo {
    /// Config-space offset.
    pub pci_off: u64,
    /// Access width: 1, 2 or 4.
    pub pci_width: u32,
    /// The value read or to write.
    pub pci_data: u32,
}

/// `struct ppt_bar_io`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PptBarIo {
    /// BAR index.
    pub pbi_bar: u32,
    /// Offset inside the BAR.
    pub pbi_off: u32,
    /// Access width: 1, 2 or 4.
    pub pbi_width: u32,
    /// The value.
    pub pbi_data: u32,
}

/// `struct ppt_bar_query`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PptBarQuery {
    /// BAR index (0..=5).
    pub pbq_baridx: u32,
    /// 1275 space code (`0x01000000` I/O, `0x02000000` MEM32, `0x03000000` MEM64).
    pub pbq_type: u32,
    /// Base address.
    pub pbq_base: u64,
    /// Size.
    pub pbq_size: u64,
}

/// pcitool ioctl base, `('P' << 24) | ('C' << 16) | ('T' << 8)`.
pub const PCITOOL_IOC: i32 = (b'P' as i32) << 24 | (b'C' as i32) << 16 | (b'T' as i32) << 8;
/// Read a device register through the nexus `reg` minor: [`PcitoolReg`].
pub const PCITOOL_DEVICE_GET_REG: i32 = PCITOOL_IOC | 1;
/// Userland version sent in [`PcitoolReg::user_version`] (`PCITOOL_VERSION`, v2).
pub const PCITOOL_VERSION: u16 = 2;
/// `barnum` for config space.
pub const PCITOOL_CONFIG: u8 = 0;
/// `acc_attr` for a 4-byte little-endian access.
pub const PCITOOL_ACC_ATTR_SIZE_4: u32 = 0x2;

/// `pcitool_reg_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PcitoolReg {
    /// Userland version, to the kernel.
    pub user_version: u16,
    /// Driver version, from the kernel.
    pub drvr_version: u16,
    /// Bus.
    pub bus_no: u8,
    /// Device.
    pub dev_no: u8,
    /// Function.
    pub func_no: u8,
    /// 0 = config space, 1..6 = BARs, 7 = ROM.
    pub barnum: u8,
    /// Offset.
    pub offset: u64,
    /// Access size and endianness.
    pub acc_attr: u32,
    /// Alignment padding.
    pub padding1: u32,
    /// The value.
    pub data: u64,
    /// pcitool status, from the kernel.
    pub status: u32,
    /// Alignment padding.
    pub padding2: u32,
    /// Physical address, from the kernel.
    pub phys_addr: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn numbers() {
        assert_eq!(PPT_IOC, 0x50_5400);
        assert_eq!(PPT_CFG_READ, 0x50_5401);
        assert_eq!(PPT_BAR_WRITE, 0x50_5405);
        assert_eq!(DINFOUSRLD, 0xdf80);
        assert_eq!(DINFOCPYALL, 0xdf07);
        assert_eq!(DINFOCACHE, 0x10_df00);
        assert_eq!(PCITOOL_DEVICE_GET_REG, 0x5043_5401);
    }

    /// The typed requests the live code calls carry the checked codes and
    /// the checked argument types (sizes as in `*_layout` below).
    #[test]
    fn requests_used_by_the_live_code() {
        assert_eq!(
            (SNAPSHOT.code(), SNAPSHOT.arg_size()),
            (0xdf07, size_of::<DinfoIo>())
        );
        assert_eq!(
            (SNAPSHOT_COPY_OUT.code(), SNAPSHOT_COPY_OUT.arg_size()),
            (0xdf80, 1)
        );
        assert_eq!(
            (PPT_CONFIG_READ.code(), PPT_CONFIG_READ.arg_size()),
            (0x50_5401, 16)
        );
        assert_eq!(
            (PCITOOL_READ.code(), PCITOOL_READ.arg_size()),
            (0x5043_5401, 48)
        );
    }

    #[test]
    fn ppt_layouts() {
        assert_eq!(size_of::<PptCfgIo>(), 16);
        assert_eq!(offset_of!(PptCfgIo, pci_width), 8);
        assert_eq!(offset_of!(PptCfgIo, pci_data), 12);
        assert_eq!(size_of::<PptBarIo>(), 16);
        assert_eq!(offset_of!(PptBarIo, pbi_data), 12);
        assert_eq!(size_of::<PptBarQuery>(), 24);
        assert_eq!(offset_of!(PptBarQuery, pbq_base), 8);
        assert_eq!(offset_of!(PptBarQuery, pbq_size), 16);
    }

    #[test]
    fn pcitool_layout() {
        assert_eq!(size_of::<PcitoolReg>(), 48);
        assert_eq!(offset_of!(PcitoolReg, bus_no), 4);
        assert_eq!(offset_of!(PcitoolReg, barnum), 7);
        assert_eq!(offset_of!(PcitoolReg, offset), 8);
        assert_eq!(offset_of!(PcitoolReg, acc_attr), 16);
        assert_eq!(offset_of!(PcitoolReg, data), 24);
        assert_eq!(offset_of!(PcitoolReg, status), 32);
        assert_eq!(offset_of!(PcitoolReg, phys_addr), 40);
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn dinfo_io_layout() {
        assert_eq!(size_of::<DiPrivData>(), 32);
        assert_eq!(offset_of!(DiPrivData, parent), 16);
        assert_eq!(size_of::<DinfoIo>(), 1056);
        assert_eq!(offset_of!(DinfoIo, priv_data), 1024);
        assert_eq!(DinfoIo::whole_tree().root_path[..2], *b"/\0");
    }
}
