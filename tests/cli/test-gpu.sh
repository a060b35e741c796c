# Plugin gpu: the exact crosvm arguments for both flavours (`print --json`, compared with the
# same VM without [gpu]), each argv accepted by the stand-in crosvm's grammar, the QEMU
# refusals, the preflight messages that need no compositor, and every malformed value (exit 3,
# one line naming file:line).
. "$(dirname "$0")/lib.sh"

unset XDG_RUNTIME_DIR WAYLAND_DISPLAY
VMF="$CONF/vms/g.conf"

# gpu_argv_added FLAVOUR CONFIG: the argv lines that CONFIG (appended to the VM's file) adds,
# in order, to the VM's argv without it; no line may disappear. The stand-in crosvm of
# FLAVOUR must accept the whole argv.
gpu_argv_added() {
        use_crosvm "$1"
        make_vm g
        expect 0 "$VMSILO" print --json g
        jq -r '.argv[]' "$T/out" >"$T/base"
        printf '%s\n' "$2" >>"$VMF"
        expect 0 "$VMSILO" print --json g
        jq -r '.argv[]' "$T/out" >"$T/argv"
        set +e
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD= sh -c '"$@"' sh $(cat "$T/argv") 2>"$T/crosvm-err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/crosvm-err" >&2; fail "$1: crosvm grammar rejects the argv ($rc)"; }
        diff "$T/base" "$T/argv" >"$T/diff" || true
        if grep -q '^<' "$T/diff"; then
                cat "$T/diff" >&2
                fail "$1: [gpu] removed arguments"
        fi
        sed -n 's/^> //p' "$T/diff"
}

# expect_added FLAVOUR CONFIG EXPECTED-LINES
expect_added() {
        gpu_argv_added "$1" "$2" >"$T/added"
        if [ -n "$3" ]; then printf '%s\n' "$3"; fi >"$T/want"
        diff -u "$T/want" "$T/added" || fail "$1: unexpected gpu arguments for: $2"
}

# vmsilo's `gpu = true`: cross-domain + virgl2; Wayland through the security context on the
# patched crosvm, the plain socket upstream
on='[gpu]
mode = on
color = blue
wayland-socket = /run/user/1000/wayland-0'
expect_added patched "$on" "--gpu=context-types=cross-domain:virgl2
--wayland-security-context=wayland_socket=/run/user/1000/wayland-0,app_id=vmsilo:g:blue"
expect_added upstream "$on" "--gpu=context-types=cross-domain:virgl2
--wayland-sock=/run/user/1000/wayland-0"

# all three features: venus with the render server
vulkan='[gpu]
mode = custom
vulkan = yes
render-server = /opt/virgl/libexec/virgl_render_server
wayland-socket = /run/user/1000/wayland-0'
expect_added patched "$vulkan" "--gpu=context-types=cross-domain:virgl2:venus
--gpu-render-server=path=/opt/virgl/libexec/virgl_render_server
--wayland-security-context=wayland_socket=/run/user/1000/wayland-0,app_id=vmsilo:g:gray"
expect_added upstream "$vulkan" "--gpu=context-types=cross-domain:virgl2:venus
--gpu-render-server=path=/opt/virgl/libexec/virgl_render_server
--wayland-sock=/run/user/1000/wayland-0"

# the default render server; no Wayland
expect_added upstream '[gpu]
mode = custom
wayland = no
opengl = no
vulkan = yes' "--gpu=context-types=venus
--gpu-render-server=path=/usr/libexec/virgl_render_server"

# the socket from the environment of vmsilo-core, and a chosen app id
export XDG_RUNTIME_DIR=/run/user/1001 WAYLAND_DISPLAY=wayland-1
expect_added patched '[gpu]
mode = custom
opengl = no
app-id = org.example.work' "--gpu=context-types=cross-domain
--wayland-security-context=wayland_socket=/run/user/1001/wayland-1,app_id=org.example.work"
expect_added upstream '[gpu]
mode = on' "--gpu=context-types=cross-domain:virgl2
--wayland-sock=/run/user/1001/wayland-1"
unset XDG_RUNTIME_DIR WAYLAND_DISPLAY

# security-context = no on the patched crosvm; a path crosvm must see quoted
expect_added patched '[gpu]
mode = on
security-context = no
wayland-socket = /run/user/1000/wayland-0' "--gpu=context-types=cross-domain:virgl2
--wayland-sock=/run/user/1000/wayland-0"
expect_added patched '[gpu]
mode = on
wayland-socket = /run/a,b/wayland-0' "--gpu=context-types=cross-domain:virgl2
--wayland-security-context=wayland_socket=\"/run/a,b/wayland-0\",app_id=vmsilo:g:gray"

# mode = off (the default) adds nothing
expect_added upstream '[gpu]
mode = off
vulkan = yes' ""

# preflight without a compositor: the error names the socket (exit 4)
use_crosvm upstream
make_vm g
printf '[gpu]\nmode = custom\nopengl = no\nwayland-socket = %s/no-such-wayland\n' "$T" >>"$VMF"
expect 4 "$VMSILO" check g
err_has "gpu: the Wayland compositor socket '$T/no-such-wayland' does not accept connections: No such file or directory"
# nor does start leave anything behind
expect 4 "$VMSILO" start g
assert_no_run_state

# security-context = yes on upstream crosvm: preflight says what to install, print fails
make_vm g
printf '[gpu]\nmode = custom\nopengl = no\nsecurity-context = yes\nwayland-socket = /run/user/1000/wayland-0\n' >>"$VMF"
expect 4 "$VMSILO" check g
err_has "gpu: crosvm has no '--wayland-security-context' ('security-context = yes' in [gpu]); install vmsilo's patched crosvm or set 'security-context = auto'"
expect 1 "$VMSILO" print g
err_has "gpu: crosvm has no '--wayland-security-context'"

# no socket at all
make_vm g
printf '[gpu]\nmode = custom\nopengl = no\n' >>"$VMF"
expect 4 "$VMSILO" check g
err_has "gpu: no Wayland socket: XDG_RUNTIME_DIR is not set to an absolute path; set 'wayland-socket' in [gpu]"

# a crosvm that cannot be probed is the core's error; the plugin claims nothing about its flags
make_vm g
printf '[crosvm]\npath = %s/no-crosvm\n[gpu]\nmode = custom\nopengl = no\nwayland-socket = %s/no-such-wayland\n' "$T" "$T" >>"$VMF"
expect 4 "$VMSILO" check g
err_has "crosvm binary '$T/no-crosvm' not found"
err_has "gpu: the Wayland compositor socket '$T/no-such-wayland' does not accept connections"
! grep -q "gpu: crosvm has" "$T/err" || { cat "$T/err" >&2; fail "gpu claims flags of a crosvm it could not probe"; }

# the QEMU backend has no cross-domain device and no venus
make_vm g
printf '[vm]\nvmm = qemu\n[gpu]\nmode = custom\nvulkan = yes\nwayland-socket = /run/user/1000/wayland-0\n' >>"$VMF"
expect 4 "$VMSILO" check g
err_has "gpu: the qemu backend has no Wayland cross-domain device, so Wayland cannot be forwarded; use a crosvm built with Wayland support, or set 'wayland = no' with 'mode = custom'"
err_has "gpu: the qemu backend has no Vulkan (venus) context, which vulkan needs; use a crosvm with it, or set 'vulkan = no'"
expect 1 "$VMSILO" print g
err_has "gpu: the qemu backend has no Wayland cross-domain device, so the qemu backend cannot render the gpu device"

# every malformed value: exit 3, one line, file:line
check_error() {
        make_vm g
        printf '%s\n' "$1" >>"$VMF"
        expect 3 "$VMSILO" check g
        err_has "$2"
        [ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for: $1"; }
}
check_error '[gpu]
mode = yes' "$VMF:8: gpu: invalid value 'yes' for 'mode' in [gpu]: expected off, on or custom"
check_error '[gpu]
wayland = sometimes' "$VMF:8: gpu: invalid value 'sometimes' for 'wayland' in [gpu]: expected yes or no"
check_error '[gpu]
opengl = 2' "$VMF:8: gpu: invalid value '2' for 'opengl' in [gpu]: expected yes or no"
check_error '[gpu]
vulkan =' "$VMF:8: gpu: invalid value '' for 'vulkan' in [gpu]: expected yes or no"
check_error '[gpu]
security-context = strict' "$VMF:8: gpu: invalid value 'strict' for 'security-context' in [gpu]: expected auto, yes or no"
check_error '[gpu]
render-server = virgl_render_server' "$VMF:8: gpu: invalid value 'virgl_render_server' for 'render-server' in [gpu]: expected an absolute path"
check_error '[gpu]
wayland-socket = wayland-0' "$VMF:8: gpu: invalid value 'wayland-0' for 'wayland-socket' in [gpu]: expected an absolute path"
check_error '[gpu]
color = light blue' "$VMF:8: gpu: invalid value 'light blue' for 'color' in [gpu]: expected a color name (letters only) or #RGB, #RRGGBB or #RRGGBBAA"
check_error '[gpu]
color = #12345' "$VMF:8: gpu: invalid value '#12345' for 'color' in [gpu]: expected a color name"
check_error '[gpu]
app-id = my app' "$VMF:8: gpu: invalid value 'my app' for 'app-id' in [gpu]: expected 1 to 255 printable characters without spaces, quotes or backslashes"
check_error '[gpu]
check-timeout = 2s' "$VMF:8: gpu: invalid value '2s' for 'check-timeout' in [gpu]: expected milliseconds from 10 to 60000"
check_error '[gpu]
colour = red' "$VMF:8: unknown key 'colour' in section [gpu]"
check_error '[gpu main]
mode = on' "$VMF:8: gpu: section [gpu] takes no name, found 'main'"
assert_no_run_state
assert_no_processes
