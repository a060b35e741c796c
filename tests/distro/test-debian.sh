# Debian 12 and 13 with the vmsilo-guest package, in a private network namespace: the guest
# gets its hostname (systemd.hostname=), its address and route (ip=, rd.route= through
# systemd-network-generator and networkd) and the host pings it; the share is mounted at its
# mount point (systemd.mount-extra=: the package's generator on systemd 252, systemd itself
# from 254); `run` works as root and as a user; after `stop` the disk is clean (e2fsck -fn)
# and nothing is left on the host. Prints boot-to-run-ready per guest.
. "$(dirname "$0")/lib.sh"

NS=vmsilo-distro-$$
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

check_suite() {
        suite=$1
        vm=deb-$suite
        distro_vm "$vm" "$suite"
        mkdir -p "$T/share-$suite"
        echo "from-the-host-$suite" >"$T/share-$suite/host-file"
        cat >"$CONF/vms/$vm.conf.d/devices.conf" <<EOS
[net lan0]
address = 10.99.0.2/24
route = 10.97.0.0/16 via 10.99.0.1
host-address = 10.99.0.1/24
host-address = 10.97.0.1/32

[virtiofs]
virtiofsd = $C_VIRTIOFSD

[virtiofs data]
path = $T/share-$suite
mount-point = /srv/data
EOS
        t0=$(now_ms)
        expect 0 in_ns "$VMSILO" start "$vm"
        watch_console "$vm"
        # `run` waits up to 120 s for the agent; under a loaded TCG host a first boot of
        # Debian 13 can take longer: up to 3 tries
        i=0
        until in_ns "$VMSILO" run "$vm" true >"$T/out" 2>"$T/err"; do
                i=$((i + 1))
                [ $i -lt 3 ] || { cat "$T/err" >&2; console_tail "$vm"; fail "$suite: the agent never answered"; }
        done
        t1=$(now_ms)
        echo "$suite: boot-to-run-ready $((t1 - t0)) ms"

        # the hostname, from systemd.hostname=
        expect 0 in_ns "$VMSILO" run "$vm" cat /proc/sys/kernel/hostname
        [ "$(cat "$T/out")" = "$vm" ] || fail "$suite: hostname '$(cat "$T/out")', expected '$vm'"

        # the interface named by ifname=, its address and route (networkd may still be
        # configuring it when the agent answers: wait up to 60 s); the host reaches it
        i=0
        while :; do
                expect 0 in_ns "$VMSILO" run "$vm" sh -c 'ip -o -4 addr show dev lan0; ip -4 route show'
                grep -q 'inet 10.99.0.2/24' "$T/out" && grep -q '^10.97.0.0/16 via 10.99.0.1 dev lan0' "$T/out" && break
                i=$((i + 1))
                [ $i -lt 60 ] || { cat "$T/out" >&2; console_tail "$vm"; fail "$suite: no address 10.99.0.2/24 or route 10.97.0.0/16 on lan0"; }
                sleep 1
        done
        t_net=$(now_ms)
        echo "$suite: network configured $((t_net - t0)) ms after start"
        in_ns busybox ping -c 1 -W 5 10.99.0.2 >/dev/null || fail "$suite: the host cannot ping the guest"
        expect 0 in_ns "$VMSILO" run "$vm" ip -4 route get 10.97.0.1
        grep -q 'via 10.99.0.1 dev lan0' "$T/out" || fail "$suite: 10.97.0.1 not routed through the gateway: $(cat "$T/out")"

        # the share at its mount point, both ways
        expect 0 in_ns "$VMSILO" run "$vm" sh -c 'grep " /srv/data " /proc/mounts; cat /srv/data/host-file'
        grep -q '^data /srv/data virtiofs ' "$T/out" || { cat "$T/out" >&2; console_tail "$vm"; fail "$suite: share not mounted"; }
        grep -qx "from-the-host-$suite" "$T/out" || fail "$suite: share content: $(cat "$T/out")"
        expect 0 in_ns "$VMSILO" run "$vm" sh -c 'echo from-the-guest >/srv/data/guest-file'
        [ "$(cat "$T/share-$suite/guest-file")" = from-the-guest ] || fail "$suite: the host did not see the guest's file"

        # run as root and as a user
        expect 0 in_ns "$VMSILO" run "$vm" id -un
        [ "$(cat "$T/out")" = root ] || fail "$suite: run as '$(cat "$T/out")', expected root"
        expect 0 in_ns "$VMSILO" run -u user "$vm" sh -c 'id -un; echo $HOME; pwd'
        [ "$(cat "$T/out" | tr '\n' ' ')" = "user /home/user / " ] || [ "$(cat "$T/out" | tr '\n' ' ')" = "user /home/user /home/user " ] ||
                fail "$suite: run -u user: $(cat "$T/out")"
        expect 3 in_ns "$VMSILO" run "$vm" sh -c 'exit 3'
        # the agent is a unit of the guest's systemd, not PID 1
        expect 0 in_ns "$VMSILO" run "$vm" sh -c 'cat /proc/1/comm; systemctl is-active vmsilo-agent.service'
        [ "$(cat "$T/out" | tr '\n' ' ')" = "systemd active " ] || fail "$suite: agent unit: $(cat "$T/out")"

        t2=$(now_ms)
        expect 0 in_ns "$VMSILO" stop --timeout 120 "$vm"
        t3=$(now_ms)
        echo "$suite: stop $((t3 - t2)) ms"
        e2fsck -fn "$T/img/$vm.img" >"$T/fsck" 2>&1 || { cat "$T/fsck" >&2; console_tail "$vm"; fail "$suite: the root file system is not clean after stop"; }
        in_ns ip link show "$vm-0" >/dev/null 2>&1 && fail "$suite: tap left"
        pgrep -f -- "--socket-path=$RUN/$vm/" >/dev/null && fail "$suite: virtiofsd left"
        assert_no_qemu "$vm"
        assert_no_run_state
        assert_no_processes
        check_early_stop "$suite" "$vm"
        rm -f "$T/img/$vm.img"
}

# A stop 3 s after start, while the guest boots (no agent, no power button handler yet):
# the supervisor asks again every 5 s (POWEROFF to the agent, the power button) until the
# guest powers off cleanly, well within the timeout; the ext4 root needs no recovery.
check_early_stop() {
        suite=$1
        vm=$2
        expect 0 in_ns "$VMSILO" start "$vm"
        sleep 3
        t0=$(now_ms)
        expect 0 in_ns "$VMSILO" stop --timeout 120 "$vm"
        t1=$(now_ms)
        echo "$suite: stop 3 s after start $((t1 - t0)) ms"
        grep -q 'stopping it hard' "$T/err" && fail "$suite: early stop went hard: $(cat "$T/err")"
        expect 0 "$VMSILO" log --supervisor "$vm"
        grep -q 'stopping it hard\|killing' "$T/out" && fail "$suite: the supervisor stopped it hard: $(cat "$T/out")"
        [ $((t1 - t0)) -lt 90000 ] || fail "$suite: early stop took $((t1 - t0)) ms"
        e2fsck -fn "$T/img/$vm.img" >"$T/fsck" 2>&1 || { cat "$T/fsck" >&2; fail "$suite: the root file system is not clean after an early stop"; }
        assert_no_qemu "$vm"
        assert_no_run_state
}

for s in $DISTRO_SUITES; do
        check_suite "$s"
done
