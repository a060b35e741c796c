# A VM defined only by conf files boots under QEMU; a command's output and exit status come
# back through the guest agent; stop powers it off gracefully; nothing is left behind.
. "$(dirname "$0")/lib.sh"

make_qemu_vm demo
printf '[vm]\nroot-disk = %s\n' "$T/img/demo-root.img" >"$CONF/vms/demo.conf.d/root.conf"
sum_before=$(sha256sum <"$T/img/demo-root.img")

expect 0 "$VMSILO" start demo
watch_console demo
[ -S "$RUN/demo/control.sock" ] || fail "no QMP socket"

expect 0 "$VMSILO" run demo hostname
[ "$(cat "$T/out")" = demo ] || fail "hostname is '$(cat "$T/out")', not the VM name"

expect 42 "$VMSILO" run demo sh -c 'echo "out $1"; echo "err $2" >&2; exit 42' sh 'a b' "c'd"
[ "$(cat "$T/out")" = "out a b" ] || fail "stdout: $(cat "$T/out")"
[ "$(cat "$T/err")" = "err c'd" ] || fail "stderr: $(cat "$T/err")"

# the root disk is mounted read-only under the overlay; the guest sees our marker
expect 0 "$VMSILO" run demo cat /etc/vmsilo-rootfs

expect 0 "$VMSILO" list
grep -q '^demo  *running$' "$T/out" || fail "list does not show demo running"

expect 0 "$VMSILO" stop --timeout 60 demo
sleep 0.3
grep -q "vmsilo-init: powering off" "$T/console-demo.log" ||
        { cat "$T/console-demo.log" >&2; fail "the guest did not power off by itself"; }
assert_no_qemu demo
assert_no_run_state
assert_no_processes
[ "$(sha256sum <"$T/img/demo-root.img")" = "$sum_before" ] || fail "root disk changed"
