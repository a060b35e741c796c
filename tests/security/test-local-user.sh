# A local user who is not root (and not in the VM's group) attacks a VM that root started:
# every socket, log, journal and pid file of its runtime dir, and every command of the CLI.
# The temp tree is opened up (0755) so that only vmsilo-core's own modes stand in the way.
. "$(dirname "$0")/lib.sh"

make_qemu_vm lu
expect 0 "$VMSILO" start lu
chmod 0755 "$T"
outsider=$(make_test_user out)
dir="$RUN/lu"

# the runtime dir cannot be listed or entered
as_user "$outsider" ls "$dir" >/dev/null 2>&1 && fail "outsider can list $dir"
for f in agent.sock console.sock control.sock agent-backend.sock console-backend.sock; do
        [ -S "$dir/$f" ] || continue
        as_user "$outsider" python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"\0" * 12)
' "$dir/$f" 2>/dev/null && fail "outsider connected to $f"
done
for f in console.log supervisor.log vmm.log journal vmm.argv lock; do
        as_user "$outsider" cat "$dir/$f" >/dev/null 2>&1 && fail "outsider read $f"
done

# the CLI refuses the outsider and changes nothing
for cmd in "run lu true" "stop lu" "cleanup lu" "shell --agent lu"; do
        # shellcheck disable=SC2086
        if as_user "$outsider" env VMSILO_CONF_PATH="$VMSILO_CONF_PATH" \
                VMSILO_RUNTIME_DIR="$RUN" VMSILO_CACHE_DIR="$T/outsider-cache" \
                VMSILO_PLUGIN_DIR="$VMSILO_PLUGIN_DIR" "$VMSILO" $cmd </dev/null \
                >"$T/out" 2>"$T/err"; then
                fail "outsider's '$cmd' succeeded"
        fi
done
as_user "$outsider" kill -TERM "$(cat "$dir/supervisor.pid" 2>/dev/null | cut -d' ' -f1)" \
        2>/dev/null && fail "outsider signalled the supervisor"

# the VM is untouched and still serves root
expect 0 "$VMSILO" list
grep -q '^lu  *running$' "$T/out" || fail "VM not running after the attacks: $(cat "$T/out")"
expect 0 "$VMSILO" run lu echo still-here
[ "$(cat "$T/out")" = still-here ] || fail "run after the attacks: $(cat "$T/out")"
expect 0 "$VMSILO" stop lu
[ ! -e "$dir" ] || fail "runtime dir left after stop"
