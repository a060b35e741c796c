#!/bin/sh
# PID 1 of the VFIO test guest (tests/guest/vfio/build-initrd.sh): loads vfio-pci and
# virtio-pci, runs the vfio plugin's own code (vfio-check) against the real IOMMU groups and
# prints every step between "BEGIN name" and "END name rc=N" on the serial console, for
# tests/e2e/test-vfio.sh to judge. `vfiotest=noiommu` on the command line: the scenario for a
# machine without an IOMMU. Ends with "VFIO-TEST-DONE" and a power-off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
        insmod "/lib/modules/$m" || echo "VFIO-TEST-ERROR insmod $m failed"
done </lib/modules/order

step() {
        name=$1
        shift
        echo "BEGIN $name"
        "$@" 2>&1
        echo "END $name rc=$?"
}

# driver, group, driver_override and group node of a device, one line
state() {
        d=/sys/bus/pci/devices/$1
        drv=-
        [ -L "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
        grp=-
        [ -L "$d/iommu_group" ] && grp=$(basename "$(readlink "$d/iommu_group")")
        node=absent
        [ -e "/dev/vfio/$grp" ] && node=present
        echo "STATE $1 driver=$drv group=$grp override=$(cat "$d/driver_override") node=$node"
}

# the action vfio-check registered in the output of step $1
undo_of() {
        sed -n "/^BEGIN $1\$/,/^END $1 /s/^undo: //p" /tmp/log
}

run() {
        if grep -q vfiotest=noiommu /proc/cmdline; then
                step noiommu vfio-check -r 0000:00:04.0 check 0000:00:04.0
                state 0000:00:04.0
                return
        fi
        for g in /sys/kernel/iommu_groups/*; do
                for d in "$g"/devices/*; do
                        echo "GROUP $(basename "$d") $(basename "$g")"
                done
        done
        for b in 0000:00:01.0 0000:00:04.0 0000:00:05.0 0000:00:05.1 0000:01:00.0; do
                state $b
        done
        # preflight over the real groups
        step alone-reserved vfio-check -r 0000:00:04.0 check 0:4.0
        step alone-not-reserved vfio-check check 0000:00:04.0
        step shared vfio-check -r 0000:00:05.0 check 0000:00:05.0
        step shared-both vfio-check -r 0:5.0 -r 00:05.1 check 00:05.0 /sys/bus/pci/devices/0000:00:05.1
        step bridge vfio-check -r 01:00.0 check 01:00.0
        step ich9 vfio-check -r 00:1f.3 check 00:1f.3
        step missing vfio-check check 00:1e.0

        # prepare takes 01:00.0 from virtio-pci; the undo, in another process, gives it back
        step prepare vfio-check -r 0000:01:00.0 prepare 01:00.0
        state 0000:01:00.0
        grp=$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/iommu_group)")
        step bound vfio-check check 01:00.0
        # another process holds the group: check and undo both refuse, naming it
        sleep 600 <>"/dev/vfio/$grp" &
        holder=$!
        echo "HOLDER $holder"
        sleep 0.2
        step busy vfio-check check 01:00.0
        step undo-busy vfio-check undo "$(undo_of prepare)"
        state 0000:01:00.0
        kill $holder
        wait $holder 2>/dev/null
        step undo vfio-check undo "$(undo_of prepare)"
        state 0000:01:00.0
        step undo-again vfio-check undo "$(undo_of prepare)"
        state 0000:01:00.0

        # an unbound device: bound for the VM, unbound again afterwards
        step prepare-unbound vfio-check -r 00:01.0 prepare 00:01.0
        state 0000:00:01.0
        step undo-unbound vfio-check undo "$(undo_of prepare-unbound)"
        state 0000:00:01.0
}

run 2>&1 | tee /tmp/log
echo "VFIO-TEST-DONE"
poweroff -f
