# run signals: a `run` on a command that ignores SIGINT/SIGTERM, or on a VM whose VMM is
# frozen, must not hold the user's terminal. The first signal is forwarded to the command;
# a second one ends the client at once, and without an exit status within 5 s after the
# forwarded one it ends by itself; either way with a clear message and status 128+N.
. "$(dirname "$0")/lib.sh"

make_qemu_vm rs
expect 0 "$VMSILO" run rs true
vmm=$(cut -d' ' -f1 "$RUN/rs/vmm.pid")

# starts `run rs CMD...` in the background and waits until the command printed "ready"
# (sh ignores SIGINT in background jobs; run blocks it, so it is still queued for run)
start_run() {
        : >"$T/rout"
        "$VMSILO" run rs "$@" >"$T/rout" 2>"$T/rerr" &
        prun=$!
        i=0
        until grep -q ready "$T/rout"; do
                i=$((i + 1))
                [ $i -lt 300 ] || fail "the command did not start: $(cat "$T/rerr")"
                sleep 0.1
        done
}

# gone_within PID TENTHS: the process ended within TENTHS tenths of a second
gone_within() {
        i=0
        while kill -0 "$1" 2>/dev/null; do
                i=$((i + 1))
                [ $i -le "$2" ] || return 1
                sleep 0.1
        done
}

finish() {
        want=$1 text=$2
        wait "$prun" && rc=0 || rc=$?
        [ "$rc" = "$want" ] || { cat "$T/rerr" >&2; fail "run exited $rc, expected $want"; }
        grep -qF -- "$text" "$T/rerr" || { cat "$T/rerr" >&2; fail "no message '$text'"; }
}

stubborn="trap '' INT TERM HUP; echo ready; i=0; while [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done"

# SIGINT twice on a command that ignores it
start_run sh -c "$stubborn"
kill -INT "$prun"
sleep 1
kill -0 "$prun" 2>/dev/null || { cat "$T/rerr" >&2; fail "the first SIGINT ended run instead of reaching the command"; }
kill -INT "$prun"
gone_within "$prun" 20 || { kill -9 "$prun"; fail "a second SIGINT did not end run"; }
finish 130 "VM 'rs': second signal (SIGINT); leaving the command to the guest"

# SIGTERM likewise
start_run sh -c "$stubborn"
kill -TERM "$prun"
sleep 1
kill -0 "$prun" 2>/dev/null || fail "the first SIGTERM ended run instead of reaching the command"
kill -TERM "$prun"
gone_within "$prun" 20 || { kill -9 "$prun"; fail "a second SIGTERM did not end run"; }
finish 143 "VM 'rs': second signal (SIGTERM); leaving the command to the guest"

# one signal and no answer: run ends by itself after about 5 s
start_run sh -c "$stubborn"
kill -INT "$prun"
sleep 3
kill -0 "$prun" 2>/dev/null || fail "run ended before the command had a chance to answer"
gone_within "$prun" 50 || { kill -9 "$prun"; fail "run waits forever after a forwarded SIGINT"; }
finish 130 "VM 'rs': no exit status within 5 s after forwarding SIGINT"

# a frozen VM (its QEMU stopped): a second signal ends the client at once
start_run sh -c 'echo ready; exec sleep 60'
kill -STOP "$vmm"
kill -INT "$prun"
sleep 0.5
kill -INT "$prun"
gone_within "$prun" 20 || { kill -9 "$prun"; kill -CONT "$vmm"; fail "run hangs on a frozen VM"; }
finish 130 "second signal (SIGINT)"

# ... also while run is blocked writing stdin that the frozen guest does not read
yes vmsilo-stdin-flood | "$VMSILO" run rs cat >/dev/null 2>"$T/rerr" &
prun=$!
sleep 3
kill -INT "$prun"
sleep 0.5
kill -INT "$prun"
gone_within "$prun" 20 || { kill -9 "$prun"; kill -CONT "$vmm"; fail "run hangs writing stdin to a frozen VM"; }
wait "$prun" && rc=0 || rc=$?
[ "$rc" = 130 ] || { cat "$T/rerr" >&2; kill -CONT "$vmm"; fail "run exited $rc, expected 130"; }

# ... and a single SIGTERM times out
"$VMSILO" run rs true >"$T/rout" 2>"$T/rerr" &
prun=$!
sleep 2
kill -TERM "$prun"
gone_within "$prun" 80 || { kill -9 "$prun"; kill -CONT "$vmm"; fail "run hangs on a frozen VM after SIGTERM"; }
wait "$prun" && rc=0 || rc=$?
[ "$rc" = 143 ] || { cat "$T/rerr" >&2; kill -CONT "$vmm"; fail "run exited $rc, expected 143"; }
kill -CONT "$vmm"

# the VM is fine afterwards
expect 0 "$VMSILO" run rs echo still-here
[ "$(cat "$T/out")" = still-here ] || fail "the VM does not answer after the test"
expect 0 "$VMSILO" stop rs
assert_no_qemu rs
assert_no_run_state
