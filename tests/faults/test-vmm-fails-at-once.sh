# Cell: the VMM fails at once (a bad option): start fails with QEMU's own words, nothing is
# left, status keeps the error, and the next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm f1
printf '[qemu]\nextra-args = -no-such-option\n' >"$CONF/vms/f1.conf.d/zz-bad.conf"
expect 1 "$VMSILO" start f1
err_has "qemu exited with status 1 before it was up"
err_has "no-such-option"
assert_clean f1
expect 0 "$VMSILO" status f1
out_has "VM 'f1': stopped"
out_has "no-such-option"

rm "$CONF/vms/f1.conf.d/zz-bad.conf"
next_start_works f1
