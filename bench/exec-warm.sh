#!/bin/sh
# Benchmark of `exec` from a template (the default) against a boot, in one invocation:
#   - `vmsilo-core exec true` restored from its template (built once before, not timed),
#   - `vmsilo-core exec --cold true` (a boot),
#   - qemu-system-x86_64 booting the same kernel and initramfs directly to `true`
#     (vmsilo.cmd=true, exec's memory and cpus), the baseline of both ratios,
# medians of RUNS runs each, interleaved so that load on the machine hits all three alike;
# then the memory one restored VM costs: RSS of its QEMU (anonymous, file, shared) and the
# blocks allocated by its private RAM copy (counted in RssShmem once QEMU touches them).
# No thresholds: this measures, it does not judge. Needs root (virtiofsd).
# Usage: bench/exec-warm.sh [RUNS]   (default 7)
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
RUNS=${1:-7}

make -s all
scripts/build-guest.sh build/guest >/dev/null
B="$TOP/build/bench-exec"
rm -rf "$B"
mkdir -p "$B/etc" "$B/run" "$B/cache"
cc -O2 -o "$B/now-ns" bench/now-ns.c
export VMSILO_CONF_PATH="$B/etc:$TOP" VMSILO_RUNTIME_DIR="$B/run" VMSILO_CACHE_DIR="$B/cache"
export VMSILO_PLUGIN_DIR="$TOP/build/plugins"
V="$TOP/build/vmsilo-core"
K="$TOP/build/guest/vmlinuz"
I="$TOP/build/guest/initrd.gz"
X="$V exec -q --kernel $K --initrd $I"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.1f", ns / 1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
timed() { # timed FILE CMD...: appends the wall time of CMD in ns to FILE
        f=$1
        shift
        t0=$("$B/now-ns")
        "$@" >/dev/null 2>&1 || true
        echo $(($("$B/now-ns") - t0)) >>"$f"
}

# exec's memory and cpus, as the template and the restored VMs have them
mem=$(awk '/exec_memory_mib = /{gsub(/[^0-9]/, ""); print; exit}' core/config/vmconf.c)
cpus=$(awk '/exec_cpus = /{gsub(/[^0-9]/, ""); print; exit}' core/config/vmconf.c)
$V exec --prepare --kernel "$K" --initrd "$I" >/dev/null
: >"$B/warm"
: >"$B/cold"
: >"$B/qemu"
for i in $(seq "$RUNS"); do
        timed "$B/warm" $X true
        timed "$B/cold" $X --cold true
        timed "$B/qemu" qemu-system-x86_64 -accel tcg -machine pc -m "${mem}M" -smp "$cpus" \
                -nodefaults -no-user-config -display none -no-reboot -serial null \
                -kernel "$K" -initrd "$I" -append "console=ttyS0 panic=-1 vmsilo.cmd=true"
done
warm=$(median <"$B/warm")
cold=$(median <"$B/cold")
qemu=$(median <"$B/qemu")

# the memory of one restored VM, while its script sleeps
$X 'sleep 6' >/dev/null 2>&1 &
pid=""
for _ in $(seq 100); do
        pid=$(pgrep -f "qemu-system-x86_64 -name exec-.*$B/run/" | head -n 1) || true
        [ -n "$pid" ] && [ -n "$(ls "$B/run"/exec-*/agent.sock 2>/dev/null)" ] && break
        sleep 0.1
done
sleep 3
rss=$(awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ {printf "%s %s kB  ", $1, $2}' "/proc/$pid/status")
ram_kib=0
for fd in /proc/"$pid"/fd/*; do
        case "$(readlink "$fd")" in
        /dev/shm/*"(deleted)") ram_kib=$(($(stat -L -c '%b * %B' "$fd") / 1024)) ;;
        esac
done
vmrss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
tpl_kib=$(du -k "$B"/cache/exec-template-*/ram | cut -f1)
wait

echo "exec 'true' (median of $RUNS, QEMU TCG, ${mem} MiB, $cpus cpus):"
echo "  vmsilo-core exec (restored)      $(ms "$warm") ms"
echo "  vmsilo-core exec --cold          $(ms "$cold") ms"
echo "  qemu-system-x86_64 directly      $(ms "$qemu") ms (same kernel and initramfs, vmsilo.cmd=true)"
echo "  ratio restored/qemu              $(ratio "$warm" "$qemu")"
echo "  ratio cold/qemu                  $(ratio "$cold" "$qemu")"
echo "memory of one restored VM (its script sleeping):"
echo "  qemu                             $rss"
echo "  private RAM copy allocated       $ram_kib KiB (of $((mem * 1024)) KiB; template file $tpl_kib KiB)"
echo "  qemu RSS + RAM copy not in RSS   at most $((vmrss + ram_kib)) KiB"
