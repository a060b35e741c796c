#!/bin/sh
# Benchmarks, each against a baseline measured in the same run; medians of repeated runs,
# reported as ratios. No thresholds: this measures, it does not judge.
#   (a) boot: `vmsilo-core start --foreground` of a VM whose guest runs `true` and powers
#       off, against qemu-system-x86_64 started directly with the same argv.
#   (b) launch overhead: invocation of `vmsilo-core start` until the VMM is exec'd, with
#       every shipped plugin enabled, against a shell script that removes the stale control
#       socket and execs the same argv (what vmsilo generates per VM).
#   (c) run: round trip of `vmsilo-core run NAME true` on a running VM, against a
#       baseline of `sh -c true` on the host (the floor of spawning a command at all), and
#       stdout throughput of `run NAME` streaming 200 MB out of the guest, against the same
#       bytes going through one pipe inside the guest (under TCG the guest's CPU, not the
#       channel, is the limit, so the in-guest pipe is the fair baseline).
#   (d) exec: wall time of `vmsilo-core exec true` (restored from its template, built here
#       before the runs; /usr over virtiofs, bash, stop) against QEMU booting the same kernel
#       and initramfs directly to run `true` (the baseline of (a)). Needs root (virtiofsd).
#       bench/exec-warm.sh compares restored, --cold and QEMU at exec's own memory and cpus,
#       and reports the memory of a restored VM.
# Usage: bench/run.sh [BOOT_RUNS] [LAUNCH_RUNS] [RUN_RUNS]   (defaults 7, 41 and 51)
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
BOOT_RUNS=${1:-7}
LAUNCH_RUNS=${2:-41}
RUN_RUNS=${3:-51}

make -s all build/fake-crosvm
scripts/build-guest.sh build/guest >/dev/null
B="$TOP/build/bench"
rm -rf "$B"
mkdir -p "$B/etc/vms" "$B/run" "$B/state" "$B/cache"
cc -O2 -o "$B/stamp-exec" bench/stamp-exec.c
cc -O2 -o "$B/now-ns" bench/now-ns.c

export VMSILO_CONF_PATH="$B/etc:$TOP" VMSILO_RUNTIME_DIR="$B/run" VMSILO_CACHE_DIR="$B/cache"
export VMSILO_PLUGIN_DIR="$TOP/build/plugins"
V="$TOP/build/vmsilo-core"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns / 1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# ---- (a) boot to guest userspace and back
cat >"$B/etc/vms/boot.conf" <<EOS
[vm]
vmm = qemu
memory = 256
cpus = 1
kernel = $TOP/build/guest/vmlinuz
initrd = $TOP/build/guest/initrd.gz
kernel-params = vmsilo.cmd=true
[overlay]
type = off
EOS
"$V" print --json boot | jq -r '.argv[]' >"$B/qemu.argv"
: >"$B/boot.vmsilo"
: >"$B/boot.qemu"
for i in $(seq "$BOOT_RUNS"); do
        t0=$("$B/now-ns")
        "$V" -q start --foreground boot
        t1=$("$B/now-ns")
        echo $((t1 - t0)) >>"$B/boot.vmsilo"

        mkdir -p "$B/run/boot"
        t0=$("$B/now-ns")
        xargs -d '\n' -a "$B/qemu.argv" sh -c '"$0" "$@" >/dev/null 2>&1'
        t1=$("$B/now-ns")
        rm -rf "$B/run/boot"
        echo $((t1 - t0)) >>"$B/boot.qemu"
done
boot_v=$(median <"$B/boot.vmsilo")
boot_q=$(median <"$B/boot.qemu")

# ---- (b) launcher overhead until the VMM's exec
cat >"$B/crosvm" <<EOS
#!/bin/sh
exec "$B/stamp-exec" "$TOP/build/fake-crosvm" "\$@"
EOS
chmod +x "$B/crosvm"
: >"$B/img"
cat >"$B/etc/vms/launch.conf" <<EOS
[vm]
kernel = $B/img
initrd = $B/img
root-disk = $B/img
[crosvm]
path = $B/crosvm
[overlay]
type = raw
size = 1G
directory = $B/state
EOS
for p in build/plugins/*.so; do
        printf '[plugin %s]\nenable = yes\n' "$(basename "$p" .so)"
done >"$B/etc/conf.d-all.conf"
mkdir -p "$B/etc/conf.d" && mv "$B/etc/conf.d-all.conf" "$B/etc/conf.d/99-all.conf"
"$V" print --json launch | jq -r '.argv[]' >"$B/launch.argv"
{
        echo '#!/bin/sh'
        echo "rm -f '$B/run/launch/control.sock'"
        printf 'exec'
        while IFS= read -r a; do printf " '%s'" "$a"; done <"$B/launch.argv"
        echo
} >"$B/plain.sh"
chmod +x "$B/plain.sh"
"$V" -q start launch && "$V" -q stop launch # warm the probe cache

: >"$B/launch.vmsilo"
: >"$B/launch.plain"
for i in $(seq "$LAUNCH_RUNS"); do
        rm -f "$B/stamp"
        t0=$("$B/now-ns")
        STAMP_FILE="$B/stamp" "$V" -q start launch
        echo $(($(cat "$B/stamp") - t0)) >>"$B/launch.vmsilo"
        "$V" -q stop --timeout 5 launch

        rm -f "$B/stamp"
        mkdir -p "$B/run/launch"
        (
                t0=$("$B/now-ns")
                echo "$t0" >"$B/t0"
                STAMP_FILE="$B/stamp" FAKE_CROSVM_EXIT=0 exec "$B/plain.sh" 2>/dev/null
        ) || true
        echo $(($(cat "$B/stamp") - $(cat "$B/t0"))) >>"$B/launch.plain"
        rm -rf "$B/run/launch"
done
launch_v=$(median <"$B/launch.vmsilo")
launch_p=$(median <"$B/launch.plain")

# ---- (c) run round trip and throughput, on the boot VM kept running
sed -i '/kernel-params = vmsilo.cmd=true/d' "$B/etc/vms/boot.conf"
"$V" -q start boot
"$V" run boot true
: >"$B/run.vmsilo"
: >"$B/run.host"
for i in $(seq "$RUN_RUNS"); do
        t0=$("$B/now-ns")
        "$V" run boot true
        t1=$("$B/now-ns")
        echo $((t1 - t0)) >>"$B/run.vmsilo"
        t0=$("$B/now-ns")
        sh -c true
        t1=$("$B/now-ns")
        echo $((t1 - t0)) >>"$B/run.host"
done
run_v=$(median <"$B/run.vmsilo")
run_h=$(median <"$B/run.host")
: >"$B/tp.vmsilo"
: >"$B/tp.local"
for i in 1 2 3; do
        t0=$("$B/now-ns")
        "$V" run boot head -c 200000000 /dev/zero >/dev/null
        t1=$("$B/now-ns")
        echo $((t1 - t0)) >>"$B/tp.vmsilo"
        t0=$("$B/now-ns")
        "$V" run boot sh -c 'head -c 200000000 /dev/zero | cat >/dev/null'
        t1=$("$B/now-ns")
        echo $((t1 - t0)) >>"$B/tp.local"
done
"$V" -q stop boot
tp_v=$(median <"$B/tp.vmsilo")
tp_l=$(median <"$B/tp.local")

# ---- (d) exec
"$V" exec --prepare --kernel "$TOP/build/guest/vmlinuz" --initrd "$TOP/build/guest/initrd.gz" >/dev/null
: >"$B/exec.vmsilo"
for i in $(seq "$BOOT_RUNS"); do
        t0=$("$B/now-ns")
        "$V" exec -q --kernel "$TOP/build/guest/vmlinuz" --initrd "$TOP/build/guest/initrd.gz" true
        t1=$("$B/now-ns")
        echo $((t1 - t0)) >>"$B/exec.vmsilo"
done
exec_v=$(median <"$B/exec.vmsilo")

echo "boot to guest userspace and power-off (median of $BOOT_RUNS, QEMU TCG):"
echo "  vmsilo-core start --foreground   $(ms "$boot_v") ms"
echo "  qemu-system-x86_64 directly      $(ms "$boot_q") ms"
echo "  ratio vmsilo/qemu                $(ratio "$boot_v" "$boot_q")"
echo "launch overhead, invocation to the VMM's exec (median of $LAUNCH_RUNS, plugins: $(cd build/plugins && ls *.so | tr "\n" " "))"
echo "  vmsilo-core start                $(ms "$launch_v") ms"
echo "  shell script exec                $(ms "$launch_p") ms"
echo "  ratio vmsilo/script              $(ratio "$launch_v" "$launch_p")"
echo "run round trip, 'run NAME true' on a running VM (median of $RUN_RUNS):"
echo "  vmsilo-core run                  $(ms "$run_v") ms"
echo "  sh -c true on the host           $(ms "$run_h") ms"
echo "  ratio                            $(ratio "$run_v" "$run_h")"
echo "stdout throughput, 200 MB (median of 3):"
echo "  vmsilo-core run                  $(awk -v ns="$tp_v" 'BEGIN {printf "%.0f", 200e6 / ns * 1e9 / 1048576}') MiB/s"
echo "  in-guest pipe (same bytes)       $(awk -v ns="$tp_l" 'BEGIN {printf "%.0f", 200e6 / ns * 1e9 / 1048576}') MiB/s"
echo "  ratio of times run/in-guest      $(ratio "$tp_v" "$tp_l")"
echo "exec 'true' (median of $BOOT_RUNS):"
echo "  vmsilo-core exec                 $(ms "$exec_v") ms"
echo "  qemu-system-x86_64 directly      $(ms "$boot_q") ms (same kernel and initramfs, vmsilo.cmd=true)"
echo "  ratio                            $(ratio "$exec_v" "$boot_q")"
