# Plugin sound against a real headless PipeWire (pipewire, wireplumber, pipewire-pulse on a
# private session bus and XDG_RUNTIME_DIR): the preflight fails for the right reason (no
# daemon; no session manager, so no default sink; capture on and no source) and passes with a
# null sink (and a virtual source for capture); a QEMU VM with sound appears as a client of
# that PipeWire while it runs and is gone after stop; on upstream crosvm the vhost-user
# backend helper is started on that PipeWire before the VMM and stopped with it.
. "$(dirname "$0")/lib.sh"

for tool in pipewire wireplumber pipewire-pulse pactl pw-metadata dbus-daemon; do
        command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps.sh)"
done

XDG="$T/xdg"
mkdir -m 700 "$XDG" "$T/home"
BUS="unix:path=$T/bus"
DAEMONS=""

# the daemons get their own environment; vmsilo-core gets only what a test gives it
daemon() {
        log=$1
        shift
        env HOME="$T/home" XDG_RUNTIME_DIR="$XDG" DBUS_SESSION_BUS_ADDRESS="$BUS" \
                XDG_CONFIG_HOME="$T/home/.config" XDG_STATE_HOME="$T/home/.state" "$@" \
                >>"$T/$log.log" 2>&1 &
        DAEMONS="$! $DAEMONS"
}

stop_daemons() {
        for pid in $DAEMONS; do
                kill "$pid" 2>/dev/null || true
        done
        for pid in $DAEMONS; do
                wait "$pid" 2>/dev/null || true
        done
        DAEMONS=""
        rm -rf "${XDG:?}"/* "$T/bus"
}

trap 'stop_daemons; cleanup_test' EXIT

wait_for() {
        what=$1
        shift
        for _ in $(seq 200); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        cat "$T"/*.log >&2 2>/dev/null || true
        fail "timed out waiting for $what"
}

# start_pipewire [wireplumber]: the bus, pipewire, optionally wireplumber, pipewire-pulse
start_pipewire() {
        daemon dbus dbus-daemon --session --address="$BUS" --nofork --nopidfile
        wait_for "the session bus" test -S "$T/bus"
        daemon pipewire pipewire
        wait_for "pipewire" test -S "$XDG/pipewire-0"
        if [ "${1:-}" = wireplumber ]; then
                daemon wireplumber wireplumber
        fi
        daemon pipewire-pulse pipewire-pulse
        wait_for "pipewire-pulse" test -S "$XDG/pulse/native"
}

pw() {
        env XDG_RUNTIME_DIR="$XDG" HOME="$T/home" "$@"
}

default_is() {
        pw pw-metadata -n default 0 "default.audio.$1" 2>/dev/null | grep -qF "{\"name\":\"$2\"}"
}

use_crosvm patched
make_vm s
VMF="$CONF/vms/s.conf"
printf '[sound]\nplayback = yes\n' >>"$VMF"
export XDG_RUNTIME_DIR="$XDG" HOME="$T/home"

# no daemon at all
expect 4 "$VMSILO" check s
err_has "sound: the PipeWire server at '$XDG/pipewire-0' does not answer: No such file or directory; is pipewire running?"
err_has "sound: pulse socket '$XDG/pulse/native' does not accept connections: No such file or directory; is pipewire-pulse running?"

# PipeWire without a session manager: it answers, but nothing chose a default sink
start_pipewire
expect 4 "$VMSILO" check s
err_has "sound: the PipeWire server at '$XDG/pipewire-0' has no default sink (no 'default.audio.sink' in its 'default' metadata, which does not exist: is wireplumber running?)"
[ "$(grep -c 'sound:' "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than the default sink failed"; }
stop_daemons

# with wireplumber and a null sink: playback passes
start_pipewire wireplumber
pw pactl load-module module-null-sink sink_name=vmsilo_null >/dev/null
wait_for "the null sink to become the default" default_is sink vmsilo_null
# with no source, wireplumber names the sink (its monitor) as the default source
wait_for "the null sink's monitor to become the default source" default_is source vmsilo_null
expect 0 "$VMSILO" check s
out_has "VM 's': all preflight checks passed"
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "check passed with messages"; }

# capture needs a source; the null sink's monitor is not one
printf 'capture = yes\n' >>"$VMF"
expect 4 "$VMSILO" check s
err_has "sound: 'capture = yes' but the PipeWire server at '$XDG/pipewire-0' has no capture source: its default source 'vmsilo_null' is not an Audio/Source node"
pw pactl load-module module-null-sink sink_name=vmsilo_mic media.class=Audio/Source/Virtual >/dev/null
wait_for "the virtual source to become the default" default_is source vmsilo_mic
expect 0 "$VMSILO" check s

# the same PipeWire named by keys instead of the environment
unset XDG_RUNTIME_DIR
printf 'pipewire-socket = %s/pipewire-0\npulse-socket = %s/pulse/native\n' "$XDG" "$XDG" >>"$VMF"
expect 0 "$VMSILO" check s
export XDG_RUNTIME_DIR="$XDG"

# QEMU joins PipeWire through the pulse socket while it runs, and leaves at stop (the guest
# needs no sound driver: QEMU connects as a pulse client when its audiodev starts)
make_qemu_vm snd
printf '[sound]\nplayback = yes\n' >"$CONF/vms/snd.conf.d/sound.conf"
qemu_clients() {
        pw pactl list clients 2>/dev/null | grep -c 'application.process.binary = "qemu-system-x86_64"' || true
}
no_qemu_client() {
        [ "$(qemu_clients)" -eq 0 ]
}
no_qemu_client || fail "a qemu client before the start"
expect 0 "$VMSILO" start snd
qpid=$(pgrep -f "qemu-system-x86_64 -name snd,") || fail "qemu of 'snd' is not running"
wait_for "qemu to appear as a PipeWire client" sh -c "XDG_RUNTIME_DIR='$XDG' pactl list clients | grep -qF 'application.process.id = \"$qpid\"'"
[ "$(qemu_clients)" -eq 1 ] || fail "expected one qemu client"
# QEMU names its pulse client after the VM (-name snd)
pw pactl list clients | grep -B12 "application.process.id = \"$qpid\"" | grep -qF 'application.name = "snd"' ||
        fail "the qemu client is not named after the VM"
expect 0 "$VMSILO" run snd true
expect 0 "$VMSILO" stop --timeout 60 snd
wait_for "the qemu client to leave PipeWire" no_qemu_client
assert_no_qemu snd
assert_no_run_state

# upstream crosvm: the vhost-user backend runs on this PipeWire as a helper, before crosvm,
# and stops with it (a stand-in backend that serves the socket and records what it got)
cat >"$T/vhost-device-sound" <<EOS
#!/bin/sh
echo "\$XDG_RUNTIME_DIR \$PIPEWIRE_REMOTE \$*" >"$T/backend.args"
while [ \$# -gt 0 ]; do
        [ "\$1" = --socket ] && sock=\$2
        shift
done
exec socat UNIX-LISTEN:"\$sock",fork OPEN:/dev/null
EOS
chmod +x "$T/vhost-device-sound"
use_crosvm upstream
make_vm s
printf '[sound]\nplayback = yes\ncapture = yes\nvhost-user-backend = %s/vhost-device-sound\n' "$T" >>"$VMF"
expect 0 "$VMSILO" start s
[ "$(cat "$T/backend.args")" = "$XDG pipewire-0 --socket $RUN/s/sound.sock --backend pipewire" ] ||
        fail "backend got: $(cat "$T/backend.args")"
[ -S "$RUN/s/sound.sock" ] || fail "the backend's socket is missing while the VM runs"
pgrep -f "UNIX-LISTEN:$RUN/s/sound.sock" >/dev/null || fail "the backend is not running"
last_record | grep -qxF -- "--vhost-user=sound,socket=$RUN/s/sound.sock" || fail "crosvm did not get the vhost-user device"
expect 0 "$VMSILO" stop s
! pgrep -f "UNIX-LISTEN:$RUN/s/sound.sock" >/dev/null || fail "the backend survived the stop"
assert_no_run_state

stop_daemons
assert_no_processes
