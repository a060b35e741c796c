# Logs that outlive the VM: after a stop and after a failed start, `vmsilo-core log` prints
# the last console output (escaped: it is the guest's text) and the supervisor's log, kept in
# the state dir (0700, files 0600), bounded by console-log-size. Also: a START error is the
# only error `run` prints, and the busybox guest stops quickly (the stop time is printed).
. "$(dirname "$0")/lib.sh"

make_qemu_vm lg
printf 'console-log-size = 64K\n' >>"$CONF/vms/lg.conf"
expect 0 "$VMSILO" start lg

# a START error is the only error (not also "went away while running the command")
expect 125 "$VMSILO" run lg no-such-command
grep -q 'went away' "$T/err" && fail "run printed a false error: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "run printed more than the START error: $(cat "$T/err")"

# bounded: 300 KiB of console output leave at most 2 x 64 KiB
expect 0 "$VMSILO" run lg sh -c 'i=0; while [ $i -lt 3000 ]; do echo "filler line $i ................................................................................................" >/dev/console; i=$((i + 1)); done; echo last-filler >/dev/console; printf "marker-\033[31m-red\n" >/dev/console'
sleep 1

t0=$(date +%s%3N)
expect 0 "$VMSILO" stop lg
t1=$(date +%s%3N)
echo "busybox: stop $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 10000 ] || fail "the busybox guest took $((t1 - t0)) ms to stop"

dir="$VMSILO_STATE_DIR/lg"
[ "$(stat -c %a "$dir")" = 700 ] || fail "state dir mode $(stat -c %a "$dir")"
for f in console.log console.log.1 supervisor.log; do
        [ "$(stat -c %a "$dir/$f")" = 600 ] || fail "$f mode $(stat -c %a "$dir/$f")"
        [ "$(stat -c %s "$dir/$f")" -le 65536 ] || fail "$f is $(stat -c %s "$dir/$f") bytes"
done

expect 0 "$VMSILO" log lg
out_has "--- console (console.log)"
out_has "last-filler"
out_has "--- supervisor (supervisor.log)"
out_has "stopping VM 'lg'"
out_has "VM 'lg' stopped"
[ "$(grep -c filler "$T/out")" -le 100 ] || fail "more than 100 console lines"

expect 0 "$VMSILO" log --supervisor --lines 2 lg
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "--lines 2: $(cat "$T/out")"
grep -q "console" "$T/out" && fail "--supervisor printed the console"

# escaped: the guest's ESC is \x1b, not a terminal sequence
expect 0 "$VMSILO" log --console --lines 100000 lg
out_has 'marker-\x1b[31m-red'
grep -q "$(printf '\033')" "$T/out" && fail "a control character reached the terminal"

# a failed start points at the log, which has the VMM's complaint
make_qemu_vm bad
printf '[qemu]\nextra-args = -no-such-option\n' >"$CONF/vms/bad.conf.d/q.conf"
expect 1 "$VMSILO" start bad
err_has "see 'vmsilo-core log bad'"
expect 0 "$VMSILO" log --supervisor bad
out_has "no-such-option"

expect 2 "$VMSILO" log --lines x lg
expect 1 "$VMSILO" log never-started
assert_no_qemu lg
assert_no_run_state
assert_no_processes
