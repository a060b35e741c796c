# Failed starts leave nothing behind: the VMM exits at once, a plugin fails in prepare,
# the kernel is missing (preflight).
. "$(dirname "$0")/lib.sh"

use_crosvm upstream
make_vm web
mkdir -p "$CONF/vms/web.conf.d"
printf '[overlay]\ntype = raw\nsize = 1G\ndirectory = %s\n' "$T/state" >"$CONF/vms/web.conf.d/overlay.conf"

# 1. crosvm dies at once
FAKE_CROSVM_EXIT=1 expect 1 "$VMSILO" start web
err_has "crosvm exited with status 1 before it was up"
[ ! -e "$T/state/web-ephemeral.raw" ] || fail "overlay file left after a failed start"
assert_no_run_state
assert_no_processes

# 2. a plugin fails in prepare after starting a helper and making a file
cp "$BUILD/fixtures/testplug.so" "$T/testplug.so"
printf '[plugin testplug]\nenable = yes\npath = %s/testplug.so\n' "$T" >"$CONF/conf.d/60-testplug.conf"
printf '[testplug]\nmarker = %s/marker\nfail-prepare = yes\n' "$T" >"$CONF/vms/web.conf.d/tp.conf"
expect 1 "$VMSILO" start web
err_has "testplug: failing prepare on purpose"
[ ! -e "$T/marker" ] || fail "plugin's marker left after a failed prepare"
[ ! -e "$T/state/web-ephemeral.raw" ] || fail "overlay file left after a failed prepare"
assert_no_run_state
assert_no_processes
rm "$CONF/vms/web.conf.d/tp.conf" "$CONF/conf.d/60-testplug.conf"

# 3. preflight: kernel missing, and the overlay dir is not creatable; both reported
rm "$T/img/vmlinuz"
: >"$T/notadir"
printf '[overlay]\ntype = raw\ndirectory = %s/notadir/sub\n' "$T" >"$CONF/vms/web.conf.d/overlay.conf"
expect 4 "$VMSILO" start web
err_has "kernel '$T/img/vmlinuz' is not readable"
err_has "overlay: cannot create overlay directory '$T/notadir/sub'"
err_has "2 preflight checks failed for VM 'web', not starting it"
expect 4 "$VMSILO" check web
err_has "2 preflight checks failed for VM 'web'"
assert_no_run_state
