#!/bin/sh
# Cycles: N start/run/stop cycles (default 100) of one QEMU VM, then N runs in one running VM.
# Reports wall times (median, max per cycle) and growth: the supervisor's open fds and RSS
# (first vs last cycle, and before vs after the N runs in one life), this host's open fds of
# the bench's processes, and what is left. Measures, does not judge. No root.
# Usage: bench/cycles.sh [N]
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
N=${1:-100}
make -s all
scripts/build-guest.sh build/guest >/dev/null
B="$TOP/build/bench-cycles"
rm -rf "$B"
mkdir -p "$B/etc/vms" "$B/run" "$B/cache" "$B/state"
export VMSILO_CONF_PATH="$B/etc:$TOP" VMSILO_RUNTIME_DIR="$B/run" VMSILO_CACHE_DIR="$B/cache"
export VMSILO_STATE_DIR="$B/state" VMSILO_PLUGIN_DIR="$TOP/build/plugins"
V="$TOP/build/vmsilo-core"
cat >"$B/etc/vms/cy.conf" <<EOS
[vm]
vmm = qemu
memory = 192
cpus = 1
kernel = $TOP/build/guest/vmlinuz
initrd = $TOP/build/guest/initrd.gz
[overlay]
type = off
EOS
now_ms() { echo $(($(date +%s%N) / 1000000)); }
sup_fds() { ls "/proc/$(cut -d' ' -f1 "$B/run/cy/supervisor.pid")/fd" | wc -l; }
sup_rss() { awk '/^VmRSS/ {print $2}' "/proc/$(cut -d' ' -f1 "$B/run/cy/supervisor.pid")/status"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: >"$B/cycle.ms"
for i in $(seq "$N"); do
        t0=$(now_ms)
        "$V" -q start cy
        "$V" -q run cy true
        [ "$i" != 1 ] || { f1=$(sup_fds); r1=$(sup_rss); }
        [ "$i" != "$N" ] || { fN=$(sup_fds); rN=$(sup_rss); }
        "$V" -q stop cy
        echo $(($(now_ms) - t0)) >>"$B/cycle.ms"
done
"$V" -q start cy
"$V" -q run cy true
fa=$(sup_fds)
ra=$(sup_rss)
t0=$(now_ms)
for i in $(seq "$N"); do "$V" -q run cy true; done
t_runs=$(($(now_ms) - t0))
fb=$(sup_fds)
rb=$(sup_rss)
"$V" -q stop cy
echo "cycles: $N x (start, run true, stop) of one VM"
echo "  per cycle: median $(median <"$B/cycle.ms") ms, max $(sort -n "$B/cycle.ms" | tail -n 1) ms"
echo "  supervisor fds: cycle 1 $f1, cycle $N $fN; RSS: cycle 1 ${r1} KiB, cycle $N ${rN} KiB"
echo "  $N runs in one life: $t_runs ms; supervisor fds $fa -> $fb, RSS ${ra} -> ${rb} KiB"
echo "  left: $(ls -A "$B/run" | wc -l) run dirs, $(pgrep -f "$B/run/" | wc -l || true) processes"
