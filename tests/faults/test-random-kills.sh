# Cells: start, the supervisor, stop and cleanup SIGKILLed at random moments, a few rounds
# each. Whatever was killed, the user is told the truth (list: running, starting or needs
# cleanup; never "stopped" with changes left), the next command finishes the job, nothing is
# left, and the VM starts again.
. "$(dirname "$0")/lib.sh"

ROUNDS=${FAULT_ROUNDS:-3}
make_fault_vm k1
# a random delay of 0.1 to 3.0 s
rand_sleep() {
        sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN {printf "%.1f", 0.1 + (r % 30) / 10}')"
}
# after a kill: list must not say "stopped" while changes are left
truthful() {
        st=$("$VMSILO" list | awk '$1 == "k1" {$1 = ""; print}')
        case "$st" in
        *stopped*) [ ! -s "$RUN/k1/journal" ] || fail "list says '$st' with a journal left" ;;
        esac
}
settle() {
        # a booted guest hears the power button (one that is not up yet is stopped hard)
        "$VMSILO" run --no-start k1 true >/dev/null 2>&1 || true
        expect 0 "$VMSILO" stop --timeout 10 k1
        assert_clean k1
}

for round in $(seq "$ROUNDS"); do
        # the start command
        "$VMSILO" start k1 >/dev/null 2>&1 &
        p=$!
        rand_sleep
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        truthful
        settle

        # the supervisor, while it starts or runs
        "$VMSILO" start k1 >/dev/null 2>&1 &
        p=$!
        rand_sleep
        sup=$(pid_of k1 supervisor.pid || true)
        [ -z "$sup" ] || kill -KILL "$sup" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        wait_for 5 sh -c "! \"$VMSILO\" list | grep -q '^k1  *starting'" || true
        truthful
        settle

        # the stop command
        expect 0 "$VMSILO" start k1
        expect 0 "$VMSILO" run k1 true
        "$VMSILO" stop --timeout 10 k1 >/dev/null 2>&1 &
        p=$!
        rand_sleep
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        truthful
        settle

        # cleanup, after a crash
        expect 0 "$VMSILO" start k1
        kill -KILL "$(pid_of k1 supervisor.pid)"
        wait_for 5 state_is k1 "needs cleanup" || fail "round $round: crash not shown"
        "$VMSILO" cleanup k1 >/dev/null 2>&1 &
        p=$!
        sleep 0.0$(od -An -N1 -tu1 /dev/urandom | tr -d ' ' | cut -c1)
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        truthful
        expect 0 "$VMSILO" cleanup k1
        assert_clean k1
done
next_start_works k1
