#!/bin/sh
# Benchmarks of issue 16, each against a baseline measured in the same run; medians of
# repeated runs, interleaved so that load on the machine hits a figure and its baseline alike,
# reported as figures and ratios. No thresholds: this measures, it does not judge.
#   (a) boot: `vmsilo-core start --foreground` of a VM whose guest runs `true` and powers
#       off, against qemu-system-x86_64 started directly with the same argv.
#   (b) launch overhead: invocation of `vmsilo-core start` until the VMM is exec'd, with
#       every shipped plugin enabled, against a shell script that removes the stale control
#       socket and execs the same argv (what vmsilo generates per VM).
#   (c) on one running VM (`chan`) that also has a bench-only virtio-console port,
#       org.vmsilo.bench, on a unix socket (through `[qemu] extra-args`; the guest end is
#       /bin/vmsilo-portbench of the test guest, the host end bench/portbench.c):
#       - `run chan true` against its floor, measured in the same rounds = client start-up
#         (`vmsilo-core --version`: exec, dynamic linking and argument parsing of the same
#         binary, the least any invocation costs; what `run` does beyond it is overhead) + the
#         guest's own spawn of `true` (vfork+execvp+waitpid in a loop in the guest, median per
#         iteration, as the agent spawns) + a 1-byte echo over the raw port;
#       - throughput with `dd bs=1M`: `run chan dd` guest -> host (stdout) and host -> guest
#         (stdin), the same bytes through an in-guest pipe (`dd | dd`, via one `run`, so both
#         carry one run's start-up), and the raw port in both directions (1 MiB writes);
#       - throughput against write size: the raw port at writes of 4K..1M, and `run chan dd
#         bs=SIZE` guest -> host (the agent's frames are at most VMSILO_PROTO_MAX_PAYLOAD, a
#         compile-time constant, and as large as one read of the command's pipe);
#       - frame-size hook (bench/README.md): only when the build honors it, `run` at several
#         frame sizes, one VM each, started with VMSILO_FRAME_SIZE=N in the environment of
#         `start` and `run` and the kernel parameter vmsilo.frame-size=N.
#   (d) exec: `vmsilo-core exec true` (restored from its template, built here before the runs)
#       and `exec --cold true`, against QEMU booting the same kernel and initramfs at exec's
#       memory and cpus with the same virtio-fs share (a real virtiofsd sharing /usr read-only,
#       mounted at /usr by the guest, which then runs exec's own guest wrapper: bash from the
#       share runs `true`). Needs root (virtiofsd).
# Figures go to stdout and, one `key value` a line, to $BUILD/bench/results (bench/report
# makes a Markdown table and a plot of them).
# Usage: bench/run.sh [--quick] [BOOT_RUNS] [LAUNCH_RUNS] [RUN_RUNS]
#   (defaults 7, 41 and 51; --quick: a smoke run of every part with few iterations and small
#   byte counts, for `make check-bench`; it checks that the bench works, never a timing)
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
QUICK=0
if [ "${1:-}" = --quick ]; then
        QUICK=1
        shift
fi
if [ "$QUICK" = 1 ]; then
        BOOT_RUNS=${1:-1} LAUNCH_RUNS=${2:-3} RUN_RUNS=${3:-3}
        TP_RUNS=1 TP_MIB=8 SWEEP_RUNS=1 SWEEP_MIB=2 ECHOES=50 SPAWNS=5
        SWEEP_SIZES="4K 64K 1M" FRAME_SIZES="16K 64K"
else
        BOOT_RUNS=${1:-7} LAUNCH_RUNS=${2:-41} RUN_RUNS=${3:-51}
        TP_RUNS=5 TP_MIB=200 SWEEP_RUNS=3 SWEEP_MIB=64 ECHOES=5000 SPAWNS=200
        SWEEP_SIZES="4K 16K 64K 256K 1M" FRAME_SIZES="4K 16K 64K 256K"
fi
TIMEOUT=300 # any one transfer or command; a hang fails the bench instead of stalling it
# any one boot. A TCG guest hangs now and then (seen here: a soft lockup in the kernel's
# crypto self-tests with 2 vCPUs): such a sample is killed, reported, counted in the results
# as `hangs` and taken again, at most twice; it is a guest's hang, not the launcher's time
BOOT_TIMEOUT=120

BUILD=${BUILD:-build}
O="$TOP/$BUILD"
make -s BUILD="$BUILD" all "$BUILD/fake-crosvm"
scripts/build-guest.sh "$O/guest" >/dev/null
B="$O/bench"
mountpoint -q "$B/run" 2>/dev/null && umount "$B/run" # left by an interrupted run
rm -rf "$B"
mkdir -p "$B/etc/vms" "$B/run" "$B/state" "$B/vmstate" "$B/cache"
# The runtime dir on a tmpfs, as vmsilo's are (/run/vmsilo, $XDG_RUNTIME_DIR/vmsilo): on a
# disk, every start would also pay the disk's metadata writes and the journal's fsync. The
# state dir (logs, overlays) stays on the disk, as /var/lib/vmsilo does. Without root it
# stays on the disk, and the results say so.
RUNTIME_FS=disk
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o mode=0755 vmsilo-bench "$B/run"; then
        RUNTIME_FS=tmpfs
fi
cc -O2 -o "$B/stamp-exec" bench/stamp-exec.c
cc -O2 -o "$B/now-ns" bench/now-ns.c
cc -O2 -o "$B/portbench" bench/portbench.c
cc -O2 -o "$B/timeit" bench/timeit.c

export VMSILO_CONF_PATH="$B/etc:$TOP" VMSILO_RUNTIME_DIR="$B/run" VMSILO_CACHE_DIR="$B/cache"
export VMSILO_STATE_DIR="$B/vmstate" VMSILO_PLUGIN_DIR="$O/plugins"
V="$O/vmsilo-core"
K="$O/guest/vmlinuz"
I="$O/guest/initrd.gz"
PORT="$B/port.sock"
R="$B/results"
: >"$R"

# Everything this run starts is stopped on the way out: its VMs (by name, in its own runtime
# dir), and its background processes (by pid).
BG_PIDS=""
PART="set-up"
cleanup() {
        rc=$?
        [ "$rc" = 0 ] || echo "bench/run.sh: failed in $PART (exit $rc)" >&2
        for p in $BG_PIDS; do
                kill "$p" 2>/dev/null || true
        done
        for vm in $(ls "$B/run" 2>/dev/null); do
                [ -d "$B/run/$vm" ] || continue
                timeout 30 "$V" -q stop --timeout 5 "$vm" >/dev/null 2>&1 || true
        done
        wait
        [ "$RUNTIME_FS" != tmpfs ] || umount "$B/run" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { awk -v ns="$1" 'BEGIN {printf "%.2f", ns / 1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
bytes() { # 4K -> 4096
        awk -v s="$1" 'BEGIN {n = s + 0; u = substr(s, length(s))
                print n * (u == "K" ? 1024 : u == "M" ? 1048576 : 1)}'
}
mibs() { awk -v b="$1" -v ns="$2" 'BEGIN {printf "%.0f", b / ns * 1e9 / 1048576}'; } # BYTES NS
result() { echo "$1 $2" >>"$R"; } # KEY VALUE, for bench/report
val() { awk -v k="$1" '$1 == k {print $2}' "$R"; } # the VALUE of KEY
now() { "$B/now-ns"; }
# timed FILE CMD...: appends the wall time of CMD in ns to FILE (CMD's output discarded),
# measured by bench/timeit.c around fork and wait only: no spawn of a clock or of timeout(1)
# inside the sample, which would dilute every ratio of two fast commands
timed() {
        f=$1
        shift
        "$B/timeit" -t "$TIMEOUT" "$@" >>"$f"
}
HANGS=0
# boot_sample FILE CMD...: timed, with the hang handling of BOOT_TIMEOUT; after a hang,
# the last lines of $CONSOLE (when set) show where the guest stopped
boot_sample() {
        f=$1
        shift
        for try in 1 2 3; do
                rc=0
                "$B/timeit" -t "$BOOT_TIMEOUT" "$@" >"$B/sample" || rc=$?
                if [ "$rc" = 0 ]; then
                        cat "$B/sample" >>"$f"
                        return 0
                fi
                if [ "$rc" != 124 ]; then
                        echo "bench: '$*' failed (exit $rc)" >&2
                        return "$rc"
                fi
                HANGS=$((HANGS + 1))
                echo "bench: '$*' hung, killed after $BOOT_TIMEOUT s (try $try of 3)" >&2
                [ -z "${CONSOLE:-}" ] || tail -n 3 "$CONSOLE" | cut -c1-160 >&2
        done
        return 1
}
# port OP...: runs the raw-port ops, appending each one's ns to $B/port.OP
port() {
        timeout "$TIMEOUT" "$B/portbench" "$PORT" "$@" >"$B/port.out"
        while read -r op ns; do
                echo "$ns" >>"$B/port.$op"
        done <"$B/port.out"
}

result mode "$([ "$QUICK" = 1 ] && echo quick || echo full)"
result runtime_fs "$RUNTIME_FS"
result boot_runs "$BOOT_RUNS"
result launch_runs "$LAUNCH_RUNS"
result run_runs "$RUN_RUNS"
result tp_runs "$TP_RUNS"
result tp_mib "$TP_MIB"
result sweep_runs "$SWEEP_RUNS"
result sweep_mib "$SWEEP_MIB"

# ---- (a) boot to guest userspace and back
PART="(a) boot"
cat >"$B/etc/vms/boot.conf" <<EOS
[vm]
vmm = qemu
memory = 256
cpus = 1
kernel = $K
initrd = $I
kernel-params = vmsilo.cmd=true
[overlay]
type = off
EOS
"$V" print --json boot | jq -r '.argv[]' >"$B/qemu.argv"
: >"$B/boot.vmsilo"
: >"$B/boot.qemu"
for i in $(seq "$BOOT_RUNS"); do
        boot_sample "$B/boot.vmsilo" "$V" -q start --foreground boot
        mkdir -p "$B/run/boot"
        boot_sample "$B/boot.qemu" xargs -d '\n' -a "$B/qemu.argv" sh -c '"$0" "$@" >/dev/null 2>&1'
        rm -rf "$B/run/boot"
done
boot_v=$(median <"$B/boot.vmsilo")
boot_q=$(median <"$B/boot.qemu")
result boot_vmsilo_ns "$boot_v"
result boot_qemu_ns "$boot_q"

# ---- (b) launcher overhead until the VMM's exec
PART="(b) launch"
cat >"$B/crosvm" <<EOS
#!/bin/sh
exec "$B/stamp-exec" "$O/fake-crosvm" "\$@"
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
mkdir -p "$B/etc/conf.d"
for p in "$O"/plugins/*.so; do
        printf '[plugin %s]\nenable = yes\n' "$(basename "$p" .so)"
done >"$B/etc/conf.d/99-all.conf"
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
        t0=$(now)
        STAMP_FILE="$B/stamp" "$V" -q start launch
        echo $(($(cat "$B/stamp") - t0)) >>"$B/launch.vmsilo"
        "$V" -q stop --timeout 5 launch

        rm -f "$B/stamp"
        mkdir -p "$B/run/launch"
        (
                t0=$(now)
                echo "$t0" >"$B/t0"
                STAMP_FILE="$B/stamp" FAKE_CROSVM_EXIT=0 exec "$B/plain.sh" 2>/dev/null
        ) || true
        echo $(($(cat "$B/stamp") - $(cat "$B/t0"))) >>"$B/launch.plain"
        rm -rf "$B/run/launch"
done
rm -f "$B/etc/conf.d/99-all.conf" # the other VMs run with the shipped plugin set
launch_v=$(median <"$B/launch.vmsilo")
launch_p=$(median <"$B/launch.plain")
result launch_vmsilo_ns "$launch_v"
result launch_script_ns "$launch_p"

# ---- (c) run, against the raw port and the guest's own figures, on one running VM
PART="(c) run"
# chan_conf NAME [KERNEL-PARAM]: a test VM with the bench port on $PORT
chan_conf() {
        cat >"$B/etc/vms/$1.conf" <<EOS
[vm]
vmm = qemu
memory = 256
cpus = 1
kernel = $K
initrd = $I
${2:+kernel-params = $2}
[overlay]
type = off
[qemu]
extra-args = -chardev
extra-args = socket,id=bench0,path=$PORT,server=on,wait=off
extra-args = -device
extra-args = virtserialport,chardev=bench0,name=org.vmsilo.bench
EOS
}
chan_conf chan
timeout "$TIMEOUT" "$V" -q start chan
timeout "$TIMEOUT" "$V" run chan true
"$V" run chan vmsilo-portbench </dev/null >/dev/null 2>"$B/portbench-guest.log" &
guest_port_pid=$!
BG_PIDS="$BG_PIDS $guest_port_pid"
# the guest half is up once it answers (QEMU holds what the host wrote until the guest opens
# the port); one try only: a timed-out try could leave a byte in flight for the next one
if ! timeout 60 "$B/portbench" "$PORT" echo:1 >/dev/null; then
        echo "bench: vmsilo-portbench in the guest does not answer on port 'org.vmsilo.bench':" >&2
        cat "$B/portbench-guest.log" >&2
        exit 1
fi

# run true and its floor, interleaved: each round also has a few of the guest's spawns and raw
# echoes (their medians computed where they are measured), so that all four see the same load;
# each floor part is the median over the rounds
spawns=$(((SPAWNS + RUN_RUNS - 1) / RUN_RUNS))
echoes=$(((ECHOES + RUN_RUNS - 1) / RUN_RUNS))
: >"$B/run.true"
: >"$B/run.version"
: >"$B/run.host"
for i in $(seq "$RUN_RUNS"); do
        timed "$B/run.true" "$V" run chan true
        timed "$B/run.version" "$V" --version
        port "spawn:$spawns" "echo:$echoes"
        timed "$B/run.host" sh -c true
done
run_true=$(median <"$B/run.true")
client=$(median <"$B/run.version")
host_true=$(median <"$B/run.host")
spawn=$(median <"$B/port.spawn:$spawns")
echo_ns=$(median <"$B/port.echo:$echoes")
floor=$((client + spawn + echo_ns))
result run_true_ns "$run_true"
result client_version_ns "$client"
result host_sh_true_ns "$host_true"
result guest_spawn_ns "$spawn"
result port_echo_ns "$echo_ns"
result floor_ns "$floor"

# throughput with dd bs=1M, TP_RUNS rounds of the five, interleaved
N=$((TP_MIB * 1048576))
dd_out="dd if=/dev/zero bs=1M count=$TP_MIB"
for f in run_g2h pipe run_h2g; do : >"$B/tp.$f"; done
for i in $(seq "$TP_RUNS"); do
        timed "$B/tp.run_g2h" "$V" run chan $dd_out
        timed "$B/tp.pipe" "$V" run chan sh -c "$dd_out 2>/dev/null | dd of=/dev/null bs=1M"
        timed "$B/tp.run_h2g" sh -c "$dd_out 2>/dev/null | '$V' run chan dd of=/dev/null bs=1M"
        port "g2h:${TP_MIB}M:1M" "h2g:${TP_MIB}M:1M"
done
for f in run_g2h pipe run_h2g; do
        eval "tp_$f=$(mibs "$N" "$(median <"$B/tp.$f")")"
done
tp_port_g2h=$(mibs "$N" "$(median <"$B/port.g2h:${TP_MIB}M:1M")")
tp_port_h2g=$(mibs "$N" "$(median <"$B/port.h2g:${TP_MIB}M:1M")")
result tp_run_g2h_mibs "$tp_run_g2h"
result tp_pipe_mibs "$tp_pipe"
result tp_run_h2g_mibs "$tp_run_h2g"
result tp_port_g2h_mibs "$tp_port_g2h"
result tp_port_h2g_mibs "$tp_port_h2g"

# throughput against write size
SN=$((SWEEP_MIB * 1048576))
for i in $(seq "$SWEEP_RUNS"); do
        for s in $SWEEP_SIZES; do
                port "g2h:${SWEEP_MIB}M:$s" "h2g:${SWEEP_MIB}M:$s"
                timed "$B/sweep.run_g2h.$s" "$V" run chan dd if=/dev/zero bs="$s" \
                        count=$((SN / $(bytes "$s")))
        done
done
for s in $SWEEP_SIZES; do
        sb=$(bytes "$s")
        result "sweep_port_g2h_mibs_$sb" "$(mibs "$SN" "$(median <"$B/port.g2h:${SWEEP_MIB}M:$s")")"
        result "sweep_port_h2g_mibs_$sb" "$(mibs "$SN" "$(median <"$B/port.h2g:${SWEEP_MIB}M:$s")")"
        result "sweep_run_g2h_mibs_$sb" "$(mibs "$SN" "$(median <"$B/sweep.run_g2h.$s")")"
done
port quit >/dev/null
wait "$guest_port_pid"
timeout 60 "$V" -q stop chan

# the frame-size hook, when the build has it (or BENCH_FRAME_SWEEP=1 forces it)
PART="(c) frame sizes"
frame_hook=no
if [ "${BENCH_FRAME_SWEEP:-0}" = 1 ] || grep -aq VMSILO_FRAME_SIZE "$V" ||
        grep -aq frame-size "$O/vmsilo-init"; then
        frame_hook=yes
fi
result frame_hook "$frame_hook"
if [ "$frame_hook" = yes ]; then
        for s in $FRAME_SIZES; do
                sb=$(bytes "$s")
                chan_conf "frame$sb" "vmsilo.frame-size=$sb"
                export VMSILO_FRAME_SIZE="$sb"
                timeout "$TIMEOUT" "$V" -q start "frame$sb"
                timeout "$TIMEOUT" "$V" run "frame$sb" true # until its agent answers
                for i in $(seq "$TP_RUNS"); do
                        timed "$B/frame.g2h.$sb" "$V" run "frame$sb" $dd_out
                        timed "$B/frame.h2g.$sb" sh -c \
                                "$dd_out 2>/dev/null | '$V' run frame$sb dd of=/dev/null bs=1M"
                done
                timeout 60 "$V" -q stop "frame$sb"
                unset VMSILO_FRAME_SIZE
                result "frame_run_g2h_mibs_$sb" "$(mibs "$N" "$(median <"$B/frame.g2h.$sb")")"
                result "frame_run_h2g_mibs_$sb" "$(mibs "$N" "$(median <"$B/frame.h2g.$sb")")"
        done
fi

# ---- (d) exec, against QEMU booting the same guest with the same virtio-fs share
PART="(d) exec"
# (found by name: core/ may move a file between its folders)
vmconf_c=$(find core -name vmconf.c | head -n 1)
exec_c=$(find core -name exec.c | head -n 1)
mem=$(awk '/exec_memory_mib = /{gsub(/[^0-9]/, ""); print; exit}' "$vmconf_c")
cpus=$(awk '/exec_cpus = /{gsub(/[^0-9]/, ""); print; exit}' "$vmconf_c")
case "$mem,$cpus" in
,* | *, | *[!0-9,]*)
        echo "bench: cannot read exec's memory and cpus from '$vmconf_c'" >&2
        exit 1
        ;;
esac
# exec's guest wrapper (exec.c) with the script `true`, percent-encoded for vmsilo.cmd
wrapper=$(sed -n '/^static const char guest_wrapper\[\] =/,/;$/p' "$exec_c" |
        sed -n 's/^ *"\(.*\)"[;]*$/\1/p' |
        tr -d '\n' | sed -e 's/\\"/"/g' -e 's/"\$1"/true/')
case "$wrapper" in
*/usr/bin/bash*) ;;
*)
        echo "bench: cannot read exec's guest wrapper from '$exec_c'" >&2
        exit 1
        ;;
esac
cmd=$(printf %s "$wrapper" | od -An -v -tx1 | tr -d ' \n' | sed 's/../%&/g')
X="$V exec -q --kernel $K --initrd $I"
# qemu-fs.sh: one boot of the baseline, with its own virtiofsd (it serves one connection)
cat >"$B/qemu-fs.sh" <<EOS
#!/bin/sh
rm -f '$B/vfs.sock'
/usr/lib/qemu/virtiofsd --socket-path='$B/vfs.sock' -o source=/usr -o cache=auto \\
        -o no_xattr -o sandbox=namespace -o announce_submounts \\
        -o modcaps=-mknod:-setfcap --rlimit-nofile=0 &
for _ in \$(seq 500); do
        [ -S '$B/vfs.sock' ] && break
        sleep 0.01
done
qemu-system-x86_64 -accel tcg -machine pc -m ${mem}M -smp $cpus \\
        -nodefaults -no-user-config -display none -no-reboot -serial file:'$B/qemu-fs.console' \\
        -object memory-backend-memfd,id=mem,size=${mem}M,share=on -numa node,memdev=mem \\
        -chardev socket,id=vhu0,path='$B/vfs.sock' -device vhost-user-fs-pci,chardev=vhu0,tag=usr \\
        -kernel '$K' -initrd '$I' \\
        -append 'console=ttyS0 systemd.mount-extra=usr:/usr:virtiofs:ro vmsilo.cmd=$cmd'
rc=\$?
wait
exit \$rc
EOS
$X --prepare >/dev/null
: >"$B/exec.warm"
: >"$B/exec.cold"
: >"$B/exec.qemu_fs"
for i in $(seq "$BOOT_RUNS"); do
        boot_sample "$B/exec.warm" $X true
        boot_sample "$B/exec.cold" $X --cold true
        CONSOLE="$B/qemu-fs.console" boot_sample "$B/exec.qemu_fs" sh "$B/qemu-fs.sh"
        # the baseline must really have run bash from the share, or its time means nothing
        grep -aq 'VMSILO-EXIT .*status=0' "$B/qemu-fs.console" || {
                echo "bench: the virtio-fs baseline did not run its command; console:" >&2
                tail -n 20 "$B/qemu-fs.console" >&2
                exit 1
        }
done
exec_warm=$(median <"$B/exec.warm")
exec_cold=$(median <"$B/exec.cold")
exec_qfs=$(median <"$B/exec.qemu_fs")
result exec_warm_ns "$exec_warm"
result exec_cold_ns "$exec_cold"
result exec_qemu_fs_ns "$exec_qfs"
result hangs "$HANGS"
PART="the figures"

# ---- the figures
echo "boot to guest userspace and power-off (median of $BOOT_RUNS, QEMU TCG):"
echo "  vmsilo-core start --foreground   $(ms "$boot_v") ms"
echo "  qemu-system-x86_64 directly      $(ms "$boot_q") ms"
echo "  ratio vmsilo/qemu                $(ratio "$boot_v" "$boot_q")"
plugins=$(cd "$O/plugins" && ls *.so | tr "\n" " ")
echo "launch overhead, invocation to the VMM's exec (median of $LAUNCH_RUNS, plugins: $plugins)"
echo "  vmsilo-core start                $(ms "$launch_v") ms"
echo "  shell script exec                $(ms "$launch_p") ms"
echo "  ratio vmsilo/script              $(ratio "$launch_v" "$launch_p")   (goal <= 1.0)"
echo "run round trip, 'run chan true' on a running VM (median of $RUN_RUNS):"
echo "  vmsilo-core run                  $(ms "$run_true") ms"
echo "  floor                            $(ms "$floor") ms, the sum of:"
echo "    client start-up (--version)    $(ms "$client") ms"
echo "    guest spawn of true (in guest) $(ms "$spawn") ms ($RUN_RUNS rounds of $spawns)"
echo "    raw port 1-byte echo           $(ms "$echo_ns") ms ($RUN_RUNS rounds of $echoes)"
echo "  ratio run/floor                  $(ratio "$run_true" "$floor")   (goal <= 1.3)"
echo "  sh -c true on the host           $(ms "$host_true") ms"
echo "throughput, $TP_MIB MiB with dd bs=1M (median of $TP_RUNS):"
echo "  run guest -> host (stdout)       $tp_run_g2h MiB/s"
echo "  run host -> guest (stdin)        $tp_run_h2g MiB/s"
echo "  in-guest pipe, dd | dd           $tp_pipe MiB/s"
echo "  raw port guest -> host           $tp_port_g2h MiB/s"
echo "  raw port host -> guest           $tp_port_h2g MiB/s"
echo "  ratio run g->h / in-guest pipe   $(ratio "$tp_run_g2h" "$tp_pipe")   (goal >= 0.8)"
echo "  ratio run g->h / raw port        $(ratio "$tp_run_g2h" "$tp_port_g2h")   (goal >= 0.7)"
echo "  ratio run h->g / raw port        $(ratio "$tp_run_h2g" "$tp_port_h2g")   (goal >= 0.7)"
echo "throughput against write size, $SWEEP_MIB MiB (median of $SWEEP_RUNS), MiB/s:"
echo "  size      port g->h  port h->g  run dd g->h"
for s in $SWEEP_SIZES; do
        sb=$(bytes "$s")
        printf '  %-8s  %9s  %9s  %11s\n' "$s" "$(val "sweep_port_g2h_mibs_$sb")" \
                "$(val "sweep_port_h2g_mibs_$sb")" "$(val "sweep_run_g2h_mibs_$sb")"
done
if [ "$frame_hook" = yes ]; then
        echo "run against frame size (VMSILO_FRAME_SIZE), $TP_MIB MiB (median of $TP_RUNS), MiB/s:"
        for s in $FRAME_SIZES; do
                sb=$(bytes "$s")
                printf '  %-8s  g->h %s  h->g %s\n' "$s" "$(val "frame_run_g2h_mibs_$sb")" \
                        "$(val "frame_run_h2g_mibs_$sb")"
        done
else
        echo "run against frame size: not measured, this build does not honor VMSILO_FRAME_SIZE (bench/README.md)"
fi
echo "exec 'true' (median of $BOOT_RUNS, $mem MiB, $cpus cpus):"
echo "  vmsilo-core exec (restored)      $(ms "$exec_warm") ms"
echo "  vmsilo-core exec --cold          $(ms "$exec_cold") ms"
echo "  qemu + virtiofsd (/usr), direct  $(ms "$exec_qfs") ms (same kernel, initramfs, share and guest wrapper)"
echo "  ratio restored/qemu+fs           $(ratio "$exec_warm" "$exec_qfs")   (goal <= 1.05)"
echo "  ratio cold/qemu+fs               $(ratio "$exec_cold" "$exec_qfs")"
echo "guest hangs (boots killed after $BOOT_TIMEOUT s and taken again): $HANGS"
