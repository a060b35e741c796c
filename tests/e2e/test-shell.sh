# shell: the serial console (input reaches a guest shell, output comes back, Ctrl-] detaches)
# and shell --agent (a login shell through the agent, with its exit status).
. "$(dirname "$0")/lib.sh"

make_qemu_vm sh1
printf '[vm]\nkernel-params = vmsilo.console-shell\n' >"$CONF/vms/sh1.conf.d/console.conf"

expect 7 "$VMSILO" shell sh1
err_has "VM 'sh1' has no console"

expect 0 "$VMSILO" start sh1
expect 0 "$VMSILO" run sh1 true # booted
{
        sleep 1
        echo 'echo console-says-$((6*7))'
        sleep 2
        printf '\035'
} | timeout 30 "$VMSILO" shell sh1 >"$T/console" 2>&1 || fail "shell did not detach on Ctrl-]"
grep -q "console-says-42" "$T/console" || { cat "$T/console"; fail "no answer from the console shell"; }

printf 'echo agent-says-$((6*7))\nexit 3\n' | timeout 30 "$VMSILO" shell --agent sh1 >"$T/agent" 2>&1 &&
        rc=0 || rc=$?
[ "$rc" = 3 ] || { cat "$T/agent"; fail "shell --agent exited $rc, expected 3"; }
grep -q "agent-says-42" "$T/agent" || { cat "$T/agent"; fail "no answer from the agent shell"; }

expect 2 "$VMSILO" shell --root sh1
expect 0 "$VMSILO" stop --timeout 60 sh1
assert_no_qemu sh1
assert_no_run_state
assert_no_processes
