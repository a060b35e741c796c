#!/usr/bin/env bash
# test-fake-crosvm.sh: build fake-crosvm and check that it answers like crosvm would.
#
# Usage: [CC=...] [EXTRA_CFLAGS=...] tests/fake-crosvm/test-fake-crosvm.sh [-v]
# Needs gcc; the serial console checks need socat, the socket-activation check python3
# (both are skipped, and reported as such, when missing). Exit status 0 if every check passed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
verbose=0
[ "${1:-}" = "-v" ] && verbose=1

tmp=$(mktemp -d /tmp/test-fake-crosvm.XXXXXX)
bgpids=()

cleanup() {
        local pid

        for pid in "${bgpids[@]}"; do
                kill "$pid" 2>/dev/null
        done
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# The binary is called "crosvm", as the launcher will find it.
bin=$tmp/bin/crosvm
mkdir -p "$tmp/bin"
# CC and EXTRA_CFLAGS may be set, e.g. CC=clang EXTRA_CFLAGS=-fsanitize=address,undefined
# (then also ASAN_OPTIONS=detect_leaks=0: the fake does not free what it keeps until exit).
# shellcheck disable=SC2086
if ! ${CC:-gcc} -Wall -Wextra -Werror -std=gnu11 -O2 ${EXTRA_CFLAGS:-} -o "$bin" \
        "$here/fake-crosvm.c"; then
        echo "FAIL: build"
        exit 1
fi

passed=0
failed=0
skipped=0

ok() {
        passed=$((passed + 1))
        [ $verbose = 1 ] && echo "ok: $1"
        return 0
}

not_ok() {
        failed=$((failed + 1))
        echo "FAIL: $1"
        shift
        local line
        for line in "$@"; do
                echo "    $line"
        done
        return 1
}

skip() {
        skipped=$((skipped + 1))
        echo "skip: $1"
}

# Run the fake with FAKE_CROSVM_EXIT=0 (an accepted `run` returns at once).
# Sets rc, out (stdout) and err (stderr, timestamps replaced by TS).
fake() {
        # in a child shell, so that an abort is reported there and not by this shell
        FAKE_CROSVM_EXIT=${FAKE_CROSVM_EXIT-0} sh -c 'timeout 10 "$@"; exit $?' sh "$bin" "$@" \
                >"$tmp/out" 2>"$tmp/err"
        rc=$?
        out=$(cat "$tmp/out")
        err=$(sed -E 's/^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+\+00:00 /[TS /' "$tmp/err")
}

# expect NAME CODE TEXT -- ARGS...: exit status CODE and TEXT (fixed string) on stderr.
expect() {
        local name=$1 code=$2 text=$3

        shift 4
        fake "$@"
        if [ "$rc" != "$code" ]; then
                not_ok "$name" "argv: $*" "expected exit $code, got $rc" "stderr: $err"
                return 1
        fi
        if [ -n "$text" ] && ! grep -qF -- "$text" <<<"$err"; then
                not_ok "$name" "argv: $*" "stderr lacks: $text" "stderr: $err"
                return 1
        fi
        ok "$name"
}

# expect_out NAME TEXT -- ARGS...: exit 0 and TEXT on stdout.
expect_out() {
        local name=$1 text=$2

        shift 3
        fake "$@"
        if [ "$rc" != 0 ] || ! grep -qF -- "$text" <<<"$out"; then
                not_ok "$name" "argv: $*" "expected exit 0 and stdout with: $text" \
                        "got exit $rc, stderr: $err"
                return 1
        fi
        ok "$name"
}

# refute_out NAME TEXT -- ARGS...: exit 0 and TEXT not on stdout.
refute_out() {
        local name=$1 text=$2

        shift 3
        fake "$@"
        if [ "$rc" != 0 ] || grep -qF -- "$text" <<<"$out"; then
                not_ok "$name" "argv: $*" "expected exit 0 and stdout without: $text" \
                        "got exit $rc"
                return 1
        fi
        ok "$name"
}

check_eq() {
        if [ "$2" = "$3" ]; then
                ok "$1"
        else
                not_ok "$1" "expected: $3" "got:      $2"
        fi
}

wait_for() {                    # wait_for TEST PATH: up to 5 s
        local i

        for i in $(seq 100); do
                test "$1" "$2" && return 0
                sleep 0.05
        done
        return 1
}

alive_after() {                 # alive_after SECONDS PID
        sleep "$1"
        kill -0 "$2" 2>/dev/null
}

export FAKE_CROSVM_FLAVOUR=upstream
unset FAKE_CROSVM_RECORD FAKE_CROSVM_RECORD_FDS FAKE_CROSVM_LOG FAKE_CROSVM_EXIT \
        FAKE_CROSVM_IGNORE_POWERBTN FAKE_CROSVM_POWERBTN_DELAY_MS

k=$tmp/vmlinuz
share=$tmp/share
mkdir -p "$share"
: >"$k"

# ---- the vmsilo launcher's argv (seeds/vmsilo-scripts.nix), both flavours ----
vmsilo_argv=(
        --log-level=info --no-syslog --no-timestamps run
        --name work -m 4096 --hugepages --balloon-page-reporting --boost-uclamp
        --disable-virtio-intx --no-i8042 --no-rtc --s2idle --core-scheduling=true
        --initrd=/nix/store/x-initrd/initrd
        "--serial=hardware=virtio-console,type=unix-stream,path=$tmp/con.sock,console,input-unix-stream,stream-non-blocking"
        --block path=/nix/store/x-rootfs/nixos.erofs,ro=true,direct=true,packed-queue=true
        --block path=/var/lib/vmsilo/work-ephemeral.raw,ro=false,id=ephemeral,direct=true,packed-queue=true
        -p "init=/nix/store/x-toplevel/init" -p "vmsilo.hostname=work"
        -p "vmsilo.ifname=eth0,52:54:00:12:34:56" -p "ip=10.0.0.2:::255.255.255.0::eth0:none"
        -p "vmsilo.rootOverlay=raw,ephemeral" -p "systemd.mount-extra=home:/home/user:virtiofs:"
        --vhost-user type=fs,socket=/run/vmsilo/work-virtiofsd-home.socket
        --cid 3 --cpus 4 --gpu=context-types=cross-domain:virgl2
        --gpu-render-server=path=/nix/store/x-virglrenderer/libexec/virgl_render_server
        --virtio-snd=capture=true,backend=pulse,pulse_socket_path=/run/user/1000/pulse/native
        -s "$tmp/work-crosvm-control.socket"
        --wayland-security-context wayland_socket=/run/user/1000/wayland-0,app_id=vmsilo:work:red
        --vfio /sys/bus/pci/devices/0000:01:00.0,iommu=viommu
        --net tap-name=vmsilo3t0,mac=52:54:00:12:34:56,pci-address=00:05.0
        "$k"
)
FAKE_CROSVM_FLAVOUR=patched expect "patched: vmsilo launcher argv accepted" 0 "" -- "${vmsilo_argv[@]}"
expect "upstream: vmsilo launcher argv stops at --no-timestamps" 35 \
        "arg parsing failed: Unrecognized argument: --no-timestamps" -- "${vmsilo_argv[@]}"

# ---- flavour differences ----
expect "upstream: --wayland-security-context unknown" 35 \
        "Unrecognized argument: --wayland-security-context" -- \
        run --wayland-security-context wayland_socket=/w,app_id=a "$k"
FAKE_CROSVM_FLAVOUR=patched expect "patched: --wayland-security-context accepted" 0 "" -- \
        run --wayland-security-context wayland_socket=/w,app_id=vmsilo:a:red "$k"
FAKE_CROSVM_FLAVOUR=patched expect "patched: --wayland-security-context needs wayland_socket" 35 \
        "with value 'app_id=a': missing field \`wayland_socket\`" -- \
        run --wayland-security-context app_id=a "$k"
FAKE_CROSVM_FLAVOUR=patched expect "patched: --wayland-security-context once" 35 \
        "duplicate values provided" -- run --wayland-security-context wayland_socket=/a \
        --wayland-security-context wayland_socket=/b "$k"
expect "upstream: stream-non-blocking unknown" 35 \
        "unknown field \`stream-non-blocking\`, expected one of \`type\`, \`hardware\`" -- \
        run --serial type=unix-stream,path=/x,stream-non-blocking "$k"
FAKE_CROSVM_FLAVOUR=patched expect "patched: stream-non-blocking accepted" 0 "" -- \
        run --serial type=unix-stream,path=/x,stream-non-blocking "$k"
expect "upstream: --no-timestamps unknown" 35 "Unrecognized argument: --no-timestamps" -- \
        --no-timestamps run "$k"
FAKE_CROSVM_FLAVOUR=patched expect "patched: --no-timestamps is top-level only" 35 \
        "Unrecognized argument: --no-timestamps" -- run --no-timestamps "$k"
expect "upstream: virtio-snd backend=pulse" 35 \
        "with value 'backend=pulse': Backend is not implemented" -- \
        run --virtio-snd backend=pulse "$k"
expect "upstream: virtio-snd pulse keys unknown" 35 "unknown field \`pulse_socket_path\`" -- \
        run --virtio-snd backend=null,pulse_socket_path=/p "$k"
FAKE_CROSVM_FLAVOUR=patched expect "patched: virtio-snd backend=pulse" 0 "" -- \
        run --virtio-snd backend=pulse,pulse_socket_path=/p,pulse_cookie_path=/c "$k"

# ---- help and version ----
expect_out "run --help lists --mem" "  -m, --mem         memory parameters." -- run --help
expect_out "run -h lists --block" "  -b, --block" -- run -h
expect_out "help run" "Usage: $bin run <options> KERNEL" -- help run
expect_out "run help" "--vhost-user" -- run help
refute_out "upstream run --help: no stream-non-blocking" "stream-non-blocking" -- run --help
refute_out "upstream run --help: no --wayland-security-context" "--wayland-security-context" -- \
        run --help
refute_out "upstream run --help: no pulse" "pulse" -- run --help
FAKE_CROSVM_FLAVOUR=patched expect_out "patched run --help: stream-non-blocking" \
        "stream-non-blocking=BOOL" -- run --help
FAKE_CROSVM_FLAVOUR=patched expect_out "patched run --help: --wayland-security-context" \
        "  --wayland-security-context" -- run --help
FAKE_CROSVM_FLAVOUR=patched expect_out "patched run --help: backend pulse" \
        "backend=null|file|pulse" -- run --help
FAKE_CROSVM_FLAVOUR=patched refute_out "patched run --help: --no-timestamps is not a run option" \
        "--no-timestamps" -- run --help
FAKE_CROSVM_FLAVOUR=patched expect_out "patched --help: --no-timestamps" "  --no-timestamps" -- \
        --help
refute_out "upstream --help: no --no-timestamps" "--no-timestamps" -- --help
expect_out "top-level help lists run" "  run               Start a new crosvm instance" -- -h
expect "--help before an option" 35 "Trailing arguments are not allowed after \`help\`." -- \
        run --help --mem 1
expect_out "version" "crosvm 0.1.0" -- version
expect "no subcommand" 35 "One of the following subcommands must be present:" --
expect "unknown subcommand" 35 "Unrecognized argument: start" -- start "$k"

# ---- argh: options, switches, values, positionals ----
expect "unknown flag" 35 "[TS ERROR crosvm] arg parsing failed: Unrecognized argument: --foo" -- \
        run --foo "$k"
expect "invalid argument line" 35 "[TS INFO  crosvm] invalid argument" -- run --foo "$k"
expect "once-only option twice" 35 \
        "Error parsing option '--mem' with value '2048': duplicate values provided" -- \
        run --mem 1024 --mem=2048 "$k"
expect "short option twice" 35 "Error parsing option '-m' with value '2': duplicate values" -- \
        run -m 1 -m 2 "$k"
expect "switch given a value: extra positional" 35 "Unrecognized argument: $k" -- \
        run --hugepages=true "$k"
expect "switch given a value: value taken as KERNEL" 0 "" -- run --hugepages=true
expect "switch repeated" 0 "" -- run --hugepages --hugepages "$k"
expect "missing value" 35 "No value provided for option '--mem'." -- run "$k" --mem
expect "no short-option gluing" 35 "Unrecognized argument: -m1024" -- run -m1024 "$k"
expect "-m=1024 split" 0 "" -- run -m=1024 "$k"
expect "value that looks like an option is a value" 0 "" -- run -p --help "$k"
expect "second positional" 35 "Unrecognized argument: /second" -- run "$k" /second
expect "top-level option after run" 35 "Unrecognized argument: --log-level" -- \
        run --log-level=debug "$k"
expect "--no-syslog after run" 35 "Unrecognized argument: --no-syslog" -- run --no-syslog "$k"
expect "top-level options" 0 "" -- --extended-status --log-level=debug --syslog-tag=vm \
        --no-syslog run "$k"
expect "--log-level twice" 35 "Error parsing option '--log-level' with value 'x': duplicate" -- \
        --log-level=info --log-level=x run "$k"
expect "core-scheduling needs a value" 35 \
        "Error parsing option '--core-scheduling' with value '$k': provided string was not \`true\` or \`false\`" -- \
        run --core-scheduling "$k"
expect "core-scheduling=yes" 35 "provided string was not \`true\` or \`false\`" -- \
        run --core-scheduling=yes "$k"
expect "core-scheduling=false" 0 "" -- run --core-scheduling=false --per-vm-core-scheduling "$k"
expect "x86_64 switches" 0 "" -- run --hugepages --balloon-page-reporting --boost-uclamp \
        --disable-virtio-intx --no-i8042 --no-rtc --s2idle --per-vm-core-scheduling \
        --disable-sandbox --no-usb --no-rng --no-smt "$k"
expect "cid is decimal" 35 "Error parsing option '--cid' with value '0x3': invalid digit found in string" -- \
        run --cid 0x3 "$k"
expect "run --syslog-tag is deprecated" 0 \
        "WARN  crosvm] \`crosvm run --syslog-tag\` is deprecated; please use \`crosvm --syslog-tag=\"t\" run\` instead" -- \
        run --syslog-tag t "$k"
expect "removed --cfg" 35 "Unrecognized argument: --cfg" -- run --cfg /x.json "$k"
expect "removed --vhost-user-fs" 35 "Unrecognized argument: --vhost-user-fs" -- \
        run --vhost-user-fs /s:tag "$k"
expect "--name, --initrd, -i, -s, --socket" 0 "" -- run --name vm -i /initrd -s /nonexistent/s "$k"
expect "--initrd twice" 35 "Error parsing option '--initrd' with value '/b': duplicate" -- \
        run -i /a --initrd /b "$k"
expect "-p repeats" 0 "" -- run -p quiet -p "console=hvc0" --params=init=/x "$k"
expect "--cpus" 0 "" -- run -c=num-cores=2,clusters=[[0,1],[2,3]] "$k"
expect "--cpus twice" 35 "Error parsing option '-c' with value 'num-cores=2': duplicate" -- \
        run --cpus 4 -c num-cores=2 "$k"
expect "--cpus bad key" 35 "unknown field \`cores\`" -- run --cpus cores=4 "$k"
expect "--mem size=" 0 "" -- run --mem size=2048 "$k"
expect "--mem 2G" 35 \
        "Error parsing option '--mem' with value '2G': invalid characters for number or number does not fit into its destination type at position 0" -- \
        run --mem 2G "$k"

# ---- --block / --disk: keys, booleans, quoting ----
expect "block: first key omitted" 0 "" -- run --block /a.img,ro,root "$k"
expect "block: all keys" 0 "" -- run -b path=/a.img,ro=true,root=false,sparse=false,direct,lock=false,block-size=4096,id=ephemeral,multiple-workers,async-executor=uring,packed-queue,bootindex=1,pci-address=00:06.0,dontcache "$k"
expect "block: aliases" 0 "" -- run --block /a,o_direct,block_size=512,async_executor=epoll "$k"
expect "block: unknown field" 35 \
        "Error parsing option '--block' with value 'path=/a.img,foo=1': unknown field \`foo\`, expected one of \`path\`, \`ro\`" -- \
        run --block=path=/a.img,foo=1 "$k"
expect "block: bad bool" 35 "with value '/a.img,ro=yes': expected a boolean at position 10" -- \
        run --block /a.img,ro=yes "$k"
expect "block: missing path" 35 "with value 'ro': missing field \`path\`" -- run --block ro "$k"
expect "block: duplicate key" 35 "duplicate field \`ro\`" -- run --block /a,ro,ro=false "$k"
expect "block: comma in unquoted path" 35 "unknown field \`b\`, expected one of" -- \
        run --block path=/srv/a,b.img "$k"
expect "block: double-quoted path with comma" 0 "" -- run --block 'path="/srv/a,b.img",ro' "$k"
expect "block: escapes in double quotes" 0 "" -- run --block 'path="/srv/a\"b\\c",ro' "$k"
expect "block: bad escape" 35 "expected a string at position 5" -- run --block 'path="/a\n"' "$k"
expect "block: single-quoted path with ]" 0 "" -- run --block "path='/srv/a]b.img',ro" "$k"
expect "block: quote inside unquoted string" 35 \
        "\" and ' can only be used in quoted strings at position 7" -- run --block 'path=/a"b' "$k"
expect "block: bracket in unquoted path" 35 "remaining characters in input at position 2" -- \
        run --block '/a]' "$k"
expect "block: unterminated quote" 35 "expected a string at position 5" -- \
        run --block 'path="/a' "$k"
expect "block: id too long" 35 "disk id must be 20 or fewer characters" -- \
        run --block /a,id=abcdefghijklmnopqrstu "$k"
expect "block: bad pci-address" 35 "Function out of range" -- \
        run --block /a,pci-address=00:01.8 "$k"
expect "block: bad executor" 35 "unknown variant \`io\`, expected \`uring\` or \`epoll\`" -- \
        run --block /a,async-executor=io "$k"
expect "block: bad number" 35 "block-size=4k': invalid characters for number" -- \
        run --block /a,block-size=4k "$k"
expect "deprecated --disk warns" 0 \
        "WARN  crosvm::crosvm::cmdline] Deprecated disk flags such as --[rw]disk or --[rw]root are passed. Use --block instead." -- \
        run --disk /a "$k"
expect "deprecated --rwdisk warns" 0 "Deprecated disk flags" -- run --rwdisk /a "$k"
expect "deprecated -r/--root warns" 0 "Deprecated disk flags" -- run -r /a "$k"
expect "deprecated --rwroot warns" 0 "Deprecated disk flags" -- run --rwroot /a,ro "$k"
expect "--root is once-only" 35 "Error parsing option '--root' with value '/b': duplicate" -- \
        run --root /a --root /b "$k"
expect "two root disks" 1 "only one root disk can be specified" -- \
        run --block /a,root --block /b,root "$k"
expect "two root disks (--root and block root)" 1 "only one root disk can be specified" -- \
        run --root /a --block /b,root "$k"
expect "--disk forces root=false" 0 "" -- run --disk /a,root --block /b,root "$k"
fake run --block /a,root --block /b,root "$k"
check_eq "semantic error: raw message first" "$(head -n1 "$tmp/err")" \
        "only one root disk can be specified"
check_eq "semantic error: then the exit log line" "$(sed -n 2p <<<"$err")" \
        "[TS ERROR crosvm] exiting with error 1: only one root disk can be specified"

# ---- --serial ----
expect "serial: vmsilo console (upstream keys)" 0 "" -- run \
        --serial=hardware=virtio-console,type=unix-stream,path=/x,console,input-unix-stream "$k"
expect "serial: first key omitted" 0 "" -- run --serial stdout,console,stdin "$k"
expect "serial: bad type" 35 \
        "unknown variant \`pipe\`, expected one of \`file\`, \`stdout\`, \`sink\`, \`syslog\`, \`unix\`, \`unix-stream\`" -- \
        run --serial type=pipe "$k"
expect "serial: bad hardware" 35 "unknown variant \`virtio\`" -- run --serial hardware=virtio "$k"
expect "serial: legacy-virtio-console alias" 0 "" -- \
        run --serial type=sink,hardware=legacy-virtio-console "$k"
expect "serial: num > 4" 35 "invalid value 5: Serial port num must be 4 or less" -- \
        run --serial stdout,num=5 "$k"
expect "serial: stdin and input" 35 "Cannot specify both stdin and input options" -- \
        run --serial stdout,stdin,input=/x "$k"
expect "serial: same hardware and num" 1 "serial hardware serial num 1" -- \
        run --serial stdout --serial sink "$k"
expect "serial: distinct num" 0 "" -- \
        run --serial stdout --serial sink,num=2 --serial type=sink,hardware=virtio-console "$k"
expect "serial: two stdin" 1 "serial device 1 already connected to standard input" -- \
        run --serial stdout,stdin --serial sink,num=2,stdin "$k"

# ---- --vsock / --cid ----
expect "cid alone (deprecated, no warning upstream)" 0 "" -- run --cid 3 "$k"
fake run --cid 3 "$k"
if grep -q WARN <<<"$err"; then
        not_ok "cid: no deprecation warning, as crosvm" "stderr: $err"
else
        ok "cid: no deprecation warning, as crosvm"
fi
expect "vsock" 0 "" -- run --vsock cid=3 "$k"
expect "vsock: first key omitted" 0 "" -- run --vsock 3,device=/dev/vhost-vsock "$k"
expect "vsock: cid required" 35 "missing field \`cid\`" -- run --vsock device=/dev/x "$k"
expect "cid and vsock" 1 "\`cid\` and \`vsock\` cannot be specified together. Use \`vsock\` only." -- \
        run --cid 3 --vsock cid=4 "$k"

# ---- --net ----
expect "net: tap-name" 0 "" -- run --net tap-name=tap0,mac=52:54:00:12:34:56,pci-address=00:05.0 "$k"
expect "net: tap-fd" 0 "" -- run --net tap-fd=3,mac=52:54:00:12:34:56 "$k"
expect "net: host-ip" 0 "" -- \
        run --net host-ip=10.0.0.1,netmask=255.255.255.0,mac=52:54:00:12:34:56 "$k"
expect "net: quoted mac, vhost-net" 0 "" -- \
        run --net 'tap-name=t0,mac="52:54:00:12:34:56",vhost-net=[device=/dev/vhost-net],vq-pairs=1' "$k"
expect "net: two modes" 35 \
        "with value 'tap-name=t,tap-fd=3': data did not match any variant of untagged enum NetParametersMode" -- \
        run --net tap-name=t,tap-fd=3 "$k"
expect "net: no mode" 35 "data did not match any variant of untagged enum NetParametersMode" -- \
        run --net vq-pairs=1 "$k"
expect "net: host-ip without mac" 35 "data did not match any variant" -- \
        run --net host-ip=10.0.0.1,netmask=255.255.255.0 "$k"
expect "net: first key cannot be omitted" 35 "data did not match any variant" -- \
        run --net tap0 "$k"
expect "net: bad mac" 35 "data did not match any variant" -- run --net tap-name=t,mac=xyz "$k"
expect "net: numeric tap name" 35 "data did not match any variant" -- run --net tap-name=123 "$k"
expect "net: mrg-rxbuf with packed-queue" 1 "mrg_rxbuf and packed_queue together is unsupported" -- \
        run --net tap-name=t,mrg-rxbuf,packed-queue "$k"
expect "net: vq-pairs above vcpus warns" 0 "the number of net vq pairs must not exceed the vcpu count" -- \
        run --net tap-name=t,vq-pairs=2 "$k"
expect "deprecated --tap-name warns" 0 \
        "\`--tap-name\` is deprecated; please use \`--net tap-name=t0\`" -- run --tap-name t0 "$k"

# ---- --vhost-user, --vfio ----
expect "vhost-user: fs, type omitted" 0 "" -- run --vhost-user fs,socket=/run/fs.sock "$k"
expect "vhost-user: all keys" 0 "" -- \
        run --vhost-user type=sound,socket=/s,max-queue-size=256,pci-address=00:07.0 "$k"
expect "vhost-user: snd is not a type" 35 "unknown variant \`snd\`, expected one of \`net\`" -- \
        run --vhost-user snd,socket=/s "$k"
expect "vhost-user: socket required" 35 "missing field \`socket\`" -- run --vhost-user type=fs "$k"
expect "vhost-user: no tag key" 35 "unknown field \`tag\`" -- \
        run --vhost-user fs,socket=/s,tag=home "$k"
expect "vfio: sysfs path with colons" 0 "" -- \
        run --vfio /sys/bus/pci/devices/0000:01:00.0,iommu=viommu,guest-address=00:08.0 "$k"
expect "vfio: bad iommu" 35 \
        "unknown variant \`on\`, expected one of \`off\`, \`viommu\`, \`coiommu\`, \`pkvm-iommu\`" -- \
        run --vfio /sys/x,iommu=on "$k"
expect "vfio: bad guest-address" 35 "Missing delimiter between Device and Function" -- \
        run --vfio /sys/x,guest-address=00:08 "$k"

# ---- --gpu, --gpu-render-server ----
expect "gpu: context types" 0 "" -- run --gpu=context-types=cross-domain:virgl2:venus "$k"
expect "gpu: displays" 0 "" -- \
        run --gpu 'backend=virglrenderer,displays=[[mode=windowed[1920,1080],dpi=[96,96]]]' "$k"
expect "gpu: unclosed bracket" 35 "expected ']' at position 35" -- \
        run --gpu 'displays=[[mode=windowed[1920,1080]' "$k"
expect "gpu: removed horizontal-dpi" 35 "unknown field \`horizontal-dpi\`" -- \
        run --gpu horizontal-dpi=100 "$k"
expect "gpu: width without height" 35 "must include both 'width' and 'height' if either is supplied" -- \
        run --gpu width=1280 "$k"
expect "gpu: two --gpu" 1 "at most one GPU device can currently be created" -- \
        run --gpu backend=2d --gpu context-types=cross-domain "$k"
expect "gpu: pci-bar-size" 1 "\`pci-bar-size\` must be a power of two but is 1000" -- \
        run --gpu pci-bar-size=1000 "$k"
expect "gpu-render-server" 0 "" -- \
        run --gpu-render-server path=/usr/libexec/virgl_render_server,cache-size=1G "$k"
expect "gpu-render-server: path required" 35 "missing field \`path\`" -- \
        run --gpu-render-server cache-path=/c "$k"
expect "gpu-render-server: once" 35 "duplicate values provided" -- \
        run --gpu-render-server /a --gpu-render-server /b "$k"

# ---- --virtio-snd ----
expect "virtio-snd: snake_case keys" 0 "" -- \
        run --virtio-snd capture=true,backend=null,num_output_devices=1,num_input_streams=2 "$k"
expect "virtio-snd: kebab-case rejected" 35 "unknown field \`num-output-devices\`" -- \
        run --virtio-snd num-output-devices=1 "$k"
expect "virtio-snd: backend=file" 0 "" -- \
        run --virtio-snd backend=file,playback_path=/tmp/x,playback_size=4096 "$k"

# ---- --shared-dir, --wayland-sock ----
expect "shared-dir: virtio-fs" 0 "" -- \
        run --shared-dir "$share:home:type=fs:cache=always:timeout=3600:writeback=true:uid=0:uidmap=0 1000 1" "$k"
expect "shared-dir: p9 default" 0 "" -- run --shared-dir "$share:tag" "$k"
expect "shared-dir: source must exist" 35 "source path for \`shared-dir\` must be a directory" -- \
        run --shared-dir "$tmp/nonexistent:home" "$k"
expect "shared-dir: missing tag" 35 "missing tag for \`shared-dir\`" -- run --shared-dir "$share" "$k"
expect "shared-dir: bad type" 35 "\`type\` must be one of \`fs\` or \`9p\` but virtiofs" -- \
        run --shared-dir "$share:t:type=virtiofs" "$k"
expect "shared-dir: bad fs key" 35 \
        "failed to parse fs config '[\"cache=bogus\"]': unknown variant \`bogus\`, expected one of \`never\`, \`auto\`, \`always\`" -- \
        run --shared-dir "$share:t:type=fs:cache=bogus" "$k"
expect "shared-dir: kind=value" 35 "\`shared-dir\` options must be of the form \`kind=value\`" -- \
        run --shared-dir "$share:t:type=fs:writeback" "$k"
expect "wayland-sock: two, one named" 0 "" -- \
        run --wayland-sock /run/user/1000/wayland-0 --wayland-sock /w1,name=ipc "$k"
expect "wayland-sock: same name twice" 1 "wayland socket name already used: ''" -- \
        run --wayland-sock /w0 --wayland-sock /w1 "$k"
expect "wayland-sock: unknown key" 35 "unrecognized option: label" -- \
        run --wayland-sock /w0,label=x "$k"

# ---- other semantic checks (exit 1) ----
expect "missing kernel" 1 "Executable is not specified" -- run --mem 1024
expect "--bios instead of a kernel" 0 "" -- run --bios /bios.bin
expect "balloon-page-reporting with no-balloon" 1 \
        "'balloon_page_reporting' requires enabled balloon" -- \
        run --balloon-page-reporting --no-balloon "$k"
expect "suspended and suspended-vcpus" 1 "cannot specify both --suspended and --suspended-vcpus" -- \
        run --suspended --suspended-vcpus "$k"

# ---- non-UTF-8 argv: Rust's env::args() panics, crosvm aborts ----
expect "non-UTF-8 argument aborts" 134 "panicked" -- run -p $'\xff' "$k"

# ---- log filtering and --no-timestamps after a successful parse ----
fake --log-level=off run "$k"
check_eq "--log-level=off silences the exit line" "$err" ""
FAKE_CROSVM_FLAVOUR=patched fake --no-timestamps run "$k"
check_eq "patched --no-timestamps drops the time" "$err" "[INFO  crosvm] exiting with success"

# ---- records ----
rec=$tmp/record.jsonl
fdrec=$tmp/fds.jsonl
export FAKE_CROSVM_RECORD=$rec FAKE_CROSVM_RECORD_FDS=$fdrec
fake --log-level=debug run -p 'a "quoted" \back'$'\t''tab' -p $'caf\xc3\xa9' "$k" 3</dev/null
check_eq "record: one JSON array per invocation" "$(cat "$rec")" \
        "[\"$bin\",\"--log-level=debug\",\"run\",\"-p\",\"a \\\"quoted\\\" \\\\back\\ttab\",\"-p\",\"café\",\"$k\"]"
if grep -q '"3":"/dev/null"' "$fdrec"; then
        ok "record: inherited fd 3 and its target"
else
        not_ok "record: inherited fd 3 and its target" "$(cat "$fdrec")"
fi
fake run --foo "$k"
check_eq "record: rejected argv not recorded" "$(wc -l <"$rec")" 1
fake run -p $'\xff' "$k"
check_eq "record: aborted argv not recorded" "$(wc -l <"$rec")" 1
FAKE_CROSVM_EXIT=7 fake run --name dies "$k"
check_eq "FAKE_CROSVM_EXIT=7: exit status" "$rc" 7
check_eq "FAKE_CROSVM_EXIT=7: recorded" "$(tail -n1 "$rec")" "[\"$bin\",\"run\",\"--name\",\"dies\",\"$k\"]"
unset FAKE_CROSVM_RECORD_FDS

# ---- a running VM: control socket, stop, powerbtn, signals ----
export FAKE_CROSVM_LOG=$tmp/fake.log

start_vm() {                    # start_vm STDERR_FILE ARGS...: sets vm_pid
        local errf=$1

        shift
        "$bin" "$@" 2>"$errf" &
        vm_pid=$!
        bgpids+=("$vm_pid")
}

finished() {                    # finished PID: waits up to 5 s, sets vm_rc
        local i

        for i in $(seq 100); do
                if ! kill -0 "$1" 2>/dev/null; then
                        wait "$1"
                        vm_rc=$?
                        return 0
                fi
                sleep 0.05
        done
        return 1
}

sock=$tmp/ctl.sock
start_vm "$tmp/vm1.err" run --name vm1 -s "$sock" "$k"
if wait_for -S "$sock"; then
        ok "control socket appears"
        fake stop "$sock"
        check_eq "crosvm stop: exit 0" "$rc" 0
        if finished "$vm_pid"; then
                check_eq "stop: VM exits 0" "$vm_rc" 0
        else
                not_ok "stop: VM exits"
        fi
        if [ -e "$sock" ]; then
                not_ok "stop: socket removed"
        else
                ok "stop: socket removed"
        fi
        check_eq "stop: recorded" "$(tail -n1 "$rec")" "[\"$bin\",\"stop\",\"$sock\"]"
else
        not_ok "control socket appears" "$(cat "$tmp/vm1.err")"
fi

: >"$sock"
FAKE_CROSVM_EXIT= fake run -s "$sock" "$k"
check_eq "stale socket file: exit 1" "$rc" 1
if grep -qF "exiting with error 1: failed to create control server" <<<"$err" &&
   grep -qF "Address already in use (os error 98)" <<<"$err"; then
        ok "stale socket file: crosvm's message"
else
        not_ok "stale socket file: crosvm's message" "$err"
fi
rm -f "$sock"

fake stop "$tmp/nothing.sock"
check_eq "stop without a VM: exit 1" "$rc" 1
if grep -qF "failed to connect to socket at '\"$tmp/nothing.sock\"': No such file or directory" <<<"$err" &&
   grep -qF "exiting with error 1: stop subcommand failed" <<<"$err"; then
        ok "stop without a VM: crosvm's messages"
else
        not_ok "stop without a VM: crosvm's messages" "$err"
fi
expect "stop needs VM_SOCKET" 35 "Required positional arguments not provided:" -- stop

start_vm "$tmp/vm2.err" run -s "$sock" "$k"
wait_for -S "$sock"
t0=$(date +%s%N)
fake powerbtn "$sock"
check_eq "powerbtn: exit 0" "$rc" 0
if finished "$vm_pid"; then
        check_eq "powerbtn: guest shuts down, VM exits 0" "$vm_rc" 0
        ms=$((($(date +%s%N) - t0) / 1000000))
        if [ "$ms" -ge 90 ]; then
                ok "powerbtn: shutdown takes FAKE_CROSVM_POWERBTN_DELAY_MS (100 ms)"
        else
                not_ok "powerbtn: shutdown takes FAKE_CROSVM_POWERBTN_DELAY_MS" "took $ms ms"
        fi
else
        not_ok "powerbtn: VM exits"
fi
[ -e "$sock" ] && not_ok "powerbtn: socket removed" || ok "powerbtn: socket removed"

FAKE_CROSVM_IGNORE_POWERBTN=1 start_vm "$tmp/vm3.err" run -s "$sock" "$k"
wait_for -S "$sock"
fake powerbtn "$sock"
check_eq "ignored powerbtn: request answered" "$rc" 0
if alive_after 0.5 "$vm_pid"; then
        ok "ignored powerbtn: VM keeps running"
else
        not_ok "ignored powerbtn: VM keeps running"
fi
kill -TERM "$vm_pid"
if finished "$vm_pid"; then
        check_eq "SIGTERM: VM exits 0" "$vm_rc" 0
else
        not_ok "SIGTERM: VM exits"
fi
[ -e "$sock" ] && not_ok "SIGTERM: socket removed" || ok "SIGTERM: socket removed"

start_vm "$tmp/vm4.err" run "$k"
if alive_after 0.3 "$vm_pid"; then
        ok "no socket: VM runs until a signal"
        kill -TERM "$vm_pid"
        finished "$vm_pid" && check_eq "no socket: SIGTERM exit 0" "$vm_rc" 0
else
        not_ok "no socket: VM runs until a signal"
fi

mkdir -p "$tmp/sockdir"
start_vm "$tmp/vm5.err" run -s "$tmp/sockdir" "$k"
if wait_for -S "$tmp/sockdir/crosvm-$vm_pid.sock"; then
        ok "socket directory: crosvm-PID.sock"
        fake stop "$tmp/sockdir/crosvm-$vm_pid.sock"
        finished "$vm_pid"
else
        not_ok "socket directory: crosvm-PID.sock" "$(ls "$tmp/sockdir")"
fi

FAKE_CROSVM_FLAVOUR=patched start_vm "$tmp/vm6.err" --log-level=off --no-timestamps run -s "$sock" "$k"
wait_for -S "$sock"
printf 'exit' | timeout 5 socat - "UNIX-CONNECT:$sock,type=5" >"$tmp/reply" 2>/dev/null ||
        python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1]); s.send(b"exit"); sys.stdout.write(s.recv(64).decode())' "$sock" >"$tmp/reply"
check_eq "plain-text 'exit' request answered 'ok'" "$(cat "$tmp/reply")" "ok"
finished "$vm_pid" && check_eq "plain-text 'exit': VM exits 0" "$vm_rc" 0
check_eq "--log-level=off: nothing on stderr" "$(cat "$tmp/vm6.err")" ""

# ---- serial console on a unix stream socket ----
if command -v socat >/dev/null; then
        con=$tmp/con.sock
        timeout 10 socat -u "UNIX-LISTEN:$con" "OPEN:$tmp/con.out,creat" &
        bgpids+=($!)
        wait_for -S "$con"
        start_vm "$tmp/vm7.err" run -s "$sock" \
                "--serial=hardware=virtio-console,type=unix-stream,path=$con,console,input-unix-stream" "$k"
        wait_for -S "$sock"
        fake stop "$sock"
        finished "$vm_pid"
        sleep 0.1
        check_eq "serial unix-stream: boot line" "$(cat "$tmp/con.out")" "fake-crosvm: booted"
else
        skip "serial unix-stream (no socat)"
fi
FAKE_CROSVM_EXIT= fake run --serial "type=unix-stream,path=$tmp/no-listener.sock" "$k"
check_eq "serial unix-stream without listener: exit 1" "$rc" 1
if grep -qF "Failed to connect to socket" <<<"$err"; then
        ok "serial unix-stream without listener: message"
else
        not_ok "serial unix-stream without listener: message" "$err"
fi

# ---- socket activation: -s /proc/self/fd/N ----
if command -v python3 >/dev/null; then
        python3 - "$bin" "$tmp/act.sock" "$k" 2>"$tmp/act.err" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[2])
s.listen(1)
os.dup2(s.fileno(), 5)
os.execv(sys.argv[1], [sys.argv[1], "run", "-s", "/proc/self/fd/5", sys.argv[3]])
EOF
        vm_pid=$!
        bgpids+=("$vm_pid")
        wait_for -S "$tmp/act.sock"
        sleep 0.1
        fake stop "$tmp/act.sock"
        check_eq "socket activation: stop answered" "$rc" 0
        finished "$vm_pid" && check_eq "socket activation: VM exits 0" "$vm_rc" 0
else
        skip "socket activation (no python3)"
fi

if grep -q "control: request \"Exit\" -> \"Ok\"" "$tmp/fake.log"; then
        ok "FAKE_CROSVM_LOG: control requests logged"
else
        not_ok "FAKE_CROSVM_LOG: control requests logged" "$(cat "$tmp/fake.log")"
fi

echo "fake-crosvm: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
