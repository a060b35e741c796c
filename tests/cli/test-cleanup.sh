# After a crash of the launcher (supervisor and VMM killed), cleanup undoes everything the
# journal lists: helper, plugin action, overlay file. It is idempotent.
. "$(dirname "$0")/lib.sh"

use_crosvm patched
make_vm web
cp "$BUILD/fixtures/testplug.so" "$T/testplug.so"
printf '[plugin testplug]\nenable = yes\npath = %s/testplug.so\n' "$T" >"$CONF/conf.d/60-testplug.conf"
mkdir -p "$CONF/vms/web.conf.d"
printf '[testplug]\nmarker = %s/marker\n[overlay]\ntype = raw\ndirectory = %s\n' "$T" "$T/state" \
        >"$CONF/vms/web.conf.d/x.conf"

expect 0 "$VMSILO" start web
[ -e "$T/marker" ] || fail "marker not created"
pgrep -f "sleep 300" >/dev/null || fail "helper not running"
sup=$(cut -d' ' -f1 "$RUN/web/supervisor.pid")
vmm=$(cut -d' ' -f1 "$RUN/web/vmm.pid")
helper=$(awk -F'\t' '$1 == "kill" && $4 == "testplug/sleeper" {print $2}' "$RUN/web/journal")
kill -9 "$sup"
kill -9 "$vmm" 2>/dev/null || true
sleep 0.3
[ -e "$T/marker" ] || fail "marker vanished without cleanup"

expect 0 "$VMSILO" list
grep -q "^web  *needs cleanup: run 'vmsilo-core cleanup web'$" "$T/out" ||
        fail "a crashed VM must show as needing cleanup: $(cat "$T/out")"

expect 0 "$VMSILO" cleanup web
[ ! -e "$T/marker" ] || fail "cleanup left the plugin's marker"
[ ! -e "$T/state/web-ephemeral.raw" ] || fail "cleanup left the overlay file"
pid_alive "$helper" && fail "cleanup left the helper (pid $helper) running"
assert_no_run_state
expect 0 "$VMSILO" cleanup web

# a stale run is also cleaned by the next start
expect 0 "$VMSILO" start web
sup=$(cut -d' ' -f1 "$RUN/web/supervisor.pid")
kill -9 "$sup"
# SIGKILL is delivered asynchronously: the lock is free once the process is gone
for _ in $(seq 250); do pid_alive "$sup" || break; sleep 0.02; done
expect 0 "$VMSILO" start web
expect 0 "$VMSILO" stop web
[ ! -e "$T/marker" ] || fail "marker left"
assert_no_run_state
assert_no_processes
