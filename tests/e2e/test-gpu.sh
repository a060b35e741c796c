# Plugin gpu against a real headless Weston (its own XDG_RUNTIME_DIR): with the compositor up,
# `check` passes the gpu check (the socket from $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY or from
# 'wayland-socket'); a compositor that is down, a wrong socket name, or a socket that accepts
# but never answers fails it with the socket named; the patched crosvm's security context is
# refused because Weston 10 has no security-context-v1; a start through the stand-in crosvm
# hands it the socket and leaves nothing behind; QEMU refuses Wayland.
. "$(dirname "$0")/lib.sh"

command -v weston >/dev/null || fail "weston is not installed (scripts/install-deps.sh)"

XDG="$T/xdg"
mkdir -m 700 "$XDG"
SOCK="$XDG/wl-vmsilo"
WESTON_PID=
HANG_PID=

stop_weston() {
        [ -n "$WESTON_PID" ] || return 0
        kill "$WESTON_PID" 2>/dev/null || true
        wait "$WESTON_PID" 2>/dev/null || true
        WESTON_PID=
}

stop_hang() {
        [ -n "$HANG_PID" ] || return 0
        kill "$HANG_PID" 2>/dev/null || true
        wait "$HANG_PID" 2>/dev/null || true
        HANG_PID=
}

trap 'stop_weston; stop_hang; cleanup_test' EXIT

start_weston() {
        XDG_RUNTIME_DIR="$XDG" weston --backend=headless-backend.so --socket=wl-vmsilo \
                --idle-time=0 >"$T/weston.log" 2>&1 &
        WESTON_PID=$!
        for _ in $(seq 200); do
                [ -S "$SOCK" ] && return 0
                sleep 0.05
        done
        cat "$T/weston.log" >&2
        fail "weston did not create '$SOCK'"
}

use_crosvm upstream
make_vm g
VMF="$CONF/vms/g.conf"
# Wayland only: this machine has no GPU render node for opengl
printf '[gpu]\nmode = custom\nopengl = no\n' >>"$VMF"

start_weston

# up: the socket from vmsilo-core's environment
export XDG_RUNTIME_DIR="$XDG" WAYLAND_DISPLAY=wl-vmsilo
expect 0 "$VMSILO" check g
out_has "VM 'g': all preflight checks passed"
# upstream crosvm has no security context, and says so
err_has "gpu: crosvm has no '--wayland-security-context': the windows of this VM reach the compositor without a security context or an app id"

# a wrong socket name: the error names it
export WAYLAND_DISPLAY=wl-nothere
expect 4 "$VMSILO" check g
err_has "gpu: the Wayland compositor socket '$XDG/wl-nothere' does not accept connections: No such file or directory"
err_has "1 preflight check failed for VM 'g'"

# the key instead of the environment (as for a VM started by root for a desktop user)
unset XDG_RUNTIME_DIR WAYLAND_DISPLAY
printf 'wayland-socket = %s\n' "$SOCK" >>"$VMF"
expect 0 "$VMSILO" check g

# patched crosvm: --wayland-security-context needs security-context-v1, which Weston 10 lacks
use_crosvm patched
expect 4 "$VMSILO" check g
err_has "gpu: the Wayland compositor at '$SOCK' has no 'wp_security_context_manager_v1', which a Wayland security context needs; use a compositor with security-context-v1 or set 'security-context = no' in [gpu]"
printf 'security-context = no\n' >>"$VMF"
expect 0 "$VMSILO" check g
sed -i '/^security-context = no$/d' "$VMF"

# a start hands the compositor socket to crosvm; stop leaves nothing behind
use_crosvm upstream
expect 0 "$VMSILO" start g
last_record >"$T/argv"
grep -qxF -- "--gpu=context-types=cross-domain" "$T/argv" || fail "crosvm got no --gpu"
grep -qxF -- "--wayland-sock=$SOCK" "$T/argv" || fail "crosvm did not get the compositor socket"
expect 0 "$VMSILO" stop g
assert_no_run_state

# a socket that accepts but never answers: bounded by check-timeout
socat -u "UNIX-LISTEN:$XDG/wl-hang,fork" OPEN:/dev/null >/dev/null 2>&1 &
HANG_PID=$!
for _ in $(seq 100); do [ -S "$XDG/wl-hang" ] && break; sleep 0.05; done
make_vm g
printf '[gpu]\nmode = custom\nopengl = no\ncheck-timeout = 500\nwayland-socket = %s/wl-hang\n' "$XDG" >>"$VMF"
start_ns=$(date +%s%N)
expect 4 "$VMSILO" check g
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
err_has "gpu: the Wayland compositor at '$XDG/wl-hang' did not answer a round trip within 500 ms"
[ "$elapsed_ms" -lt 3000 ] || fail "the check took $elapsed_ms ms with a 500 ms timeout"
stop_hang

# down: the same configuration that passed now fails, naming the socket; start changes nothing
make_vm g
printf '[gpu]\nmode = custom\nopengl = no\nwayland-socket = %s\n' "$SOCK" >>"$VMF"
expect 0 "$VMSILO" check g
stop_weston
expect 4 "$VMSILO" check g
err_has "gpu: the Wayland compositor socket '$SOCK' does not accept connections:"
expect 4 "$VMSILO" start g
assert_no_run_state

# QEMU has no cross-domain device: refused in preflight, named
start_weston
make_qemu_vm gq
printf '[gpu]\nmode = on\nwayland-socket = %s\n' "$SOCK" >"$CONF/vms/gq.conf.d/gpu.conf"
expect 4 "$VMSILO" start gq
err_has "gpu: the qemu backend has no Wayland cross-domain device, so Wayland cannot be forwarded; use a crosvm built with Wayland support, or set 'wayland = no' with 'mode = custom'"
assert_no_qemu gq
stop_weston

assert_no_run_state
assert_no_processes
