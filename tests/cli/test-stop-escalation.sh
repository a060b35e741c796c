# A guest that ignores the power button: stop waits --timeout, then 'crosvm stop'.
. "$(dirname "$0")/lib.sh"

use_crosvm upstream
make_vm web
export FAKE_CROSVM_IGNORE_POWERBTN=1
expect 0 "$VMSILO" start web
expect 0 "$VMSILO" stop --timeout 1 web
err_has "did not power off within 1 s"
grep -q '"powerbtn"' "$FAKE_CROSVM_RECORD" || fail "no power button first"
grep -q '"stop"' "$FAKE_CROSVM_RECORD" || fail "no 'crosvm stop' after the timeout"
assert_no_run_state
assert_no_processes
