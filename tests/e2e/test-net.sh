# Two interfaces under QEMU in a private network namespace: the taps exist with their
# host-side addresses while the VM runs; the guest names its interfaces by MAC, has the static
# IPv4/IPv6 addresses, the route and the nameserver, and reaches the host side over IPv4 (also
# through the route) and IPv6; after stop, a failed start or a crash + cleanup no tap is left.
. "$(dirname "$0")/lib.sh"

NS=vmsilo-e2e-$$
ip netns add "$NS"
ns_cleanup() {
        for d in "$RUN"/*/; do
                [ -d "$d" ] && ip netns exec "$NS" "$VMSILO" stop --timeout 5 "$(basename "$d")" >/dev/null 2>&1 || true
        done
        ip netns del "$NS" 2>/dev/null || true
        cleanup_test
}
trap ns_cleanup EXIT
in_ns() {
        ip netns exec "$NS" "$@"
}
no_taps() {
        for tap in nt-0 nt-1; do
                ! in_ns ip link show "$tap" >/dev/null 2>&1 || fail "$1: tap '$tap' left"
        done
}
# guest CMD...: runs CMD in the VM, exit status 0 expected
guest() {
        expect 0 in_ns "$VMSILO" run nt "$@"
}

make_qemu_vm nt
cat >"$CONF/vms/nt.conf.d/net.conf" <<EOS
[net]
nameserver = 10.99.0.1
[net uplink]
address = 10.99.0.2/24
address = fd00:99::2/64
host-address = 10.99.0.1/24
host-address = fd00:99::1/64
[net backend]
address = 10.98.0.2/24
route = 10.97.0.0/16 via 10.98.0.1
host-address = 10.98.0.1/24
host-address = 10.97.0.1/32
EOS
# the MACs the plan gives each interface (name order: backend is the first NIC, tap nt-0)
expect 0 "$VMSILO" print --json nt
mac_of() {
        jq -r '.argv[]' "$T/out" | grep -o "ifname=$1:[0-9a-f:]*" | cut -d: -f2-
}
mac_backend=$(mac_of backend)
mac_uplink=$(mac_of uplink)
[ -n "$mac_backend" ] && [ -n "$mac_uplink" ] || fail "no ifname= in the plan"

expect 0 in_ns "$VMSILO" start nt
watch_console nt
in_ns ip -o addr show dev nt-1 >"$T/addr"
grep -q 'inet 10.99.0.1/24' "$T/addr" && grep -q 'inet6 fd00:99::1/64' "$T/addr" ||
        { cat "$T/addr" >&2; fail "host side of nt-1"; }
in_ns ip -o addr show dev nt-0 | grep -q 'inet 10.97.0.1/32' || fail "host side of nt-0"

# names by MAC, not by probe order
guest cat /sys/class/net/backend/address /sys/class/net/uplink/address
[ "$(cat "$T/out")" = "$(printf '%s\n%s' "$mac_backend" "$mac_uplink")" ] ||
        fail "guest interfaces: $(cat "$T/out"), expected $mac_backend $mac_uplink"
guest ip -o addr show dev uplink
grep -q 'inet 10.99.0.2/24' "$T/out" && grep -q 'inet6 fd00:99::2/64' "$T/out" ||
        { cat "$T/out" >&2; fail "guest addresses of uplink"; }
guest ip -4 route show
grep -q '^10.97.0.0/16 via 10.98.0.1 dev backend' "$T/out" || { cat "$T/out" >&2; fail "guest route"; }
guest cat /etc/resolv.conf
grep -qx 'nameserver 10.99.0.1' "$T/out" || { cat "$T/out" >&2; fail "guest resolv.conf"; }

# the guest reaches the host side, directly and through the route; not where it has no route
guest ping -c 1 -W 5 10.99.0.1
guest ping -c 1 -W 5 10.98.0.1
guest ping -c 1 -W 5 10.97.0.1
expect 1 in_ns "$VMSILO" run nt ping -c 1 -W 2 10.96.0.1
guest ping -c 1 -W 5 fd00:99::1
# and the host reaches the guest
in_ns busybox ping -c 1 -W 5 10.99.0.2 >/dev/null || fail "host cannot ping the guest"

expect 0 in_ns "$VMSILO" stop --timeout 60 nt
no_taps stop
assert_no_qemu nt
assert_no_run_state
assert_no_processes

# a start refused by preflight (a tap name taken by another interface) changes nothing
in_ns ip link add nt-1 type bridge
expect 4 in_ns "$VMSILO" start nt
err_has "net: tap name 'nt-1' of [net uplink] is taken by an existing bridge interface that vmsilo did not create; set 'tap =' in [net uplink] to a free name"
! in_ns ip link show nt-0 >/dev/null 2>&1 || fail "failed start: tap nt-0 made"
in_ns ip link show nt-1 >/dev/null 2>&1 || fail "failed start: the other interface was removed"
in_ns ip link del nt-1
assert_no_run_state

# a start that fails after prepare (QEMU rejects its arguments) removes the taps it made
printf '[qemu]\nextra-args = -no-such-option\n' >"$CONF/vms/nt.conf.d/q.conf"
expect 1 in_ns "$VMSILO" start nt
err_has "qemu exited with status 1 before it was up"
no_taps "failed start"
assert_no_qemu nt
assert_no_run_state
rm "$CONF/vms/nt.conf.d/q.conf"

# a crash of the launcher and QEMU: the taps stay until cleanup, in another process
expect 0 in_ns "$VMSILO" start nt
kill -9 "$(cut -d' ' -f1 "$RUN/nt/supervisor.pid")"
kill -9 "$(cut -d' ' -f1 "$RUN/nt/vmm.pid")" 2>/dev/null || true
sleep 0.5
in_ns ip link show nt-0 >/dev/null 2>&1 || fail "tap gone without cleanup"
expect 0 in_ns "$VMSILO" cleanup nt
no_taps cleanup
assert_no_qemu nt
assert_no_run_state
assert_no_processes
