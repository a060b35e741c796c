# Cell: an undo that cannot succeed (the overlay file is a mount point: unlink says EBUSY).
# stop says which change is left, with unlink's error, and exits 1; list says needs cleanup;
# once the cause is gone, cleanup finishes and the next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm u1
expect 0 "$VMSILO" start u1
: >"$T/over"
mount --bind "$T/over" "$OV/u1-ephemeral.raw"
expect 1 "$VMSILO" stop --timeout 20 u1
err_has "failed to remove '$OV/u1-ephemeral.raw': Device or resource busy"
grep -q "Not a directory" "$T/err" && fail "the error shown is rmdir's, not unlink's"
err_has "change(s) of VM 'u1' could not be undone, left: file '$OV/u1-ephemeral.raw'"
assert_no_qemu u1
expect 0 "$VMSILO" list
out_has "u1"
grep -q "^u1  *needs cleanup" "$T/out" || fail "list: $(cat "$T/out")"
expect 1 "$VMSILO" cleanup u1
err_has "Device or resource busy"
umount "$OV/u1-ephemeral.raw"
expect 0 "$VMSILO" cleanup u1
assert_clean u1
next_start_works u1
