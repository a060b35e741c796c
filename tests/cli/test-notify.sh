# start --foreground under a service manager: READY=1 reaches $NOTIFY_SOCKET once the VM is
# up (systemd Type=notify), STOPPING=1 when it is asked to stop.
. "$(dirname "$0")/lib.sh"

use_crosvm upstream
make_vm web
socat -u "UNIX-RECV:$T/notify.sock" "OPEN:$T/notified,creat,append" &
sp=$!
i=0
until [ -S "$T/notify.sock" ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "no socat"; sleep 0.1; done

NOTIFY_SOCKET="$T/notify.sock" "$VMSILO" start --foreground web 2>"$T/err" &
vp=$!
i=0
until grep -q "READY=1" "$T/notified" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || { kill $vp; fail "no READY=1"; }
        sleep 0.1
done
grep -q "^MAINPID=$vp$" "$T/notified" || fail "MAINPID is not the foreground process"
[ -S "$RUN/web/control.sock" ] || fail "READY before the VM was up"
kill -TERM "$vp"
wait "$vp" || fail "foreground start did not exit 0 after SIGTERM"
grep -q "STOPPING=1" "$T/notified" || fail "no STOPPING=1"
kill "$sp" 2>/dev/null || true
assert_no_run_state
