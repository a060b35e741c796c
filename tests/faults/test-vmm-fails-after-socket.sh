# Cell: the VMM dies just after it created its control socket (a bad -device; a kernel that is
# not a kernel file any more): `start` does not say "up", fails with QEMU's last stderr lines,
# leaves nothing, and the next start works.
. "$(dirname "$0")/lib.sh"

make_fault_vm f2
printf '[qemu]\nextra-args = -device\nextra-args = no-such-device\n' >"$CONF/vms/f2.conf.d/zz-bad.conf"
expect 1 "$VMSILO" start f2
err_has "qemu exited with status 1 before it was up"
err_has "no-such-device"
grep -q "is up" "$T/err" && fail "start said 'up' for a VMM that died"
assert_clean f2
rm "$CONF/vms/f2.conf.d/zz-bad.conf"

# the kernel vanished (a directory now: readable, so preflight passes; QEMU cannot load it)
mkdir "$T/kdir"
printf '[vm]\nkernel = %s\n' "$T/kdir" >"$CONF/vms/f2.conf.d/zz-kernel.conf"
expect 1 "$VMSILO" start f2
err_has "qemu exited with status 1 before it was up"
err_has "kdir"
assert_clean f2
expect 0 "$VMSILO" status --json f2
[ "$(jq -r .state "$T/out")" = stopped ] || fail "status after a failed start: $(cat "$T/out")"
jq -r '.last_errors[-1].text' "$T/out" | grep -q "before it was up" || fail "status keeps no error: $(cat "$T/out")"
rm "$CONF/vms/f2.conf.d/zz-kernel.conf"

next_start_works f2
