# stop while the VM is still starting (a plugin's prepare takes 2 s): the supervisor is asked
# to stop, finishes bringing the VM up, powers it off and undoes everything; nothing is left.
. "$(dirname "$0")/lib.sh"

use_crosvm upstream
make_vm web
cp "$BUILD/fixtures/testplug.so" "$T/testplug.so"
printf '[plugin testplug]\nenable = yes\npath = %s/testplug.so\n' "$T" >"$CONF/conf.d/60-testplug.conf"
mkdir -p "$CONF/vms/web.conf.d"
printf '[testplug]\nmarker = %s/marker\nslow-prepare = 2\n' "$T" >"$CONF/vms/web.conf.d/tp.conf"

"$VMSILO" start web >"$T/start.out" 2>"$T/start.err" &
sp=$!
i=0
until [ -e "$RUN/web/supervisor.pid" ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "no supervisor"; sleep 0.1; done
[ ! -e "$RUN/web/vmm.info" ] || fail "the VM was up too early for this test"
expect 0 "$VMSILO" stop --timeout 5 web
wait "$sp" || true
grep -q '"powerbtn"' "$FAKE_CROSVM_RECORD" || fail "the VM was not powered off gracefully"
[ ! -e "$T/marker" ] || fail "marker left"
assert_no_run_state
assert_no_processes
