# Cell: a simulated host reboot: the supervisor, the VMM and the helpers all SIGKILLed at
# once. list and status say the VM needs cleanup and which command; the next start undoes the
# old run first and works; so does cleanup.
. "$(dirname "$0")/lib.sh"

make_fault_vm b1
crash() {
        expect 0 "$VMSILO" start b1
        kill -KILL "$(pid_of b1 supervisor.pid)" "$(pid_of b1 vmm.pid)" "$(helper_pid b1)"
        wait_for 5 state_is b1 "needs cleanup" || { "$VMSILO" list >&2; fail "not shown as needing cleanup"; }
}

crash
expect 0 "$VMSILO" list
out_has "needs cleanup: run 'vmsilo-core cleanup b1'"
expect 0 "$VMSILO" status b1
out_has "VM 'b1': needs cleanup"
out_has "run 'vmsilo-core cleanup b1'"
out_has "file '$OV/b1-ephemeral.raw'"
[ -e "$OV/b1-ephemeral.raw" ] || fail "the crash took the overlay file (nothing to clean up?)"
expect 0 "$VMSILO" cleanup b1
assert_clean b1

crash
next_start_works b1
