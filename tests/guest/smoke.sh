#!/bin/sh
# shellcheck disable=SC2016 # single-quoted commands run in the guest
# Smoke test of the guest: builds it (scripts/build-guest.sh), boots it under QEMU TCG and
# checks vmsilo-init's command mode, the agent, the power button, virtiofs, the network
# parameters and the root overlay. Needs root (virtiofsd). Exits 0 only if every check passes.
#
# usage: tests/guest/smoke.sh
#   VMSILO_GUEST_DIR=DIR  build and boot the guest in DIR (default build/guest)
#   VMSILO_SMOKE_KEEP=1   keep the temporary directory (serial logs, shares, disks)
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
guest=${VMSILO_GUEST_DIR:-"$repo/build/guest"}
boot_timeout=60
passed=0
failed=0
failures=""

say() {
        echo "smoke: $*"
}

[ "$(id -u)" -eq 0 ] || { say "needs root (virtiofsd, /dev/console in the initramfs)"; exit 1; }
"$repo/scripts/build-guest.sh" "$guest" || { say "FAIL: build-guest.sh"; exit 1; }

T=$(mktemp -d /tmp/vmsilo-smoke.XXXXXX)
cleanup() {
        for p in $(jobs -p); do
                kill "$p" 2>/dev/null
        done
        wait 2>/dev/null
        # the C virtiofsd leaves its lock file behind (named after the socket path)
        rm -f "/var/run/virtiofsd/$(printf '%s' "$T/vfs.sock" | tr / .).pid"
        if [ -n "${VMSILO_SMOKE_KEEP:-}" ]; then
                say "kept '$T'"
        else
                rm -rf "$T"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gcc -Wall -Wextra -Werror -std=gnu11 -O2 -o "$T/agent-client" \
        "$repo/tests/guest/agent-client.c" "$repo/proto/proto.c" ||
        { say "FAIL: cannot build agent-client"; exit 1; }

# check NAME LOG CONDITION...: runs the condition; on failure prints the serial log.
check() {
        name=$1
        log=$2
        shift 2
        if "$@"; then
                passed=$((passed + 1))
                say "PASS $name"
        else
                failed=$((failed + 1))
                failures="$failures
  $name"
                say "FAIL $name"
                if [ -f "$log" ]; then
                        echo "---- serial log ($log), last 40 lines ----"
                        tail -n 40 "$log" | tr -d '\r'
                        echo "----"
                fi
        fi
}

# Percent-encodes every byte (the kernel splits its command line at spaces).
pct() {
        printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g'
}

# boot LOG APPEND [QEMU ARGS...]: boots in the foreground; stdout is the serial console.
boot() {
        log=$1
        append=$2
        shift 2
        timeout -k 5 "$boot_timeout" qemu-system-x86_64 -accel tcg -machine pc -m 256M -smp 1 \
                -nodefaults -no-user-config -display none -no-reboot \
                -chardev stdio,id=con,signal=off -serial chardev:con \
                -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
                -kernel "$guest/vmlinuz" -initrd "$guest/initrd.gz" \
                -append "console=ttyS0 quiet panic=-1 $append" "$@" </dev/null >"$log" 2>&1
}

has() {
        tr -d '\r' <"$1" | grep -qF -- "$2"
}

has_line() {
        tr -d '\r' <"$1" | grep -qxF -- "$2"
}

eq() {
        [ "$1" = "$2" ] || { echo "  expected '$2', got '$1'"; return 1; }
}

# --- (a) vmsilo.cmd: output, status 42, marker, isa-debug-exit ---------------------------
test_a() {
        log=$T/a.log
        boot "$log" "vmsilo.nonce=n0nce-a vmsilo.exit=debugexit vmsilo.cmd=$(pct 'echo "hello from the guest"; exit 42')"
        rc=$?
        check "a: command output on the console" "$log" has "$log" "hello from the guest"
        check "a: marker 'status=42'" "$log" has "$log" "VMSILO-EXIT nonce=n0nce-a status=42"
        check "a: qemu exit 85 via isa-debug-exit" "$log" eq "$rc" 85
}

# --- (b) status 0 (debugexit) and a command killed by a signal (poweroff) ----------------
test_b() {
        log=$T/b0.log
        boot "$log" "vmsilo.nonce=n0nce-b0 vmsilo.exit=debugexit vmsilo.cmd=true"
        rc=$?
        check "b: marker 'status=0'" "$log" has "$log" "VMSILO-EXIT nonce=n0nce-b0 status=0"
        check "b: qemu exit 1 for status 0" "$log" eq "$rc" 1
        log=$T/b9.log
        boot "$log" "vmsilo.nonce=n0nce-b9 vmsilo.exit=poweroff vmsilo.cmd=$(pct 'kill -KILL $$')"
        rc=$?
        check "b: marker 'signal=9'" "$log" has "$log" "VMSILO-EXIT nonce=n0nce-b9 signal=9"
        check "b: qemu exit 0 after a poweroff" "$log" eq "$rc" 0
}

# Runs the agent client; its stdout goes to $T/out, its status to $crc.
client() {
        "$T/agent-client" -T 60 "$@" >"$T/out" 2>>"$T/client.err"
        crc=$?
}

qmp() {
        printf '{"execute":"qmp_capabilities"}\n{"execute":"%s"}\n' "$1" |
                socat -t 2 - "UNIX-CONNECT:$T/qmp.sock" >/dev/null 2>&1
}

# Waits up to $2 seconds for pid $1; sets wrc to its status (124 on a timeout).
wait_pid() {
        i=0
        while kill -0 "$1" 2>/dev/null; do
                i=$((i + 1))
                if [ "$i" -gt $(($2 * 10)) ]; then
                        kill "$1" 2>/dev/null
                        wait "$1" 2>/dev/null
                        wrc=124
                        return
                fi
                sleep 0.1
        done
        wait "$1"
        wrc=$?
}

# --- (c) the agent: argv, stdout, status, more; then the power button ---------------------
agent_checks() {
        log=$1
        client "$T/agent.sock" -- /bin/sh -c 'printf "[%s]" "$@"; exit 7' sh "a b" \
                "it's \"quoted\"" "" 'x\y'
        check "c: argv as given (spaces, quotes, empty string)" "$log" \
                eq "$(cat "$T/out")" "[a b][it's \"quoted\"][][x\\y]"
        check "c: exit status 7" "$log" eq "$crc" 7
        echo "from stdin" | client -i "$T/agent.sock" -- cat
        check "c: stdin and its EOF" "$log" eq "$(cat "$T/out")" "from stdin"
        client -u user -C /tmp -e GREETING=hi "$T/agent.sock" -- \
                sh -c 'echo "$(id -u) $(pwd) $GREETING $HOME"; cat /etc/vmsilo-rootfs'
        check "c: user, cwd, env, root file system" "$log" \
                eq "$(cat "$T/out")" "1000 /tmp hi /home/user
vmsilo test root file system"
        client -n 3 "$T/agent.sock" -- sh -c 'sleep 1; echo done'
        check "c: three sessions at once" "$log" eq "$(grep -c 'done' "$T/out")" 3
        client -k 15 "$T/agent.sock" -- sleep 30
        check "c: signal forwarded, killing signal returned" "$log" eq "$crc" 143
        client -t -w 24x80 -W 30x100 "$T/agent.sock" -- sh -c 'stty size; sleep 1; stty size'
        check "c: pty with window size and resize" "$log" \
                eq "$(tr -d '\r' <"$T/out")" "24 80
30 100"
        head -c 2097152 /dev/urandom >"$T/rand"
        client -i "$T/agent.sock" -- cat <"$T/rand"
        check "c: 2 MiB through stdin and back through stdout" "$log" cmp -s "$T/rand" "$T/out"
        "$T/agent-client" -T 60 "$T/agent.sock" -- sleep 300 >/dev/null 2>&1 &
        cpid=$!
        sleep 2
        kill "$cpid"
        wait "$cpid" 2>/dev/null
        # let the guest see the hang-up before the next host connects (with an immediate
        # reconnect the port may never report the gap)
        sleep 1
        client "$T/agent.sock" -- sh -c 'sleep 0.5; ps | grep -c "[s]leep 300"'
        check "c: a host disconnect ends its sessions, a new host is served" "$log" \
                eq "$(cat "$T/out")" 0
}

test_c() {
        log=$T/c.log
        rm -f "$T/agent.sock" "$T/qmp.sock"
        boot "$log" "root=/dev/vda ro vmsilo.overlay=tmpfs" \
                -drive "file=$guest/rootfs.img,format=raw,if=none,id=root,readonly=on" \
                -device virtio-blk-pci,drive=root \
                -device virtio-serial-pci \
                -chardev "socket,id=agent,path=$T/agent.sock,server=on,wait=off" \
                -device virtserialport,chardev=agent,name=org.vmsilo.agent \
                -qmp "unix:$T/qmp.sock,server=on,wait=off" &
        qpid=$!
        agent_checks "$log"
        check "c: agent HELLO offers protocol 2 (this client speaks 1)" "$log" \
                grep -q "hello version=2 ident=vmsilo-agent" "$T/client.err"
        qmp system_powerdown
        wait_pid "$qpid" 20
        check "c: system_powerdown: qemu exits 0 within 20 s" "$log" eq "$wrc" 0
        check "c: console shows 'vmsilo-init: powering off'" "$log" \
                has "$log" "vmsilo-init: powering off"
}

# --- (d) hostname, virtiofs, network parameters, a malformed parameter --------------------
test_d() {
        log=$T/d.log
        mkdir -p "$T/share"
        echo "written by the host" >"$T/share/from-host"
        rm -f "$T/vfs.sock"
        /usr/lib/qemu/virtiofsd "--socket-path=$T/vfs.sock" -o "source=$T/share" \
                >"$T/virtiofsd.log" 2>&1 &
        vpid=$!
        i=0
        while [ ! -S "$T/vfs.sock" ] && [ $i -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        cmd='hostname >/mnt/share/hostname; cat /mnt/share/from-host;
ip -o addr show dev lan0 >/mnt/share/addr; ip route >/mnt/share/route;
ip -6 route >>/mnt/share/route; cp /etc/resolv.conf /mnt/share/resolv'
        # the standard spellings (as vmsilo-core writes them, plus a netmask and an ip= gateway),
        # and one vmsilo.* alias
        params="vmsilo.nonce=n0nce-d systemd.hostname=smokevm systemd.mount-extra=share:/mnt/share:virtiofs"
        params="$params ifname=lan0:52:54:00:12:34:56 ip=10.0.2.15::10.0.2.2:255.255.255.0::lan0:none"
        params="$params ip=[fd00::15]:::64::lan0:none rd.route=[fd01::/64]:[fd00::1]:lan0"
        params="$params rd.route=192.168.7.0/24:0.0.0.0:lan0 nameserver=10.0.2.3 vmsilo.nameserver=10.0.2.4"
        boot "$log" "$params vmsilo.ip=bogus ip=10.0.2.16:::33::lan0:none vmsilo.cmd=$(pct "$cmd")" \
                -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
                -chardev "socket,id=vfs,path=$T/vfs.sock" \
                -device vhost-user-fs-pci,chardev=vfs,tag=share \
                -netdev user,id=n0,restrict=on \
                -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56
        wait_pid "$vpid" 5
        check "d: command ran (status 0)" "$log" has "$log" "VMSILO-EXIT nonce=n0nce-d status=0"
        check "d: guest read the host's file" "$log" has "$log" "written by the host"
        check "d: hostname written to the share" "$log" \
                eq "$(cat "$T/share/hostname" 2>/dev/null)" smokevm
        check "d: interface renamed, IPv4 and IPv6 addresses" "$log" \
                sh -c "grep -q 'inet 10.0.2.15/24' '$T/share/addr' &&
                       grep -q 'inet6 fd00::15/64' '$T/share/addr'"
        check "d: IPv4 default route, IPv6 route, on-link route" "$log" \
                sh -c "grep -q 'default via 10.0.2.2 dev lan0' '$T/share/route' &&
                       grep -q 'fd01::/64 via fd00::1 dev lan0' '$T/share/route' &&
                       grep -q '192.168.7.0/24 dev lan0' '$T/share/route'"
        check "d: resolv.conf" "$log" eq "$(cat "$T/share/resolv" 2>/dev/null)" \
                "$(printf 'nameserver 10.0.2.3\nnameserver 10.0.2.4')"
        check "d: malformed parameters reported" "$log" \
                sh -c "grep -q \"vmsilo-init: ignoring malformed 'vmsilo.ip=bogus'\" '$log' &&
                       grep -q \"vmsilo-init: ignoring malformed 'ip=10.0.2.16:::33::lan0:none'\" '$log'"
}

# --- (e) read-only root disk + raw overlay disk -------------------------------------------
test_e() {
        log=$T/e.log
        truncate -s 256M "$T/ephemeral.img"
        before=$(sha256sum <"$guest/rootfs.img")
        cmd='cat /etc/vmsilo-rootfs; echo overlay-data-5150 >/etc/written;
grep " / " /proc/mounts | cut -d" " -f3; cat /etc/written'
        boot "$log" "root=/dev/vda ro vmsilo.overlay=raw,ephemeral vmsilo.nonce=n0nce-e \
vmsilo.exit=debugexit vmsilo.cmd=$(pct "$cmd")" \
                -drive "file=$guest/rootfs.img,format=raw,if=none,id=root,readonly=on" \
                -device virtio-blk-pci,drive=root \
                -drive "file=$T/ephemeral.img,format=raw,if=none,id=eph" \
                -device virtio-blk-pci,drive=eph,serial=ephemeral
        rc=$?
        check "e: command ran in the overlay root (qemu exit 1 = status 0)" "$log" eq "$rc" 1
        check "e: root disk content visible" "$log" has "$log" "vmsilo test root file system"
        check "e: root is the overlay" "$log" has_line "$log" "overlay"
        check "e: write landed in the overlay disk" "$log" \
                eq "$(debugfs -R 'cat /upper/etc/written' "$T/ephemeral.img" 2>/dev/null)" \
                overlay-data-5150
        check "e: rootfs.img unchanged (sha256)" "$log" \
                eq "$(sha256sum <"$guest/rootfs.img")" "$before"
}

start=$(date +%s)
test_a
test_b
test_c
test_d
test_e
say "$(($(date +%s) - start)) s"
if [ "$failed" -gt 0 ]; then
        say "failed:$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
