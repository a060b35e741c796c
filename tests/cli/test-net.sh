# The net plugin through the CLI: the exact --net and kernel parameters for both crosvm
# flavours (accepted by the stand-in crosvm), the QEMU rendering, every malformed value (exit
# 3, one line naming file:line), the checks across keys; as root, real taps in a network
# namespace with the stand-in crosvm: created, owned, marked, gone after stop, after a crash
# (cleanup) and after a failed start.
. "$(dirname "$0")/lib.sh"

UID_=$(id -u)
GID_=$(id -g)

net_vm() {
        make_vm web
        cat >>"$CONF/vms/web.conf" <<EOS
[net]
nameserver = 10.99.0.1
[net wan0]
address = 10.99.0.2/24
address = fd00:99::2/64
route = default via 10.99.0.1
host-address = 10.99.0.1/24
host-address = fd00:99::1/64
[net lan0]
dhcp = yes
mac = 02:00:00:00:00:01
tap = lan-tap
EOS
}

# --- print: crosvm, both flavours ---
cat >"$T/want-net" <<'EOS'
--params=ifname=lan0:02:00:00:00:00:01
--params=ifname=wan0:e2:6e:a3:30:e8:d2
--params=ip=lan0:dhcp
--params=ip=10.99.0.2:::24::wan0:none
--params=ip=[fd00:99::2]:::64::wan0:none
--params=rd.route=0.0.0.0/0:10.99.0.1:wan0
--params=nameserver=10.99.0.1
--net=tap-name=lan-tap,mac="02:00:00:00:00:01",pci-address=00:10.0
--net=tap-name=web-1,mac="e2:6e:a3:30:e8:d2",pci-address=00:11.0
EOS
cat >"$T/want-steps" <<EOS
net: create tap 'lan-tap' for [net lan0] owned by uid $UID_ gid $GID_
net: create tap 'web-1' for [net wan0] owned by uid $UID_ gid $GID_
net: add address 10.99.0.1/24 to tap 'web-1'
net: add address fd00:99::1/64 to tap 'web-1'
EOS
for flavour in upstream patched; do
        use_crosvm "$flavour"
        net_vm
        expect 0 "$VMSILO" print --json web
        jq -r '.argv[]' "$T/out" >"$T/argv"
        grep -E '^--net=|^--params=(ifname|ip|rd\.route|nameserver)=' "$T/argv" >"$T/got-net"
        diff -u "$T/want-net" "$T/got-net" || fail "$flavour: --net/--params differ"
        jq -r '.steps[]' "$T/out" | grep '^net: ' >"$T/got-steps"
        diff -u "$T/want-steps" "$T/got-steps" || fail "$flavour: plan steps differ"
        # the devices come after the kernel parameters, as crosvm takes them in any order
        set +e
        FAKE_CROSVM_EXIT=0 FAKE_CROSVM_RECORD= sh -c '"$@"' sh $(cat "$T/argv") 2>"$T/err"
        rc=$?
        set -e
        [ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "$flavour: crosvm grammar rejects the argv ($rc)"; }
done
[ ! -e "$RUN/web" ] || fail "print created run state"

# --- print: QEMU gets the tap as an fd, no name ---
if command -v qemu-system-x86_64 >/dev/null; then
        net_vm
        printf '[vm]\nvmm = qemu\n' >"$CONF/vms/web.conf.d-qemu"
        mkdir -p "$CONF/vms/web.conf.d"
        mv "$CONF/vms/web.conf.d-qemu" "$CONF/vms/web.conf.d/q.conf"
        expect 0 "$VMSILO" print --json web
        jq -r '.argv[]' "$T/out" >"$T/argv"
        # the ids are the core's device numbers: compare netdev/device pairs as written
        grep -A3 -E '^-netdev$' "$T/argv" | grep -v -- '^--$' >"$T/got-qemu"
        cat >"$T/want-qemu" <<'EOS'
-netdev
tap,id=net1,fd=100,vhost=off
-device
virtio-net-pci,netdev=net1,mac=02:00:00:00:00:01
-netdev
tap,id=net2,fd=101,vhost=off
-device
virtio-net-pci,netdev=net2,mac=e2:6e:a3:30:e8:d2
EOS
        diff -u "$T/want-qemu" "$T/got-qemu" || fail "qemu: -netdev/-device differ"
        grep -qF 'ifname=lan0:02:00:00:00:00:01 ifname=wan0:e2:6e:a3:30:e8:d2 ip=lan0:dhcp ip=10.99.0.2:::24::wan0:none' "$T/argv" ||
                fail "qemu: kernel parameters"
        rm -r "$CONF/vms/web.conf.d"
fi

# --- malformed values: exit 3, one line, file:line ---
use_crosvm upstream
VMF="$CONF/vms/web.conf"
# check_error SECTION KEY VALUE EXPECTED: SECTION at line 7, the key at line 8
check_error() {
        make_vm web
        printf '%s\n%s = %s\n' "$1" "$2" "$3" >>"$VMF"
        expect 3 "$VMSILO" start web
        err_has "$VMF:8: $4"
        [ "$(grep -c . "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than one line for: $2 = $3"; }
        assert_no_run_state
}
bad() { # KEY VALUE WHY, in [net eth0]
        check_error '[net eth0]' "$1" "$2" "net: invalid value '$2' for '$1' in [net eth0]: $3"
}
ADDR="expected an IPv4 or IPv6 address with a prefix length, such as 10.0.0.2/24 or fd00::2/64"
ROUTE="expected DEST/PREFIX, an address or 'default', optionally followed by 'via GATEWAY', such as '10.1.0.0/16 via 10.0.0.1'"
MAC="expected six two-digit hex octets separated by ':', such as 02:00:00:00:00:01"
NAME="expected 1 to 15 letters, digits, '-', '_' or '.'"
NS_="expected an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1"
UNICAST="expected a unicast address, not an unspecified, multicast or reserved one"
bad address 10.0.0.2 "$ADDR"
bad address 10.0.0.2/33 "$ADDR"
bad address fd00::2/129 "$ADDR"
bad address 10.0.0.2/0 "expected a prefix length from 1 to 32"
bad address 224.0.0.1/4 "$UNICAST"
bad address ff02::1/64 "$UNICAST"
bad host-address fd00::1 "$ADDR"
bad route default "a default route needs 'via GATEWAY'"
bad route 'to 10.1.0.0/16' "$ROUTE"
bad route '10.1.0.0/16 gw 10.0.0.1' "$ROUTE"
bad route '10.1.0.0/16 via gw' "gateway 'gw' is not an IPv4 or IPv6 address"
bad route '10.1.0.0/16 via fd00::1' "destination '10.1.0.0/16' is IPv4 but gateway 'fd00::1' is IPv6"
bad route '10.1.2.3/16 via 10.0.0.1' "destination '10.1.2.3/16' has host bits set: expected '10.1.0.0/16'"
bad route '10.1/16' "destination '10.1/16' is not a network such as 10.1.0.0/16 or fd00:1::/48, an address or 'default'"
bad nameserver 10.0.0.53/32 "$NS_"
bad mac 02:00:00:00:00 "$MAC"
bad mac 01:00:5e:00:00:01 "a multicast MAC (lowest bit of the first octet set) cannot be an interface's address"
bad mac 00:00:00:00:00:00 "the all-zero MAC cannot be an interface's address"
bad tap a-very-long-tap-name "$NAME"
bad tap 'tap%d' "$NAME"
bad bridge 'br,0' "$NAME"
bad dhcp maybe "expected yes or no"
check_error '[net]' nameserver dns.example "net: invalid value 'dns.example' for 'nameserver' in [net]: $NS_"
check_error '[net]' address 10.0.0.2/24 "net: 'address' belongs in a named section [net NAME], not in [net]"
check_error '[net eth0]' colour red "unknown key 'colour' in section [net eth0]"
check_error '[net eth:0]' dhcp yes "net: invalid interface name 'eth:0' in [net eth:0]: $NAME"

# --- checks across keys: preflight (exit 4), every failure listed ---
make_vm web
cat >>"$VMF" <<EOS
[net a]
tap = same
dhcp = yes
address = 10.7.0.2/24
[net b]
tap = same
address = 10.8.0.2/24
route = 10.9.0.0/16 via 10.5.0.1
EOS
expect 4 "$VMSILO" check web
err_has "net: [net a] and [net b] have the same tap name 'same'"
err_has "net: [net a] has 'dhcp = yes' and the IPv4 address '10.7.0.2/24': give one or the other"
err_has "net: route '10.9.0.0/16 via 10.5.0.1' of [net b]: gateway '10.5.0.1' is in no subnet of the interface's addresses or earlier on-link routes"
expect 1 "$VMSILO" print web
err_has "net: [net a] and [net b] have the same tap name 'same'"
assert_no_run_state

# --- as root: real taps in a network namespace, with the stand-in crosvm ---
if [ "$UID_" -ne 0 ] || ! command -v ip >/dev/null; then
        echo "skipping the tap tests: they need root" >&2
        exit 0
fi
NS=vmsilo-cli-$$
ip netns add "$NS"
ns_cleanup() {
        for d in "$RUN"/*/; do
                [ -d "$d" ] && ip netns exec "$NS" "$VMSILO" stop --timeout 2 "$(basename "$d")" >/dev/null 2>&1 || true
        done
        ip netns del "$NS" 2>/dev/null || true
        cleanup_test
}
trap ns_cleanup EXIT
in_ns() {
        ip netns exec "$NS" "$@"
}
no_link() {
        ! in_ns ip link show "$1" >/dev/null 2>&1 || fail "$2: link '$1' left"
}

use_crosvm patched
net_vm
expect 0 in_ns "$VMSILO" start web
for tap in lan-tap web-1; do
        in_ns ip -d link show "$tap" >"$T/link" 2>&1 || fail "no tap '$tap' while running"
        grep -q 'tun type tap pi off vnet_hdr on persist on user root group root' "$T/link" ||
                { cat "$T/link" >&2; fail "tap '$tap': not a persistent vnet_hdr tap of root"; }
        grep -q "state UP" "$T/link" || grep -q ",UP" "$T/link" || fail "tap '$tap' is not up"
done
grep -q 'alias vmsilo vm=web uid=0 if=wan0 mac=e2:6e:a3:30:e8:d2' "$T/link" || { cat "$T/link" >&2; fail "alias"; }
in_ns ip -o addr show dev web-1 >"$T/addr"
grep -q 'inet 10.99.0.1/24' "$T/addr" || fail "no host address 10.99.0.1/24"
grep -q 'inet6 fd00:99::1/64' "$T/addr" || fail "no host address fd00:99::1/64"
grep -q "$(printf 'plugin\tnet\tdeltap lan-tap')" "$RUN/web/journal" || fail "undo of lan-tap not journalled"
grep '"run"' "$FAKE_CROSVM_RECORD" | tail -n 1 | jq -r '.[]' | grep -qxF -- '--net=tap-name=lan-tap,mac="02:00:00:00:00:01",pci-address=00:10.0' ||
        fail "crosvm was not given the tap"
# a second VM may not take the same tap
make_vm two
printf '[net eth0]\ntap = lan-tap\n' >>"$CONF/vms/two.conf"
expect 4 in_ns "$VMSILO" start two
err_has "net: tap 'lan-tap' of [net eth0] is in use by VM 'web'; set 'tap =' in [net eth0] to a free name"
rm "$CONF/vms/two.conf"
expect 0 in_ns "$VMSILO" stop web
no_link lan-tap stop
no_link web-1 stop
assert_no_run_state
assert_no_processes

# a crash of the launcher: cleanup (another process) removes the taps, twice is fine
expect 0 in_ns "$VMSILO" start web
kill -9 "$(cut -d' ' -f1 "$RUN/web/supervisor.pid")"
kill -9 "$(cut -d' ' -f1 "$RUN/web/vmm.pid")" 2>/dev/null || true
sleep 0.3
in_ns ip link show lan-tap >/dev/null || fail "tap vanished without cleanup"
expect 0 in_ns "$VMSILO" cleanup web
no_link lan-tap cleanup
no_link web-1 cleanup
expect 0 in_ns "$VMSILO" cleanup web
assert_no_run_state

# a failed start (tap name taken by an interface vmsilo did not make) leaves nothing
in_ns ip link add web-1 type bridge
expect 4 in_ns "$VMSILO" start web
err_has "net: tap name 'web-1' of [net wan0] is taken by an existing bridge interface that vmsilo did not create; set 'tap =' in [net wan0] to a free name"
no_link lan-tap "failed start"
in_ns ip link show web-1 >/dev/null || fail "the other interface was removed"
in_ns ip link del web-1
assert_no_run_state
assert_no_processes
