# overlay=raw: the guest's writes to / land in the sparse overlay file, the root image stays
# byte-for-byte the same, the file is gone after stop, and the next start starts clean.
. "$(dirname "$0")/lib.sh"

make_qemu_vm ov
cat >"$CONF/vms/ov.conf.d/o.conf" <<EOS
[vm]
root-disk = $T/img/ov-root.img
[overlay]
type = raw
size = 256M
directory = $T/state
EOS
sum_before=$(sha256sum <"$T/img/ov-root.img")

expect 0 "$VMSILO" start ov
[ -f "$T/state/ov-ephemeral.raw" ] || fail "no overlay file"
expect 0 "$VMSILO" run ov sh -c 'echo written-in-guest >/etc/guest-file && sync && cat /etc/guest-file'
[ "$(cat "$T/out")" = written-in-guest ] || fail "guest could not write to /"
grep -aq written-in-guest "$T/state/ov-ephemeral.raw" || fail "the write did not land in the overlay file"
expect 0 "$VMSILO" stop --timeout 60 ov
[ ! -e "$T/state/ov-ephemeral.raw" ] || fail "overlay file left after stop"
[ "$(sha256sum <"$T/img/ov-root.img")" = "$sum_before" ] || fail "root image changed"

expect 0 "$VMSILO" start ov
expect 1 "$VMSILO" run ov test -e /etc/guest-file
expect 0 "$VMSILO" stop --timeout 60 ov
assert_no_qemu ov
assert_no_run_state
assert_no_processes
