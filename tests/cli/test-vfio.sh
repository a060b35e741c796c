# The vfio plugin through the CLI, over a fixture sysfs under --root (this host has no IOMMU):
# the exact crosvm argv for both flavours (`print` runs no preflight) and the stand-in crosvm
# accepting it, the QEMU rendering, `check` over several group shapes (every problem in one
# report, exit 4), a start/stop with a device already on vfio-pci, a failed rebind that is
# undone, and every malformed value (exit 3, one line naming file:line).
. "$(dirname "$0")/lib.sh"

R="$T/root"
# configuration is read under the root as well: link it there
mkdir -p "$R$(dirname "$CONF")" "$R$TOP"
ln -s "$CONF" "$R$CONF"
ln -s "$TOP/conf.d" "$R$TOP/conf.d"
# this plugin and the core only: the other shipped drop-ins are masked
for f in "$TOP"/conf.d/*.conf; do
        [ "$(basename "$f")" = 50-vfio.conf ] || ln -s /dev/null "$CONF/conf.d/$(basename "$f")"
done

vroot() {
        "$VMSILO" --root "$R" "$@"
}

# mkdev BDF CLASS GROUP|- DRIVER|-: a device in the layout of the real sysfs
mkdev() {
        d="$R/sys/devices/pci0000:00/$1"
        mkdir -p "$d"
        echo "$2" >"$d/class"
        echo "(null)" >"$d/driver_override"
        ln -sfn "../../../devices/pci0000:00/$1" "$R/sys/bus/pci/devices/$1"
        if [ "$3" != - ]; then
                mkdir -p "$R/sys/kernel/iommu_groups/$3/devices"
                ln -sfn "../../../../devices/pci0000:00/$1" "$R/sys/kernel/iommu_groups/$3/devices/$1"
                ln -sfn "../../../kernel/iommu_groups/$3" "$d/iommu_group"
        fi
        rm -f "$d/driver"
        if [ "$4" != - ]; then
                mkdir -p "$R/sys/bus/pci/drivers/$4"
                : >"$R/sys/bus/pci/drivers/$4/bind"
                : >"$R/sys/bus/pci/drivers/$4/unbind"
                ln -s "../../../bus/pci/drivers/$4" "$d/driver"
                if [ "$4" = vfio-pci ] && [ "$3" != - ]; then : >"$R/dev/vfio/$3"; fi
        fi
}

mkdir -p "$R/sys/bus/pci/devices" "$R/sys/bus/pci/drivers/vfio-pci" "$R/sys/kernel/iommu_groups" \
        "$R/dev/vfio"
: >"$R/sys/bus/pci/drivers_probe"
: >"$R/dev/vfio/vfio"
chmod 666 "$R/dev/vfio/vfio"
mkdev 0000:00:01.0 0x060400 7 pcieport
mkdev 0000:01:00.0 0x030000 7 vfio-pci
mkdev 0000:01:00.1 0x040300 7 snd_hda_intel
mkdev 0000:03:00.0 0x020000 9 e1000e
DEV1="$R/sys/devices/pci0000:00/0000:01:00.1"

printf '[vfio]\nreserve = 0000:01:00.1\n' >"$CONF/conf.d/60-vfio.conf"
make_vm gpu
cat >>"$CONF/vms/gpu.conf" <<EOS
[vfio gpu]
device = 1:0.0
guest-address = 0:5.0
iommu = viommu
[vfio audio]
device = /sys/bus/pci/devices/0000:01:00.1
EOS

# --- print: the exact argv, for both flavours ---------------------------------------------
for flavour in upstream patched; do
        use_crosvm "$flavour"
        expect 0 vroot print --json gpu
        jq -r '.argv[]' "$T/out" >"$T/argv"
        {
                echo "$T/crosvm"
                echo "--log-level=info"
                echo "--no-syslog"
                [ "$flavour" = patched ] && echo "--no-timestamps"
                echo "run"
                echo "--name=gpu"
                echo "--mem=1024"
                echo "--cpus=2"
                echo "--hugepages"
                echo "--balloon-page-reporting"
                echo "--boost-uclamp"
                echo "--disable-virtio-intx"
                echo "--no-i8042"
                echo "--no-rtc"
                echo "--s2idle"
                echo "--core-scheduling=true"
                echo "--initrd=$T/img/initrd"
                if [ "$flavour" = patched ]; then
                        echo "--serial=type=unix-stream,hardware=virtio-console,path=$RUN/gpu/console-backend.sock,console,input-unix-stream,stream-non-blocking"
                else
                        echo "--serial=type=unix-stream,hardware=virtio-console,path=$RUN/gpu/console-backend.sock,console,input-unix-stream"
                fi
                echo "--block=path=$T/img/root.img,ro=true,root=true,packed-queue=true,direct=true"
                echo "--params=systemd.hostname=gpu"
                echo "--vsock=cid=3"
                # the real sysfs path, never the --root one
                echo "--vfio=/sys/bus/pci/devices/0000:01:00.0,guest-address=00:05.0,iommu=viommu"
                echo "--vfio=/sys/bus/pci/devices/0000:01:00.1"
                echo "--socket=$RUN/gpu/control.sock"
                echo "$T/img/vmlinuz"
        } >"$T/want"
        diff -u "$T/want" "$T/argv" || fail "$flavour: argv differs"

        jq -r '.steps[]' "$T/out" >"$T/steps"
        echo "vfio: bind PCI device '0000:01:00.1' (IOMMU group 7) to vfio-pci, taking it from 'snd_hda_intel' (given back at stop)" >"$T/want"
        diff -u "$T/want" "$T/steps" || fail "$flavour: plan steps differ"

        # the stand-in crosvm enforces crosvm's grammar for --vfio and exits at once
        set +e
        # shellcheck disable=SC2046 # one argv element per line, none with blanks
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD='' sh -c '"$@"' sh $(cat "$T/argv") 2>"$T/err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "$flavour: crosvm grammar rejects the argv ($rc)"; }
done
# print changed nothing on the (fixture) host
[ "$(cat "$DEV1/driver_override")" = "(null)" ] || fail "print wrote driver_override"
[ ! -s "$R/sys/bus/pci/drivers_probe" ] || fail "print wrote drivers_probe"
[ "$(basename "$(readlink "$DEV1/driver")")" = snd_hda_intel ] || fail "print rebound the device"
[ ! -e "$RUN/gpu" ] || fail "print created run state"

# --- QEMU renders the same devices by address ---------------------------------------------
cp "$CONF/vms/gpu.conf" "$CONF/vms/gq.conf"
printf '[vm]\nvmm = qemu\n' >>"$CONF/vms/gq.conf"
expect 0 vroot print --json gq
jq -r '.argv[]' "$T/out" | grep -A1 -x -- -device | grep '^vfio-pci' >"$T/qemu-vfio"
printf 'vfio-pci,host=0000:01:00.0\nvfio-pci,host=0000:01:00.1\n' >"$T/want"
diff -u "$T/want" "$T/qemu-vfio" || fail "qemu: vfio devices differ"
err_has "vfio: 'guest-address' and 'iommu' cannot be given to this VMM (the qemu backend does not place VFIO devices at a guest address), ignoring"
rm "$CONF/vms/gq.conf"

# --- check over the fixture groups --------------------------------------------------------
use_crosvm upstream
expect 0 vroot check gpu
out_has "VM 'gpu': all preflight checks passed"

# every problem of a VM in one report: a peer on a host driver, a device on a host driver that
# is not reserved, a device that does not exist, a device in no group
make_vm bad
mkdev 0000:04:00.0 0x020000 - -
cat >>"$CONF/vms/bad.conf" <<EOS
[vfio gpu]
device = 01:00.0
[vfio nic]
device = 03:00.0
[vfio ghost]
device = 0a:00.0
[vfio nogroup]
device = 04:00.0
EOS
expect 4 vroot check bad
err_has "vfio: PCI device '0000:01:00.0' ([vfio gpu], IOMMU group 7) shares its group with '0000:01:00.1', which is bound to 'snd_hda_intel': pass '0000:01:00.1' to this VM too, unbind it, or bind it to vfio-pci"
err_has "vfio: PCI device '0000:03:00.0' ([vfio nic], IOMMU group 9) is bound to 'e1000e', not vfio-pci: add it to 'reserve' in [vfio] so that it is rebound at start, or bind it to vfio-pci"
err_has "vfio: PCI device '0000:0a:00.0' of [vfio ghost] does not exist: no '$R/sys/bus/pci/devices/0000:0a:00.0'"
err_has "vfio: PCI device '0000:04:00.0' of [vfio nogroup] is in no IOMMU group"
err_has "4 preflight checks failed for VM 'bad'"
[ "$(grep -c '^vfio: \|vfio: ' "$T/err")" -eq 4 ] || { cat "$T/err" >&2; fail "expected 4 vfio errors"; }
# start refuses with the same report and changes nothing
expect 4 vroot start bad
err_has "shares its group with '0000:01:00.1', which is bound to 'snd_hda_intel'"
assert_no_run_state

# the IOMMU disabled: one error, not one per device
mv "$R/sys/kernel/iommu_groups" "$T/groups.off"
mkdir "$R/sys/kernel/iommu_groups"
expect 4 vroot check gpu
err_has "vfio: the IOMMU is not enabled: '$R/sys/kernel/iommu_groups' is empty; enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on or amd_iommu=on"
[ "$(grep -c 'vfio: ' "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "expected one vfio error"; }
rmdir "$R/sys/kernel/iommu_groups"
mv "$T/groups.off" "$R/sys/kernel/iommu_groups"

# --- start/stop with devices already on vfio-pci: nothing to change on the host -----------
mkdev 0000:01:00.1 0x040300 7 vfio-pci
: >"$FAKE_CROSVM_RECORD"
expect 0 vroot start gpu
grep '"run"' "$FAKE_CROSVM_RECORD" | tail -n 1 | jq -r '.[]' | grep -- '^--vfio' >"$T/ran"
printf '%s\n' "--vfio=/sys/bus/pci/devices/0000:01:00.0,guest-address=00:05.0,iommu=viommu" \
        "--vfio=/sys/bus/pci/devices/0000:01:00.1" >"$T/want"
diff -u "$T/want" "$T/ran" || fail "started argv has other --vfio flags"
expect 0 vroot stop gpu
assert_no_run_state
assert_no_processes
[ "$(cat "$DEV1/driver_override")" = "(null)" ] || fail "start/stop wrote driver_override"

# --- a reserved device the (fixture) kernel does not rebind: prepare fails, undo runs ------
mkdev 0000:01:00.1 0x040300 7 snd_hda_intel
expect 1 vroot start gpu
err_has "vfio: failed to bind PCI device '0000:01:00.1' to vfio-pci: it is bound to 'snd_hda_intel' (see the kernel log)"
# prepare wrote override, unbind, probe; the journalled undo cleared the override again
[ "$(cat "$R/sys/bus/pci/drivers/snd_hda_intel/unbind")" = 0000:01:00.1 ] || fail "no unbind written"
[ "$(cat "$R/sys/bus/pci/drivers_probe")" = 0000:01:00.1 ] || fail "no drivers_probe written"
[ "$(cat "$DEV1/driver_override")" = "" ] || fail "undo did not clear driver_override"
assert_no_run_state
assert_no_processes

# --- malformed values: exit 3, one line naming file:line ------------------------------------
rm "$CONF/conf.d/60-vfio.conf"
VMF="$CONF/vms/web.conf"
check_error() {
        make_vm web
        printf '%s\n' "$1" >>"$VMF"
        expect 3 "$VMSILO" print web
        err_has "$2"
        [ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for: $1"; }
        assert_no_run_state
}
BDF_HELP="expected a PCI address such as 0000:01:00.0 or 01:00.0, or its sysfs path such as /sys/bus/pci/devices/0000:01:00.0"
check_error '[vfio gpu]
device = 01:00' "$VMF:8: vfio: invalid value '01:00' for 'device' in [vfio gpu]: $BDF_HELP"
check_error '[vfio gpu]
device = 0000:01:20.0' "$VMF:8: vfio: invalid value '0000:01:20.0' for 'device' in [vfio gpu]: $BDF_HELP"
check_error '[vfio gpu]
device = 01:00.8' "$VMF:8: vfio: invalid value '01:00.8' for 'device' in [vfio gpu]: $BDF_HELP"
check_error '[vfio gpu]
device = /etc/0000:01:00.0' "$VMF:8: vfio: invalid value '/etc/0000:01:00.0' for 'device' in [vfio gpu]: $BDF_HELP"
check_error '[vfio gpu]
device = 01:00.0
iommu = on' "$VMF:9: vfio: invalid value 'on' for 'iommu' in [vfio gpu]: expected off, viommu, coiommu or pkvm-iommu"
check_error '[vfio gpu]
guest-address = 00:20.0' "$VMF:8: vfio: invalid value '00:20.0' for 'guest-address' in [vfio gpu]: expected BUS:DEV.FN in hex such as 00:05.0 (bus up to ff, device up to 1f, function up to 7)"
check_error '[vfio gpu]
guest-address = 0001:00:05.0' "$VMF:8: vfio: invalid value '0001:00:05.0' for 'guest-address' in [vfio gpu]"
check_error '[vfio gpu]
reserve = 01:00.0' "$VMF:8: vfio: 'reserve' belongs in [vfio] (without a name), not in [vfio gpu]"
check_error '[vfio]
device = 01:00.0' "$VMF:8: vfio: 'device' belongs in a named section [vfio NAME], not in [vfio]"
check_error '[vfio gpu]
colour = red' "$VMF:8: unknown key 'colour' in section [vfio gpu]"
# cross-key rules are configuration errors too, at the section's line
check_error '[vfio gpu]
iommu = off' "$VMF:8: vfio: [vfio gpu] has no 'device ='"
check_error '[vfio a]
device = 01:00.0
[vfio b]
device = 0000:01:00.0' "$VMF:10: vfio: PCI device '0000:01:00.0' is passed twice to this VM: in [vfio a] and [vfio b]"

# a bad reserve item in a global drop-in names that file and line
make_vm web
printf '[vfio]\n# devices for VMs\nreserve = 0000:01:00.0 zz\n' >"$CONF/conf.d/60-vfio.conf"
expect 3 "$VMSILO" print web
err_has "$CONF/conf.d/60-vfio.conf:3: vfio: invalid value 'zz' for 'reserve' in [vfio]: expected PCI addresses such as 0000:01:00.0 or 01:00.0 (or sysfs paths), separated by spaces or commas"
[ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for a bad reserve"; }
rm "$CONF/conf.d/60-vfio.conf"
assert_no_processes
