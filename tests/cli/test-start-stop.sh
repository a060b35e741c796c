# start runs the recorded argv detached and returns once crosvm is up; stop presses the power
# button; afterwards nothing is left. Both crosvm flavours.
. "$(dirname "$0")/lib.sh"

for flavour in upstream patched; do
        use_crosvm "$flavour"
        make_vm web
        mkdir -p "$CONF/vms/web.conf.d"
        printf '[overlay]\ntype = raw\nsize = 1G\ndirectory = %s\n' "$T/state" \
                >"$CONF/vms/web.conf.d/50-overlay.conf"
        : >"$FAKE_CROSVM_RECORD"

        expect 0 "$VMSILO" print --json web
        jq -r '.argv[]' "$T/out" >"$T/planned"

        expect 0 "$VMSILO" start web
        [ -S "$RUN/web/control.sock" ] || fail "no control socket after start"
        [ -f "$T/state/web-ephemeral.raw" ] || fail "overlay file not created"
        [ "$(stat -c %s "$T/state/web-ephemeral.raw")" = 1073741824 ] || fail "overlay size"
        [ "$(stat -c %b "$T/state/web-ephemeral.raw")" -le 8 ] || fail "overlay not sparse"

        grep '"run"' "$FAKE_CROSVM_RECORD" | tail -n 1 | jq -r '.[]' >"$T/ran"
        # the VMM is exec'd with the resolved binary name as argv[0]; compare the rest
        tail -n +2 "$T/planned" >"$T/planned.rest"
        tail -n +2 "$T/ran" >"$T/ran.rest"
        diff -u "$T/planned.rest" "$T/ran.rest" || fail "$flavour: started argv differs from print"

        expect 0 "$VMSILO" list
        grep -q '^web  *running$' "$T/out" || fail "list does not show web running"

        expect 6 "$VMSILO" start web
        err_has "VM 'web' is already running"

        expect 0 "$VMSILO" stop web
        grep -q '"powerbtn"' "$FAKE_CROSVM_RECORD" || fail "stop did not press the power button"
        grep -q '"stop"' "$FAKE_CROSVM_RECORD" && fail "stop used 'crosvm stop' although the guest powered off"

        [ ! -e "$T/state/web-ephemeral.raw" ] || fail "overlay file left after stop"
        assert_no_run_state
        assert_no_processes
        # the console log (crosvm's serial, through the relay) outlives the run
        grep -q "fake-crosvm: booted" "$VMSILO_STATE_DIR/web/console.log" ||
                fail "no console log kept in the state dir"
        [ "$(stat -c %a "$VMSILO_STATE_DIR/web/console.log")" = 600 ] || fail "console.log mode"

        expect 0 "$VMSILO" list
        grep -q '^web  *stopped$' "$T/out" || fail "list does not show web stopped"
        expect 0 "$VMSILO" stop web
        err_has "VM 'web' is not running"
done
