# Cell: a helper dies while the VM runs (virtiofsd SIGKILLed). The supervisor notices within a
# second, says why in list and status, and applies [vm] on-helper-failure: poweroff (the
# default) ends the VM, kill ends it at once, keep leaves it running and `stop` then does not
# wait for a guest that cannot finish. Nothing is left; the next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm h2
kill_helper() {
        hp=$(helper_pid h2)
        [ -n "$hp" ] || fail "no virtiofsd pid in the journal"
        kill -KILL "$hp"
}

# keep: noticed within a second, shown, VM keeps running, stop is quick
printf '[vm]\non-helper-failure = keep\n' >"$CONF/vms/h2.conf.d/policy.conf"
expect 0 "$VMSILO" start h2
kill_helper
wait_for 1 state_is h2 "running, helper 'virtiofs/data' was killed by signal 9" ||
        { "$VMSILO" list >&2; fail "helper death not shown within a second"; }
expect 0 "$VMSILO" status h2
out_has "helper virtiofs/data: pid $hp (gone, was killed by signal 9)"
out_has "helper 'virtiofs/data' (pid $hp) of VM 'h2' was killed by signal 9"
expect 0 "$VMSILO" status --json h2
[ "$(jq -r '.helpers[] | select(.name == "virtiofs/data") | .failure' "$T/out")" = "was killed by signal 9" ] ||
        fail "status --json: $(cat "$T/out")"
expect 0 "$VMSILO" run h2 true
t0=$(date +%s)
expect 0 "$VMSILO" stop --timeout 60 h2
[ $(($(date +%s) - t0)) -lt 20 ] || fail "stop waited for a guest that cannot finish"
err_has "cannot shut down cleanly (a helper failed)"
assert_clean h2

# kill: the VM ends at once
printf '[vm]\non-helper-failure = kill\n' >"$CONF/vms/h2.conf.d/policy.conf"
expect 0 "$VMSILO" start h2
kill_helper
wait_for 10 test ! -e "$RUN/h2" || fail "on-helper-failure = kill did not end the VM"
assert_clean h2
expect 0 "$VMSILO" status h2
out_has "was killed by signal 9"

# poweroff (the default): the VM is powered off, hard after a short window
rm "$CONF/vms/h2.conf.d/policy.conf"
expect 0 "$VMSILO" start h2
kill_helper
wait_for 30 test ! -e "$RUN/h2" || fail "on-helper-failure = poweroff did not end the VM"
assert_clean h2

next_start_works h2
