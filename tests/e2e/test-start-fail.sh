# Starts that fail leave nothing behind: a missing kernel (preflight), a QEMU that exits at
# once (after prepare made an overlay file).
. "$(dirname "$0")/lib.sh"

make_qemu_vm bad
printf '[overlay]\ntype = raw\nsize = 1G\ndirectory = %s\n' "$T/state" >"$CONF/vms/bad.conf.d/o.conf"

sed -i "s|^kernel = .*|kernel = $T/img/no-such-kernel|" "$CONF/vms/bad.conf"
expect 4 "$VMSILO" start bad
err_has "kernel '$T/img/no-such-kernel' is not readable: No such file or directory"
assert_no_run_state

sed -i "s|^kernel = .*|kernel = $GUEST/vmlinuz|" "$CONF/vms/bad.conf"
printf '[qemu]\nextra-args = -no-such-option\n' >"$CONF/vms/bad.conf.d/q.conf"
expect 1 "$VMSILO" start bad
err_has "qemu exited with status 1 before it was up"
err_has "no-such-option"
[ -z "$(ls -A "$T/state")" ] || fail "overlay file left: $(ls "$T/state")"
assert_no_qemu bad
assert_no_run_state
assert_no_processes
