# Cell: a guest that ignores the power button and whose agent does not answer the power-off
# request (stopped): stop waits --timeout, says so, stops the VMM hard, and leaves nothing;
# the next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm w1
expect 0 "$VMSILO" start w1
expect 0 "$VMSILO" run w1 sh -c 'for d in /sys/bus/acpi/drivers/button/LNXPWRBN*; do echo "${d##*/}" >/sys/bus/acpi/drivers/button/unbind; done'
# the agent stops itself a moment after this command has ended
expect 0 "$VMSILO" run w1 sh -c '(sleep 1; kill -STOP $(pidof vmsilo-agent)) </dev/null >/dev/null 2>&1 &'
sleep 2
t0=$(date +%s)
expect 0 "$VMSILO" stop --timeout 3 w1
err_has "VM 'w1' did not power off within 3 s, stopping it hard"
[ $(($(date +%s) - t0)) -ge 3 ] || fail "stop did not wait for the guest"
assert_clean w1
next_start_works w1
