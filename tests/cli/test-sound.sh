# Plugin sound: the exact crosvm arguments for both flavours (`print --json`, compared with the
# same VM without [sound]; patched: --virtio-snd backend=pulse, upstream: a vhost-user backend
# helper), each argv accepted by the stand-in crosvm's grammar, the QEMU arguments, the
# preflight messages that need no PipeWire, and every malformed value (exit 3, one line
# naming file:line). The checks against a real PipeWire are in tests/e2e/test-sound.sh.
. "$(dirname "$0")/lib.sh"

unset XDG_RUNTIME_DIR PIPEWIRE_RUNTIME_DIR PIPEWIRE_REMOTE XDG_CONFIG_HOME
export HOME=/home/u
VMF="$CONF/vms/s.conf"

# a stand-in vhost-user sound backend (print never runs it)
cat >"$T/vhost-device-sound" <<'EOS'
#!/bin/sh
exit 1
EOS
chmod +x "$T/vhost-device-sound"

# sound_argv_added FLAVOUR CONFIG: the argv lines CONFIG adds, in order; none may disappear;
# the stand-in crosvm of FLAVOUR must accept the whole argv.
sound_argv_added() {
        use_crosvm "$1"
        make_vm s
        expect 0 "$VMSILO" print --json s
        jq -r '.argv[]' "$T/out" >"$T/base"
        printf '%s\n' "$2" >>"$VMF"
        expect 0 "$VMSILO" print --json s
        cp "$T/out" "$T/plan.json"
        jq -r '.argv[]' "$T/out" >"$T/argv"
        set +e
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD= sh -c '"$@"' sh $(cat "$T/argv") 2>"$T/crosvm-err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/crosvm-err" >&2; fail "$1: crosvm grammar rejects the argv ($rc)"; }
        diff "$T/base" "$T/argv" >"$T/diff" || true
        if grep -q '^<' "$T/diff"; then
                cat "$T/diff" >&2
                fail "$1: [sound] removed arguments"
        fi
        sed -n 's/^> //p' "$T/diff"
}

expect_added() {
        sound_argv_added "$1" "$2" >"$T/added"
        if [ -n "$3" ]; then printf '%s\n' "$3"; fi >"$T/want"
        diff -u "$T/want" "$T/added" || fail "$1: unexpected sound arguments for: $2"
}

# the patched crosvm plays through the user's pulse socket itself
expect_added patched '[sound]
playback = yes
pulse-socket = /run/user/1000/pulse/native
pulse-cookie = /home/u/.config/pulse/cookie' "--virtio-snd=backend=pulse,capture=false,pulse_socket_path=/run/user/1000/pulse/native,pulse_cookie_path=/home/u/.config/pulse/cookie"
[ "$(jq '.helpers | length' "$T/plan.json")" -eq 0 ] || fail "patched: a helper is planned"

# capture; paths from the environment of vmsilo-core
export XDG_RUNTIME_DIR=/run/user/1001
expect_added patched '[sound]
playback = yes
capture = yes' "--virtio-snd=backend=pulse,capture=true,pulse_socket_path=/run/user/1001/pulse/native,pulse_cookie_path=/home/u/.config/pulse/cookie"
# a path crosvm must see quoted
expect_added patched '[sound]
capture = yes
pulse-socket = /run/a,b/native' "--virtio-snd=backend=pulse,capture=true,pulse_socket_path=\"/run/a,b/native\",pulse_cookie_path=/home/u/.config/pulse/cookie"

# upstream crosvm: the vhost-user backend runs as a helper on the user's PipeWire
expect_added upstream "[sound]
playback = yes
capture = yes
vhost-user-backend = $T/vhost-device-sound" "--vhost-user=sound,socket=$RUN/s/sound.sock"
jq -c '.helpers' "$T/plan.json" >"$T/helpers"
printf '%s\n' "[{\"plugin\":\"sound\",\"name\":\"vhost-device-sound\",\"argv\":[\"env\",\"XDG_RUNTIME_DIR=/run/user/1001\",\"PIPEWIRE_RUNTIME_DIR=/run/user/1001\",\"PIPEWIRE_REMOTE=pipewire-0\",\"$T/vhost-device-sound\",\"--socket\",\"$RUN/s/sound.sock\",\"--backend\",\"pipewire\"]}]" >"$T/want"
diff -u "$T/want" "$T/helpers" || fail "upstream: unexpected helper"
jq -r '.steps[]' "$T/plan.json" | grep -qxF "sound: start '$T/vhost-device-sound' on PipeWire '/run/user/1001/pipewire-0', listening on '$RUN/s/sound.sock'" ||
        fail "upstream: the plan lacks the helper step"

# found in $PATH by its default name
PATH="$T:$PATH" expect_added upstream "[sound]
capture = yes
pipewire-socket = /run/user/1000/pipewire-0" "--vhost-user=sound,socket=$RUN/s/sound.sock"
jq -r '.helpers[0].argv | join(" ")' "$T/plan.json" | grep -qxF "env XDG_RUNTIME_DIR=/run/user/1000 PIPEWIRE_RUNTIME_DIR=/run/user/1000 PIPEWIRE_REMOTE=pipewire-0 $T/vhost-device-sound --socket $RUN/s/sound.sock --backend pipewire" ||
        fail "upstream: backend not found in \$PATH"

# off (the default) adds nothing
expect_added upstream '[sound]
playback = no
capture = no' ""

# upstream without a backend: print and check say what to install
use_crosvm upstream
make_vm s
printf '[sound]\nplayback = yes\nvhost-user-backend = /nonexistent/vhost-device-sound\n' >>"$VMF"
expect 1 "$VMSILO" print s
err_has "sound: the vhost-user sound backend '/nonexistent/vhost-device-sound' was not found; install rust-vmm's vhost-device-sound or vmsilo's patched crosvm"
expect 4 "$VMSILO" check s
err_has "sound: crosvm has no PipeWire/Pulse backend for '--virtio-snd', and the vhost-user sound backend '/nonexistent/vhost-device-sound' was not found; install vmsilo's patched crosvm, or rust-vmm's vhost-device-sound"
err_has "sound: 'capture = no' cannot be enforced with upstream crosvm"

# no PipeWire: every failure names its socket (exit 4), and start leaves nothing behind
use_crosvm patched
make_vm s
printf '[sound]\nplayback = yes\ncapture = yes\n' >>"$VMF"
export XDG_RUNTIME_DIR="$T/no-runtime"
expect 4 "$VMSILO" check s
err_has "sound: the PipeWire server at '$T/no-runtime/pipewire-0' does not answer: No such file or directory; is pipewire running?"
err_has "sound: pulse socket '$T/no-runtime/pulse/native' does not accept connections: No such file or directory; is pipewire-pulse running?"
expect 4 "$VMSILO" start s
assert_no_run_state
unset XDG_RUNTIME_DIR
expect 4 "$VMSILO" check s
err_has "sound: no PipeWire socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'pipewire-socket' in [sound] to the socket of the VM's user"

# a crosvm that cannot be probed is the core's error; the plugin still checks PipeWire
make_vm s
printf '[crosvm]\npath = %s/no-crosvm\n[sound]\nplayback = yes\npipewire-socket = %s/no-pw\n' "$T" "$T" >>"$VMF"
expect 4 "$VMSILO" check s
err_has "crosvm binary '$T/no-crosvm' not found"
err_has "sound: the PipeWire server at '$T/no-pw' does not answer: No such file or directory"
! grep -q "sound: .*crosvm" "$T/err" || { cat "$T/err" >&2; fail "sound claims flags of a crosvm it could not probe"; }

# QEMU joins the pulse socket with its own audiodev and an HDA codec
make_vm s
printf '[vm]\nvmm = qemu\n[sound]\nplayback = yes\npulse-socket = /run/user/1000/pulse/native\n' >>"$VMF"
expect 0 "$VMSILO" print --json s
jq -r '.argv[]' "$T/out" | grep -A5 -x -- -audiodev >"$T/added"
printf '%s\n' -audiodev pa,id=snd0,server=unix:/run/user/1000/pulse/native -device intel-hda \
        -device hda-output,audiodev=snd0 >"$T/want"
diff -u "$T/want" "$T/added" || fail "qemu: unexpected sound arguments"
sed -i 's/^playback = yes$/capture = yes/' "$VMF"
expect 0 "$VMSILO" print --json s
jq -r '.argv[]' "$T/out" | grep -A5 -x -- -audiodev | tail -n 1 | grep -qxF "hda-duplex,audiodev=snd0" || fail "qemu: capture is not duplex"

# every malformed value: exit 3, one line, file:line
check_error() {
        make_vm s
        printf '%s\n' "$1" >>"$VMF"
        expect 3 "$VMSILO" check s
        err_has "$2"
        [ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for: $1"; }
}
check_error '[sound]
playback = loud' "$VMF:8: sound: invalid value 'loud' for 'playback' in [sound]: expected yes or no"
check_error '[sound]
capture = 1x' "$VMF:8: sound: invalid value '1x' for 'capture' in [sound]: expected yes or no"
check_error '[sound]
pipewire-socket = pipewire-0' "$VMF:8: sound: invalid value 'pipewire-0' for 'pipewire-socket' in [sound]: expected an absolute path"
check_error '[sound]
pulse-socket = native' "$VMF:8: sound: invalid value 'native' for 'pulse-socket' in [sound]: expected an absolute path"
check_error '[sound]
pulse-cookie = ~/.config/pulse/cookie' "$VMF:8: sound: invalid value '~/.config/pulse/cookie' for 'pulse-cookie' in [sound]: expected an absolute path"
check_error '[sound]
vhost-user-backend = ./vhost-device-sound' "$VMF:8: sound: invalid value './vhost-device-sound' for 'vhost-user-backend' in [sound]: expected an absolute path or a program name to look up in \$PATH"
check_error '[sound]
check-timeout = 0' "$VMF:8: sound: invalid value '0' for 'check-timeout' in [sound]: expected milliseconds from 10 to 60000"
check_error '[sound]
volume = 11' "$VMF:8: unknown key 'volume' in section [sound]"
check_error '[sound hda]
playback = yes' "$VMF:8: sound: section [sound] takes no name, found 'hda'"
assert_no_run_state
assert_no_processes
