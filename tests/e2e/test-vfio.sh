# The vfio plugin's checks, prepare and undo against real IOMMU groups: a q35 guest with an
# emulated intel-iommu runs the plugin's own code (tests/guest/vfio: vfio-check, static, with
# the mock host) over its sysfs. Devices (addresses fixed below): an e1000 alone and unbound,
# a virtio device alone on virtio-pci, two virtio functions of one slot sharing a group, a
# virtio device behind a root port without ACS (the port, a bridge on pcieport, shares its
# group), and the ICH9 functions (one group, no driver). A second boot without an IOMMU.
. "$(dirname "$0")/lib.sh"

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not installed"
OUT="$BUILD/guest-vfio"
sh "$TOP/tests/guest/vfio/build-initrd.sh" "$GUEST" "$OUT" || fail "building the vfio test initramfs"

# boot NAME APPEND QEMU-ARGS...: serial log in $T/NAME.log; a hang is a failure
boot() {
        name=$1
        append=$2
        shift 2
        set +e
        timeout 60 qemu-system-x86_64 -accel tcg -m 256M -smp 1 -nodefaults -no-user-config \
                -display none -monitor none -no-reboot -serial "file:$T/$name.log" \
                -kernel "$GUEST/vmlinuz" -initrd "$OUT/initrd.gz" \
                -append "console=ttyS0 quiet panic=-1 $append" "$@" >"$T/$name.qemu" 2>&1
        rc=$?
        set -e
        tr -d '\r' <"$T/$name.log" >"$T/$name.txt"
        if [ "$rc" -ne 0 ] || ! grep -q '^VFIO-TEST-DONE' "$T/$name.txt"; then
                cat "$T/$name.qemu" "$T/$name.txt" >&2
                fail "$name: the guest did not finish (qemu exit $rc)"
        fi
        if grep -q '^VFIO-TEST-ERROR' "$T/$name.txt"; then
                cat "$T/$name.txt" >&2
                fail "$name: the guest could not set up"
        fi
}

LOG=
# section NAME: the output of guest step NAME (without BEGIN/END)
section() {
        sed -n "/^BEGIN $1\$/,/^END $1 rc=/p" "$LOG" | sed '1d;$d'
}

# step_is NAME RC: step NAME ended with RC
step_is() {
        grep -qx "END $1 rc=$2" "$LOG" || { cat "$LOG" >&2; fail "step '$1' did not end with rc=$2"; }
}

# has NAME TEXT: the output of step NAME has a line containing TEXT (fixed string)
has() {
        section "$1" | grep -qF -- "$2" || { section "$1" >&2; fail "step '$1' lacks: $2"; }
}

# errors_are NAME N: step NAME logged exactly N errors
errors_are() {
        n=$(section "$1" | grep -c '^error: ' || true)
        [ "$n" -eq "$2" ] || { section "$1" >&2; fail "step '$1' logged $n errors, expected $2"; }
}

# state_is BDF TEXT: the last STATE line of BDF before step $3 (or at the end) is TEXT
state_after() {
        sed -n "/^END $1 rc=/,\$p" "$LOG" | grep -m1 "^STATE $2 " | cut -d' ' -f3-
}

group_of() {
        grep "^GROUP $1 " "$LOG" | cut -d' ' -f3
}

boot iommu "intel_iommu=on" -machine q35,kernel-irqchip=split \
        -device intel-iommu,intremap=on,caching-mode=on \
        -netdev user,id=nn,restrict=on -device e1000,netdev=nn,addr=01.0 \
        -device virtio-rng-pci,addr=04.0 \
        -device virtio-rng-pci,addr=05.0,multifunction=on -device virtio-rng-pci,addr=05.1 \
        -device pcie-root-port,id=rp1,chassis=1,addr=06.0,disable-acs=on \
        -device virtio-rng-pci,bus=rp1
LOG="$T/iommu.txt"

# the shapes the test relies on
g04=$(group_of 0000:00:04.0)
g05=$(group_of 0000:00:05.0)
g10=$(group_of 0000:01:00.0)
if [ -z "$g04" ] || [ -z "$g05" ] || [ -z "$g10" ]; then
        cat "$LOG" >&2
        fail "no IOMMU groups in the guest"
fi
[ "$(group_of 0000:00:05.1)" = "$g05" ] || fail "05.0 and 05.1 do not share a group"
[ "$(group_of 0000:00:06.0)" = "$g10" ] || fail "the root port and 01:00.0 do not share a group"
[ "$(grep -c " $g04\$" "$LOG")" -eq 1 ] || fail "00:04.0 is not alone in its group"
grep -qx "STATE 0000:00:05.1 driver=virtio-pci group=$g05 override=(null) node=absent" "$LOG" ||
        fail "05.1 is not on virtio-pci"

# preflight over real groups
step_is alone-reserved 0
has alone-reserved "result: ok"
errors_are alone-reserved 0
step_is alone-not-reserved 1
has alone-not-reserved "error: PCI device '0000:00:04.0' ([vfio dev0], IOMMU group $g04) is bound to 'virtio-pci', not vfio-pci: add it to 'reserve' in [vfio]"
errors_are alone-not-reserved 1
step_is shared 1
has shared "error: PCI device '0000:00:05.0' ([vfio dev0], IOMMU group $g05) shares its group with '0000:00:05.1', which is bound to 'virtio-pci': pass '0000:00:05.1' to this VM too, unbind it, or bind it to vfio-pci"
errors_are shared 1
step_is shared-both 0
step_is bridge 0
errors_are bridge 0
step_is ich9 0
errors_are ich9 0
step_is missing 1
has missing "error: PCI device '0000:00:1e.0' of [vfio dev0] does not exist: no '/sys/bus/pci/devices/0000:00:1e.0'"

# prepare: the kernel rebinds the device, its group node appears
step_is prepare 0
has prepare "step: bind PCI device '0000:01:00.0' (IOMMU group $g10) to vfio-pci, taking it from 'virtio-pci' (given back at stop)"
has prepare "undo: rebind 0000:01:00.0 virtio-pci"
has prepare "device: /sys/bus/pci/devices/0000:01:00.0"
[ "$(state_after prepare 0000:01:00.0)" = "driver=vfio-pci group=$g10 override=vfio-pci node=present" ] ||
        fail "after prepare: $(state_after prepare 0000:01:00.0)"
step_is bound 0
errors_are bound 0

# a process holds the group: check and undo refuse, naming it
holder=$(sed -n 's/^HOLDER //p' "$LOG")
step_is busy 1
has busy "error: IOMMU group $g10 of PCI device '0000:01:00.0' ([vfio dev0]) is in use: '/dev/vfio/$g10' is open in process $holder ('sleep')"
step_is undo-busy 1
has undo-busy "error: cannot give PCI device '0000:01:00.0' back: its IOMMU group $g10 is still open in process $holder ('sleep')"
[ "$(state_after undo-busy 0000:01:00.0)" = "driver=vfio-pci group=$g10 override=vfio-pci node=present" ] ||
        fail "undo while busy changed the device: $(state_after undo-busy 0000:01:00.0)"

# undo, in a process that never prepared: back on virtio-pci, override cleared, node gone
step_is undo 0
has undo "info: gave PCI device '0000:01:00.0' back to 'virtio-pci'"
[ "$(state_after undo 0000:01:00.0)" = "driver=virtio-pci group=$g10 override=(null) node=absent" ] ||
        fail "after undo: $(state_after undo 0000:01:00.0)"
step_is undo-again 0
[ "$(state_after undo-again 0000:01:00.0)" = "driver=virtio-pci group=$g10 override=(null) node=absent" ] ||
        fail "after a second undo: $(state_after undo-again 0000:01:00.0)"

# an unbound device is bound for the VM and unbound again
g01=$(group_of 0000:00:01.0)
step_is prepare-unbound 0
has prepare-unbound "undo: rebind 0000:00:01.0 -"
[ "$(state_after prepare-unbound 0000:00:01.0)" = "driver=vfio-pci group=$g01 override=vfio-pci node=present" ] ||
        fail "after prepare of 00:01.0: $(state_after prepare-unbound 0000:00:01.0)"
step_is undo-unbound 0
[ "$(state_after undo-unbound 0000:00:01.0)" = "driver=- group=$g01 override=(null) node=absent" ] ||
        fail "after undo of 00:01.0: $(state_after undo-unbound 0000:00:01.0)"

# no IOMMU: one error saying so
boot noiommu "vfiotest=noiommu" -machine q35 -device virtio-rng-pci,addr=04.0
LOG="$T/noiommu.txt"
step_is noiommu 1
has noiommu "error: the IOMMU is not enabled: '/sys/kernel/iommu_groups' is empty; enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on or amd_iommu=on"
errors_are noiommu 1
grep -qx "STATE 0000:00:04.0 driver=virtio-pci group=- override=(null) node=absent" "$LOG" ||
        fail "no-IOMMU guest: 00:04.0 changed"

if pgrep -f "qemu-system-x86_64 .*$OUT/initrd.gz" >/dev/null; then
        fail "qemu left running"
fi
assert_no_run_state
assert_no_processes
