#!/bin/sh
# Distro guests: boot-to-run-ready of the Debian 12 and Debian 13 test guests (the images
# tests/run-distro.sh builds in build/distro), i.e. from `vmsilo-core start` until the first
# `vmsilo-core run NAME true` that answers (the guest's systemd has started the agent);
# also until networkd has the guest's address, and `stop` (ACPI power button to the VM's
# end). Same VM as tests/distro: QEMU (TCG here), 1 vCPU, 1 GiB, one tap, one virtiofs share,
# root disk read-write. Medians of RUNS boots per guest; this measures, it does not judge.
# The stop comes right after the guest answers ping: a guest still booting (systemd-logind not
# up yet) ignores the ACPI power button, and `stop` then ends it hard after its 120 s timeout;
# that shows up as a stop of about 120 s (seen on Debian 13 under a loaded TCG host).
# Needs root (tap, virtiofsd).
# Usage: bench/distro-boot.sh [RUNS]     (default 3; DISTRO_SUITES="bookworm trixie")
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
RUNS=${1:-3}
SUITES=${DISTRO_SUITES:-"bookworm trixie"}
D="$TOP/build/distro"
for s in $SUITES; do
        [ -f "$D/$s/root.img" ] || { echo "distro-boot: no $s image in $D: run tests/run-distro.sh first" >&2; exit 1; }
done
make -s all
B="$TOP/build/bench-distro"
rm -rf "$B"
mkdir -p "$B/etc/vms" "$B/etc/conf.d" "$B/run" "$B/cache" "$B/share"
export VMSILO_CONF_PATH="$B/etc:$TOP" VMSILO_RUNTIME_DIR="$B/run" VMSILO_CACHE_DIR="$B/cache"
export VMSILO_PLUGIN_DIR="$TOP/build/plugins"
V="$TOP/build/vmsilo-core"
NS=vmsilo-bench-$$
ip netns add "$NS"
trap 'for d in "$B"/run/*/; do [ -d "$d" ] && ip netns exec "$NS" "$V" stop --timeout 5 "$(basename "$d")" >/dev/null 2>&1; done; ip netns del "$NS"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now_ms() { date +%s%3N; }

for s in $SUITES; do
        vm=bench-$s
        : >"$B/$s.ready"
        : >"$B/$s.net"
        : >"$B/$s.stop"
        for i in $(seq "$RUNS"); do
                cp --sparse=always "$D/$s/root.img" "$B/$vm.img"
                cat >"$B/etc/vms/$vm.conf" <<EOS
[vm]
vmm = qemu
memory = 1024
cpus = 1
kernel = $D/$s/vmlinuz
initrd = $D/$s/initrd.img
root-disk = $B/$vm.img
root-disk-read-only = no
[overlay]
type = off
[net lan0]
address = 10.99.0.2/24
host-address = 10.99.0.1/24
[virtiofs]
virtiofsd = /usr/lib/qemu/virtiofsd
[virtiofs data]
path = $B/share
mount-point = /srv/data
EOS
                t0=$(now_ms)
                ip netns exec "$NS" "$V" start "$vm" >/dev/null 2>&1
                ip netns exec "$NS" "$V" run "$vm" true
                t1=$(now_ms)
                until ip netns exec "$NS" busybox ping -c 1 -W 1 10.99.0.2 >/dev/null 2>&1; do
                        [ $(($(now_ms) - t1)) -lt 120000 ] || break
                done
                t2=$(now_ms)
                ip netns exec "$NS" "$V" stop --timeout 120 "$vm" >/dev/null 2>&1
                t3=$(now_ms)
                echo $((t1 - t0)) >>"$B/$s.ready"
                echo $((t2 - t0)) >>"$B/$s.net"
                echo $((t3 - t2)) >>"$B/$s.stop"
                echo "distro-boot: $s run $i: run-ready $((t1 - t0)) ms, pingable $((t2 - t0)) ms, stop $((t3 - t2)) ms"
        done
        rm -f "$B/$vm.img"
        echo "distro-boot: $s: median of $RUNS: boot-to-run-ready $(median <"$B/$s.ready") ms, to pingable $(median <"$B/$s.net") ms, stop $(median <"$B/$s.stop") ms"
done
