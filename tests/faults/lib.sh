# The fault suite (issue 15): one script per cell of the fault matrix. Each runs in private
# mount and network namespaces of its own (its tap, its small file systems vanish with it), on
# a QEMU VM with an overlay disk, a virtiofs share and a tap, and checks what the user was
# told, that nothing is left behind, and that the next start works.
if [ -z "${VMSILO_FAULT_NS:-}" ]; then
        VMSILO_FAULT_NS=1 exec unshare --mount --net --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/../e2e/lib.sh"
ip link set lo up

# the test's own mounts (small file systems, bind mounts) go before its temp tree
fault_cleanup() {
        for d in "$RUN"/*/; do
                [ -d "$d" ] || continue
                "$VMSILO" stop --timeout 2 "$(basename "$d")" >/dev/null 2>&1 || true
        done
        awk -v t="$T/" 'index($2, t) == 1 {print $2}' /proc/self/mounts | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
        cleanup_test
}
trap fault_cleanup EXIT

C_VIRTIOFSD=/usr/lib/qemu/virtiofsd
[ -x "$C_VIRTIOFSD" ] || fail "no C virtiofsd at $C_VIRTIOFSD (qemu-system-common)"
OV="$T/state/ov"
mkdir -p "$OV" "$T/share"
echo shared-data >"$T/share/file"

# make_fault_vm NAME: overlay (raw, in $OV), a virtiofs share of $T/share, a tap NAME-0
make_fault_vm() {
        make_qemu_vm "$1"
        cat >"$CONF/vms/$1.conf.d/fault.conf" <<EOS
[vm]
root-disk = $T/img/$1-root.img
[overlay]
type = raw
size = 256M
directory = $OV
[virtiofs]
virtiofsd = $C_VIRTIOFSD
[virtiofs data]
path = $T/share
[net uplink]
address = 10.77.0.2/24
host-address = 10.77.0.1/24
EOS
}

# pid_of NAME FILE: the pid recorded in the VM's run dir (ours only: the test's runtime dir)
pid_of() {
        cut -d' ' -f1 "$RUN/$1/$2" 2>/dev/null
}

# helper_pid NAME: the pid of the VM's virtiofsd, from its journal
helper_pid() {
        awk -F'\t' '$1 == "kill" && $4 == "virtiofs/data" {print $2}' "$RUN/$1/journal" | tail -n 1
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
        n=$(($1 * 10))
        shift
        while ! "$@" >/dev/null 2>&1; do
                n=$((n - 1))
                [ $n -gt 0 ] || return 1
                sleep 0.1
        done
}

state_is() {
        "$VMSILO" list | grep -q "^$1  *$2"
}

# assert_clean NAME: no VMM, helper, run state, overlay file, virtiofsd lock file or tap left
assert_clean() {
        assert_no_qemu "$1"
        if pgrep -f -- "--socket-path=$RUN/$1/" >/dev/null; then
                fail "virtiofsd of '$1' left running"
        fi
        [ ! -e "$RUN/$1" ] || { find "$RUN/$1" >&2; fail "run dir of '$1' left"; }
        [ ! -e "$OV/$1-ephemeral.raw" ] || fail "overlay file of '$1' left"
        [ ! -e "/var/run/virtiofsd/$(echo "$RUN/$1/virtiofs-data.sock" | tr / .).pid" ] ||
                fail "virtiofsd lock file of '$1' left"
        ! ip link show "$1-0" >/dev/null 2>&1 || fail "tap '$1-0' left"
        assert_no_processes
}

# next_start_works NAME: the VM starts, runs a command that reads the share, stops clean
next_start_works() {
        expect 0 "$VMSILO" start "$1"
        expect 0 "$VMSILO" run "$1" cat /mnt/data/file
        [ "$(cat "$T/out")" = shared-data ] || fail "next start: guest read '$(cat "$T/out")'"
        expect 0 "$VMSILO" stop --timeout 20 "$1"
        assert_clean "$1"
}
