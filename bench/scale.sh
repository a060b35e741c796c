#!/bin/sh
# Scale: N QEMU VMs (default 20) started at once, a `run` in each, all stopped at once.
# Reports wall times, the VMs that failed, and what is left (run dirs, processes). Measures,
# does not judge. Needs the test guest (scripts/build-guest.sh); no root.
# Usage: bench/scale.sh [N]
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
N=${1:-20}
make -s all
scripts/build-guest.sh build/guest >/dev/null
B="$TOP/build/bench-scale"
rm -rf "$B"
mkdir -p "$B/etc/vms" "$B/run" "$B/cache" "$B/state"
export VMSILO_CONF_PATH="$B/etc:$TOP" VMSILO_RUNTIME_DIR="$B/run" VMSILO_CACHE_DIR="$B/cache"
export VMSILO_STATE_DIR="$B/state" VMSILO_PLUGIN_DIR="$TOP/build/plugins"
V="$TOP/build/vmsilo-core"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
# all CMD [OPTS]: `CMD OPTS NAME` (run: `run NAME true`) for every VM at once; prints how
# many failed
all() {
        cmd=$1
        shift
        pids=""
        for i in $(seq "$N"); do
                if [ "$cmd" = run ]; then
                        "$V" -q run "s$i" true >"$B/$cmd-$i.log" 2>&1 &
                else
                        "$V" -q "$cmd" "$@" "s$i" >"$B/$cmd-$i.log" 2>&1 &
                fi
                pids="$pids $!"
        done
        failed=0
        for p in $pids; do wait "$p" || failed=$((failed + 1)); done
        echo "$failed"
}

for i in $(seq "$N"); do
        cat >"$B/etc/vms/s$i.conf" <<EOS
[vm]
vmm = qemu
memory = 192
cpus = 1
kernel = $TOP/build/guest/vmlinuz
initrd = $TOP/build/guest/initrd.gz
[overlay]
type = off
EOS
done

t0=$(now)
fails=$(all start --timeout 60)
t_start=$(since "$t0")

t0=$(now)
rfails=$(all run)
t_run=$(since "$t0")

t0=$(now)
sfails=$(all stop --timeout 60)
t_stop=$(since "$t0")

left=$(ls -A "$B/run" | wc -l)
procs=$(pgrep -f "$B/run/" | wc -l || true)
echo "scale: $N VMs"
echo "  start all at once: ${t_start} s ($fails failed)"
echo "  run true in each:  ${t_run} s ($rfails failed)"
echo "  stop all at once:  ${t_stop} s ($sfails failed)"
echo "  left: $left run dirs, $procs processes"
