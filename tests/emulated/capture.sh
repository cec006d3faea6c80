#!/bin/sh
# Captures the PCI part of sysfs from real Linux kernels running in QEMU
# (TCG, no KVM needed) into cli/tests/data/emulated/<machine>.tar.gz, the
# fixtures of cli/tests/emulated_machines.rs. Not run by CI: the fixtures are
# committed. Needs (Debian 12): qemu-system-x86 linux-image-amd64 busybox-static.
#
#   sh tests/emulated/capture.sh [machine...]   # default: all machines
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/cli/tests/data/emulated
kver=${KVER:-$(ls /lib/modules | sort -V | tail -n 1)}
kernel=/boot/vmlinuz-$kver
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# --- initramfs: static busybox, the init script, and the few modules that
# bind drivers (nvme gives SR-IOV VFs through sriov_numvfs)
ird=$work/initramfs
mkdir -p "$ird/bin" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/out" "$ird/lib/modules/$kver"
cp /bin/busybox "$ird/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$ird/bin/$a"; done
cp "$here/init" "$ird/init"
chmod +x "$ird/init"
mods="nvme virtio_pci virtio_net e1000e e1000 ahci"
echo "$mods" | tr ' ' '\n' > "$ird/modules.load"
md=/lib/modules/$kver
for m in $mods; do
    for f in $(modprobe -S "$kver" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
        mkdir -p "$ird$(dirname "$f")"
        cp "$f" "$ird$f"
    done
done
cp "$md/modules.dep" "$md/modules.alias" "$md/modules.order" "$md/modules.builtin" "$ird$md/" 2>/dev/null || true
(cd "$ird" && find . | cpio -o -H newc --quiet) | gzip -1 > "$work/initrd.gz"

# --- machines
machine_args() {
    case "$1" in
    q35)
        # PCIe switch behind a root port, NVMe PF with SR-IOV, xHCI, a
        # pcie-pci-bridge with conventional devices, a second root bus
        # (pxb-pcie), legacy devices, an integrated endpoint and a multifunction
        # device on the root complex, intel-iommu groups
        echo "-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on
          -device VGA
          -device pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x4
          -device x3130-upstream,id=up1,bus=rp1
          -device xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=1
          -device xio3130-downstream,id=dn2,bus=up1,chassis=3,slot=2
          -device virtio-net-pci,bus=dn1,netdev=n0 -netdev user,id=n0
          -device e1000e,bus=dn2,netdev=n1 -netdev user,id=n1
          -device pcie-root-port,id=rp2,chassis=4,slot=3,bus=pcie.0,addr=0x5
          -device nvme-subsys,id=subsys0
          -device nvme,bus=rp2,serial=deadbeef,subsys=subsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=4
          -device pcie-root-port,id=rp3,chassis=5,slot=4,bus=pcie.0,addr=0x6
          -device nec-usb-xhci,bus=rp3
          -device pcie-pci-bridge,id=ppb,bus=pcie.0,addr=0x7
          -device lsi53c895a,bus=ppb,addr=0x1
          -device ES1370,bus=ppb,addr=0x2,audiodev=snd0
          -device pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0,addr=0x8
          -device pcie-root-port,id=rp4,chassis=6,slot=5,bus=pxb1
          -device virtio-rng-pci,bus=rp4
          -device rtl8139,bus=pcie.0,addr=0x9,netdev=n2 -netdev user,id=n2
          -audiodev none,id=snd0 -device AC97,bus=pcie.0,addr=0xa,audiodev=snd0
          -device ich9-ahci,bus=pcie.0,addr=0xb
          -device e1000e,bus=pcie.0,addr=0xc,netdev=n3 -netdev user,id=n3
          -device virtio-net-pci,bus=pcie.0,addr=0xd.0,multifunction=on,netdev=n4 -netdev user,id=n4
          -device virtio-rng-pci,bus=pcie.0,addr=0xd.1
          -device e1000,bus=pcie.0,addr=0xe,netdev=n5 -netdev user,id=n5" ;;
    q35-cxl)
        # CXL host bridge, two CXL root ports, a type-3 memory device
        # directly and one behind a CXL switch
        echo "-machine q35,cxl=on -m 512M,slots=4,maxmem=4G
          -object memory-backend-ram,id=cm0,size=256M
          -object memory-backend-ram,id=cl0,size=256M
          -object memory-backend-ram,id=cm1,size=256M
          -object memory-backend-ram,id=cl1,size=256M
          -device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
          -device cxl-rp,port=0,bus=cxl.1,id=crp0,chassis=0,slot=2
          -device cxl-type3,bus=crp0,memdev=cm0,lsa=cl0,id=cxl-pmem0
          -device cxl-rp,port=1,bus=cxl.1,id=crp1,chassis=0,slot=3
          -device cxl-upstream,bus=crp1,id=us0
          -device cxl-downstream,port=0,bus=us0,id=swport0,chassis=0,slot=4
          -device cxl-type3,bus=swport0,memdev=cm1,lsa=cl1,id=cxl-pmem1
          -M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
          -device virtio-net-pci,bus=pcie.0,netdev=n0 -netdev user,id=n0" ;;
    pc)
        # i440fx: legacy PCI devices without MSI, a pci-bridge and a second
        # root bus (pxb) with devices behind them
        echo "-machine pc -device VGA
          -audiodev none,id=snd0 -device AC97,audiodev=snd0 -device ES1370,audiodev=snd0
          -device rtl8139,netdev=n0 -netdev user,id=n0
          -device lsi53c895a
          -device e1000,netdev=n1 -netdev user,id=n1
          -device virtio-net-pci,netdev=n2 -netdev user,id=n2
          -device nec-usb-xhci -device ich9-ahci
          -device pci-bridge,id=br1,chassis_nr=1
          -device rtl8139,bus=br1,addr=0x3,netdev=n3 -netdev user,id=n3
          -device pxb,id=pxb0,bus_nr=0x40,bus=pci.0
          -device virtio-rng-pci,bus=pxb0,addr=0x1
          -device lsi53c895a,bus=pxb0,addr=0x2" ;;
    *) echo "unknown machine $1" >&2; return 1 ;;
    esac
}

for m in ${*:-q35 q35-cxl pc}; do
    echo "== $m"
    rm -f "$work/serial1" "$work/console"
    # shellcheck disable=SC2046
    timeout 600 qemu-system-x86_64 -accel tcg -nodefaults -nographic -no-reboot -m 512M \
        -kernel "$kernel" -initrd "$work/initrd.gz" \
        -append "console=ttyS0 intel_iommu=on quiet panic=-1" \
        -serial "file:$work/console" -serial "file:$work/serial1" \
        $(machine_args "$m") || { cat "$work/console"; exit 1; }
    grep "^capture:" "$work/console" || tail -n 40 "$work/console"
    rm -rf "$work/tree" && mkdir "$work/tree"
    tr -d '\r' < "$work/serial1" | base64 -d | gzip -d | tar xf - -C "$work/tree"
    # deterministic ustar (keeps symlinks; paths split by ustar's prefix field)
    (cd "$work/tree" && tar --format=ustar --sort=name --owner=0 --group=0 --numeric-owner \
        --mtime=@0 -cf - .) | gzip -9n > "$out/$m.tar.gz"
    echo "$m: $(ls "$work/tree/bus/pci/devices" | wc -l) functions, $(wc -c < "$out/$m.tar.gz") bytes"
done
