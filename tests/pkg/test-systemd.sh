# The systemd units as installed: `systemd-analyze verify` finds nothing to say about them
# (in the staged root, so their ExecStart binaries must be the installed ones), and their
# command lines work: ExecStart= under a $NOTIFY_SOCKET of ours gets READY=1 exactly when
# the VM is up (Type=notify), ExecStop= stops it, SIGTERM (systemd's stop without ExecStop)
# sends STOPPING=1 and stops it, ExecStopPost= cleans up after a killed supervisor, and a
# failed start exits without READY=1. The relay of vmsilo-run@.service, given a listening
# socket as systemd passes it, forwards connections to the agent socket the unit names.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed (scripts/install-deps.sh: systemd)"
stage_install
use_root
UNITDIR="$ROOT/usr/lib/systemd/system"
for u in vmsilo@.service vmsilo-run@.socket vmsilo-run@.service; do
        [ -f "$UNITDIR/$u" ] || fail "$u not installed in $UNITDIR"
done

# the root gets what a system with systemd has: its targets and systemd-socket-proxyd
proxyd=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$UNITDIR/vmsilo-run@.service")
[ -x "$proxyd" ] || fail "the relay '$proxyd' does not exist on this system"
cp -an /usr/lib/systemd/system/. "$UNITDIR/"
mkdir -p "$ROOT$(dirname "$proxyd")"
cp "$proxyd" "$ROOT$proxyd"

verify() {
        (cd / && systemd-analyze verify --man=no --root="$ROOT" "$@") >"$T/verify" 2>&1 ||
                { cat "$T/verify" >&2; fail "systemd-analyze verify $* failed"; }
        [ ! -s "$T/verify" ] || { cat "$T/verify" >&2; fail "systemd-analyze verify $* has warnings"; }
}
verify vmsilo@work.service vmsilo-run@work.socket vmsilo-run@work.service
# it does fail on a unit whose binary is missing (the check above is not vacuous)
mv "$ROOT/usr/bin/vmsilo-core" "$T/moved"
(cd / && systemd-analyze verify --man=no --root="$ROOT" vmsilo@work.service) >/dev/null 2>&1 &&
        fail "verify passed without the ExecStart binary"
mv "$T/moved" "$ROOT/usr/bin/vmsilo-core"

grep -qx 'Type=notify' "$UNITDIR/vmsilo@.service" || fail "vmsilo@.service is not Type=notify"
grep -qx 'ListenStream=/run/vmsilo/%i.run.sock' "$UNITDIR/vmsilo-run@.socket" || fail "socket path"

# unit_cmd KEY NAME: the unit's KEY= command line for instance NAME, run from the staged root
unit_cmd() {
        line=$(sed -n "s/^$1=//p" "$UNITDIR/vmsilo@.service")
        [ -n "$line" ] || fail "vmsilo@.service has no $1="
        printf '%s\n' "$line" | sed -e "s|%i|$2|g" -e "s|^/usr/bin/vmsilo-core|$ROOT/usr/bin/vmsilo-core|"
}

use_crosvm upstream
make_vm work
mask_shipped_except overlay

# our $NOTIFY_SOCKET: every datagram is appended to notify.log (datagrams have no newline)
socat -u UNIX-RECV:"$T/notify.sock" OPEN:"$T/notify.log",creat,append >/dev/null 2>&1 &
notify_listener=$!
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.02; done
[ -S "$T/notify.sock" ] || fail "no notify socket"
: >"$T/notify.log"

# as assert_no_processes, but our notify listener may run
assert_no_vm_processes() {
        if pgrep -f "$T/" | grep -vx "$notify_listener" >/dev/null; then
                ps -ef | grep -F "$T/" | grep -v -e grep -e UNIX-RECV >&2 || true
                fail "processes left behind"
        fi
}

# wait_notify TEXT: up to 10 s for TEXT in the notify log
wait_notify() {
        for _ in $(seq 500); do
                grep -q "$1" "$T/notify.log" 2>/dev/null && return 0
                sleep 0.02
        done
        cat "$T/notify.log" >&2
        fail "no '$1' from the service"
}

# ExecStart: READY=1 when the VM is up, from the main process
# shellcheck disable=SC2046
NOTIFY_SOCKET="$T/notify.sock" $(unit_cmd ExecStart work) >"$T/main.out" 2>&1 &
main=$!
wait_notify READY=1
[ -S "$RUN/work/control.sock" ] || fail "READY=1 before the VM's control socket exists"
grep -q "MAINPID=$main\([^0-9]\|$\)" "$T/notify.log" || fail "MAINPID is not the ExecStart process ($main): $(cat "$T/notify.log")"
pid_alive "$main" || fail "ExecStart did not stay in the foreground"
expect 0 "$VMSILO" list --json
[ "$(jq -r '.[] | select(.name == "work") | .state' "$T/out")" = running ] || fail "not running after READY=1"

# ExecStop: stops the VM; the main process then exits 0
# shellcheck disable=SC2046
expect 0 $(unit_cmd ExecStop work)
for _ in $(seq 250); do pid_alive "$main" || break; sleep 0.02; done
pid_alive "$main" && fail "the main process outlived ExecStop"
wait "$main" || fail "the main process exited $? after ExecStop"
# shellcheck disable=SC2046
expect 0 $(unit_cmd ExecStopPost work)
assert_no_run_state
assert_no_vm_processes

# no ExecStop (or after it timed out), systemd sends SIGTERM: STOPPING=1, then a clean exit
: >"$T/notify.log"
# shellcheck disable=SC2046
NOTIFY_SOCKET="$T/notify.sock" $(unit_cmd ExecStart work) >"$T/main.out" 2>&1 &
main=$!
wait_notify READY=1
kill -TERM "$main"
wait_notify STOPPING=1
wait "$main" || fail "the main process exited $? on SIGTERM"
assert_no_run_state
assert_no_vm_processes

# a crash: the supervisor and the VMM killed; ExecStopPost undoes what the journal holds
mkdir -p "$CONF/vms/work.conf.d"
printf '[overlay]\ntype = raw\nsize = 64M\ndirectory = %s\n' "$T/state" >"$CONF/vms/work.conf.d/50-overlay.conf"
: >"$T/notify.log"
# shellcheck disable=SC2046
NOTIFY_SOCKET="$T/notify.sock" $(unit_cmd ExecStart work) >"$T/main.out" 2>&1 &
main=$!
wait_notify READY=1
[ -f "$T/state/work-ephemeral.raw" ] || fail "no overlay file"
vmm=$(cut -d' ' -f1 "$RUN/work/vmm.pid")
kill -KILL "$main" "$vmm"
wait "$main" 2>/dev/null || true
for _ in $(seq 100); do pid_alive "$vmm" || break; sleep 0.02; done
# shellcheck disable=SC2046
expect 0 $(unit_cmd ExecStopPost work)
[ ! -e "$T/state/work-ephemeral.raw" ] || fail "ExecStopPost left the overlay file"
assert_no_run_state
assert_no_vm_processes
rm "$CONF/vms/work.conf.d/50-overlay.conf"

# a start that fails: non-zero, and never READY=1 (systemctl start then reports the failure)
: >"$T/notify.log"
rm "$T/img/vmlinuz"
(
        export NOTIFY_SOCKET="$T/notify.sock"
        # shellcheck disable=SC2046
        expect 4 $(unit_cmd ExecStart work)
) || exit 1
sleep 0.2
grep -q READY=1 "$T/notify.log" && fail "READY=1 from a failed start"
: >"$T/img/vmlinuz"
assert_no_run_state
kill "$notify_listener" 2>/dev/null || true

# the relay: systemd passes the listening socket of vmsilo-run@NAME.socket (LISTEN_FDS=1);
# every connection reaches the agent socket named in the unit (here a stand-in echo agent)
relay=$(sed -n 's/^ExecStart=//p' "$UNITDIR/vmsilo-run@.service" |
        sed -e "s|%i|relay|g" -e "s|/run/vmsilo/|$RUN/|")
mkdir -p "$RUN/relay"
socat UNIX-LISTEN:"$RUN/relay/agent.sock",fork EXEC:cat >/dev/null 2>&1 &
agent=$!
for _ in $(seq 100); do [ -S "$RUN/relay/agent.sock" ] && break; sleep 0.02; done
# shellcheck disable=SC2086
systemd-socket-activate -l "$T/relay.run.sock" $relay >"$T/relay.log" 2>&1 &
activate=$!
for _ in $(seq 100); do [ -S "$T/relay.run.sock" ] && break; sleep 0.02; done
for msg in first second; do
        # no half-close: the agent protocol ends sessions with frames, and socket-proxyd drops
        # a connection at the first EOF
        got=$( (printf '%s\n' "$msg"; sleep 0.3) | socat - UNIX-CONNECT:"$T/relay.run.sock")
        [ "$got" = "$msg" ] || { cat "$T/relay.log" >&2; fail "relay: sent '$msg', got '$got'"; }
done
kill "$activate" "$agent" 2>/dev/null || true
wait 2>/dev/null || true
rm -rf "$RUN/relay"
assert_no_processes
