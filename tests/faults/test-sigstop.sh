# Cells: the supervisor, then the VMM, stopped with SIGSTOP. status shows the VMM as stopped
# by a signal; stop continues what was stopped and ends the VM in time; nothing is left; the
# next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm s1

# the supervisor
expect 0 "$VMSILO" start s1
expect 0 "$VMSILO" run s1 true # booted: it hears the power button
sup=$(pid_of s1 supervisor.pid)
kill -STOP "$sup"
t0=$(date +%s)
expect 0 "$VMSILO" stop --timeout 20 s1
err_has "the supervisor of VM 's1' (pid $sup) was stopped by a signal, continuing it"
[ $(($(date +%s) - t0)) -lt 20 ] || fail "stop of a VM whose supervisor was stopped took $(($(date +%s) - t0)) s"
assert_clean s1

# the VMM
expect 0 "$VMSILO" start s1
expect 0 "$VMSILO" run s1 true
vmm=$(pid_of s1 vmm.pid)
kill -STOP "$vmm"
expect 0 "$VMSILO" status s1
out_has "vmm: qemu pid $vmm (stopped by a signal)"
t0=$(date +%s)
expect 0 "$VMSILO" stop --timeout 20 s1
err_has "the VMM of VM 's1' (pid $vmm) was stopped by a signal, continuing it"
[ $(($(date +%s) - t0)) -lt 20 ] || fail "stop of a VM whose VMM was stopped took $(($(date +%s) - t0)) s"
assert_clean s1

next_start_works s1
