# Cell: the overlay's file system fills up. QEMU pauses the VM on the write error; list and
# status say `paused: I/O error on disk 'ephemeral' (no space)`, a new `run` fails at once
# with it (one in flight is told and waits),
# `resume` continues once there is space again (and fails while there is none), and `stop`
# ends a paused VM without waiting for it. Nothing is left; the next start works.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/small"
mount -t tmpfs -o size=48M tmpfs "$T/small"
OV="$T/small/ov"
mkdir -p "$OV"
make_fault_vm d1
sed -i "s|^directory = .*|directory = $OV|" "$CONF/vms/d1.conf.d/fault.conf"

expect 0 "$VMSILO" start d1
# leave about 12 MiB free; the guest writes 24
avail=$(df -k --output=avail "$T/small" | tail -n 1)
dd if=/dev/zero of="$T/small/ballast" bs=1k count=$((avail - 12 * 1024)) 2>/dev/null
"$VMSILO" run d1 sh -c 'dd if=/dev/zero of=/fill bs=1M count=24 conv=fsync 2>/dev/null; echo wrote' \
        >"$T/fill.out" 2>"$T/fill.err" &
fill=$!
wait_for 60 state_is d1 "paused: I/O error on disk 'ephemeral' (no space)" ||
        { "$VMSILO" list >&2; fail "the pause is not shown"; }
expect 0 "$VMSILO" status --json d1
[ "$(jq -r '[.state, .reason] | join(": ")' "$T/out")" = "paused: I/O error on disk 'ephemeral' (no space)" ] ||
        fail "status --json: $(cat "$T/out")"

# the command in flight is told, and waits (resume lets it finish)
wait_for 3 grep -q "VM 'd1' is paused: I/O error on disk 'ephemeral' (no space)" "$T/fill.err" ||
        fail "the run in flight was not told: $(cat "$T/fill.err")"
kill -0 "$fill" 2>/dev/null || fail "the run in flight ended while the VM was paused"

# a new run fails at once, with the reason
t0=$(date +%s)
expect 125 "$VMSILO" run d1 true
[ $(($(date +%s) - t0)) -lt 5 ] || fail "run on a paused VM took $(($(date +%s) - t0)) s"
err_has "VM 'd1' is paused: I/O error on disk 'ephemeral' (no space); run 'vmsilo-core resume d1' or stop it"

# resume without space: paused again, and said so
expect 1 "$VMSILO" resume d1
err_has "VM 'd1' paused again: I/O error on disk 'ephemeral' (no space)"

# free the space: resume continues, the guest's write completes
rm "$T/small/ballast"
expect 0 "$VMSILO" resume d1
wait "$fill" || fail "the write did not complete after resume: $(cat "$T/fill.err")"
grep -q wrote "$T/fill.out" || fail "no output from the write after resume"
expect 0 "$VMSILO" list
grep -q '^d1  *running$' "$T/out" || fail "not running after resume: $(cat "$T/out")"

# paused again, then stopped: stop does not wait for the paused guest
avail=$(df -k --output=avail "$T/small" | tail -n 1)
dd if=/dev/zero of="$T/small/ballast" bs=1k count=$((avail - 4 * 1024)) 2>/dev/null
"$VMSILO" run d1 sh -c 'dd if=/dev/zero of=/fill2 bs=1M count=24 conv=fsync' >/dev/null 2>&1 &
fill=$!
wait_for 60 state_is d1 "paused" || fail "not paused the second time"
t0=$(date +%s)
expect 0 "$VMSILO" stop --timeout 60 d1
[ $(($(date +%s) - t0)) -lt 20 ] || fail "stop waited for a paused guest"
err_has "cannot shut down cleanly (I/O error on disk 'ephemeral' (no space))"
wait "$fill" 2>/dev/null || true
rm "$T/small/ballast"
assert_clean d1
[ -z "$(ls -A "$OV")" ] || fail "left in the overlay dir: $(ls "$OV")"

next_start_works d1
