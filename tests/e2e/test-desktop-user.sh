# The desktop user without sudo (issue 14), against real QEMU guests. A VM that root starts:
# a member of its group vmsilo-NAME runs commands in it (as the guest's `user`, not root),
# attaches to its console, sees it running and stops it, through the VM's client socket;
# an outsider is refused with the group that grants access, and list never tells them
# "stopped" for a VM that runs. A user's own VM in ~/.config/vmsilo starts, runs and stops
# with no VMSILO_* variable set.
. "$(dirname "$0")/../security/lib.sh"

vm="du$$"
group="vmsilo-$vm"
groupadd "$group" || fail "groupadd $group"
tap=$(printf 'vu%s' "$$" | cut -c1-15)
desktop_cleanup() {
        groupdel "$group" >/dev/null 2>&1 || true
        ip tuntap del "$tap" mode tap >/dev/null 2>&1 || true
        [ -z "${own_env:-}" ] || as_member "$member" env -i $own_env "$VMSILO" stop mine >/dev/null 2>&1 || true
        security_cleanup
}
trap desktop_cleanup EXIT

make_qemu_vm "$vm"
chmod 0755 "$T" "$RUN"
member=$(make_test_user mem)
outsider=$(make_test_user out)
usermod -a -G "$group" "$member" || fail "usermod"

# as_member USER CMD...: USER with the groups of its login (as_user clears them)
as_member() {
        who=$1
        shift
        setpriv --reuid="$who" --regid="$(id -g "$who")" --init-groups --inh-caps=-all -- "$@"
}
# cli WHO ARGS...: vmsilo-core as WHO (member or outsider) on root's VMs, stdout/stderr in
# $T/out and $T/err; the exit status in $rc
cli() {
        who=$1
        shift
        runner=as_user
        [ "$who" = member ] && runner=as_member
        set +e
        $runner "$(eval echo \$$who)" env VMSILO_CONF_PATH="$VMSILO_CONF_PATH" \
                VMSILO_RUNTIME_DIR="$RUN" VMSILO_CACHE_DIR="$T/cache-$who" \
                VMSILO_PLUGIN_DIR="$VMSILO_PLUGIN_DIR" "$VMSILO" "$@" </dev/null >"$T/out" 2>"$T/err"
        rc=$?
        set -e
}
expect_rc() {
        [ "$rc" -eq "$1" ] || { cat "$T/out" "$T/err" >&2; fail "$2: exit $rc, expected $1"; }
}

# several commands at once on a stopped VM (root, no systemd): one starts it, all of them run
pids=
for i in 1 2 3; do
        "$VMSILO" run "$vm" echo "hello $i" >"$T/par$i.out" 2>"$T/par$i.err" &
        pids="$pids $!"
done
i=0
for p in $pids; do
        i=$((i + 1))
        wait "$p" || { cat "$T/par$i.err" >&2; fail "concurrent run $i failed"; }
        [ "$(cat "$T/par$i.out")" = "hello $i" ] || fail "concurrent run $i: '$(cat "$T/par$i.out")'"
done
[ "$(cat "$T"/par?.err | grep -c "VM '$vm' is up (qemu pid")" = 1 ] || { cat "$T"/par?.err >&2; fail "not started exactly once"; }
expect 0 "$VMSILO" stop "$vm"

expect 0 "$VMSILO" start "$vm"
sock="$RUN/$vm.sock"
[ -S "$sock" ] || fail "no client socket $sock"
[ "$(stat -c '%U:%G %a' "$sock")" = "root:$group 660" ] ||
        fail "client socket is $(stat -c '%U:%G %a' "$sock"), expected root:$group 660"

# the member: run works, as the VM's user; root only where the VM allows it
cli member run "$vm" id -u
expect_rc 0 "member's run"
[ "$(cat "$T/out")" = 1000 ] || fail "member's command ran as uid '$(cat "$T/out")', expected 1000"
cli member run "$vm" sh -c 'echo "$(id -un) $HOME"; exit 7'
expect_rc 7 "member's run with a status"
[ "$(cat "$T/out")" = "user /home/user" ] || fail "member's command: '$(cat "$T/out")'"
# with a pty (as shell --agent has it), through the same socket
as_member "$member" env VMSILO_CONF_PATH="$VMSILO_CONF_PATH" VMSILO_RUNTIME_DIR="$RUN" \
        VMSILO_CACHE_DIR="$T/cache-member" script -qec "$VMSILO run -t $vm sh -c 'tty; id -u'" \
        /dev/null >"$T/tty" </dev/null || fail "member's run -t: $(cat "$T/tty")"
grep -q '/dev/pts/' "$T/tty" && grep -q '^1000' "$T/tty" || fail "member's run -t: $(cat "$T/tty")"
cli member run -u root "$vm" id -u
expect_rc 125 "member's run -u root"
grep -qF "allow-root-from-group" "$T/err" || { cat "$T/err" >&2; fail "refusal of -u root does not say why"; }
cli member list
expect_rc 0 "member's list"
grep -q "^$vm  *running$" "$T/out" || fail "member's list: $(cat "$T/out")"
cli member start "$vm"
expect_rc 6 "member's start of a running VM"
# the console, through the client socket: Ctrl-] detaches
set +e
printf '\035' | as_member "$member" env VMSILO_CONF_PATH="$VMSILO_CONF_PATH" VMSILO_RUNTIME_DIR="$RUN" \
        VMSILO_CACHE_DIR="$T/cache-member" "$VMSILO" shell "$vm" >"$T/out" 2>"$T/err"
rc=$?
set -e
expect_rc 0 "member's console attach"

# the outsider: refused, with the group that grants access; list does not say stopped
for cmd in "run $vm true" "shell --agent $vm" "shell $vm" "stop $vm" "start $vm"; do
        # shellcheck disable=SC2086
        cli outsider $cmd
        case "$cmd" in run* | "shell --agent"*) want=125 ;; *) want=8 ;; esac
        expect_rc "$want" "outsider's '$cmd'"
        grep -qF "not allowed: VM '$vm' is root's; only members of group '$group' may use it" "$T/err" ||
                { cat "$T/err" >&2; fail "outsider's '$cmd': no clear refusal"; }
done
cli outsider list
expect_rc 0 "outsider's list"
grep -q "^$vm  *unknown$" "$T/out" || fail "outsider's list: $(cat "$T/out")"
grep -qF "not in group '$group'" "$T/err" || fail "outsider's list does not say why it cannot tell"
# a direct connection is refused by the socket's mode
as_user "$outsider" socat -u - UNIX-CONNECT:"$sock" </dev/null 2>/dev/null && fail "outsider connected to $sock"

# the member stops it: everything is undone, and list says stopped for everyone
cli member stop "$vm"
expect_rc 0 "member's stop"
[ ! -e "$RUN/$vm" ] || fail "runtime dir left after the member's stop"
[ ! -e "$sock" ] || fail "client socket left after the member's stop"
assert_no_qemu "$vm"
cli member list
grep -q "^$vm  *stopped$" "$T/out" || fail "member's list after stop: $(cat "$T/out")"
cli outsider list
grep -q "^$vm  *stopped$" "$T/out" || fail "outsider's list after stop: $(cat "$T/out")"
# no systemd here: a member's start is refused with what to do instead
cli member start "$vm"
expect_rc 8 "member's start without systemd"
grep -qF "ask an administrator to run 'vmsilo-core start $vm'" "$T/err" || { cat "$T/err" >&2; fail "start refusal"; }
cli member run "$vm" true
expect_rc 125 "member's run on a stopped VM without systemd"

# the member's own VM: ~/.config/vmsilo, $XDG_RUNTIME_DIR, no VMSILO_* variable
home="$T/home-member"
mkdir -p "$home/.config/vmsilo/vms" "$home/images" "$T/xdg-member"
cp "$GUEST/vmlinuz" "$GUEST/initrd.gz" "$home/images/"
cat >"$home/.config/vmsilo/vms/mine.conf" <<EOS
[vm]
vmm = qemu
memory = 256
cpus = 1
kernel = $home/images/vmlinuz
initrd = $home/images/initrd.gz
EOS
chown -R "$member" "$home" "$T/xdg-member"
chmod 0700 "$T/xdg-member"
own_env="HOME=$home PATH=$PATH XDG_RUNTIME_DIR=$T/xdg-member"
own() {
        set +e
        # shellcheck disable=SC2086
        as_member "$member" env -i $own_env "$VMSILO" "$@" </dev/null >"$T/out" 2>"$T/err"
        rc=$?
        set -e
}
own start mine
expect_rc 0 "own VM start"
[ -S "$T/xdg-member/vmsilo/mine/control.sock" ] || fail "own VM's state is not in \$XDG_RUNTIME_DIR/vmsilo"
own run mine id -u
expect_rc 0 "own VM run"
[ "$(cat "$T/out")" = 0 ] || fail "own VM: the owner's command ran as '$(cat "$T/out")', expected root"
own list
grep -q "^mine  *running$" "$T/out" || fail "own list: $(cat "$T/out")"
own stop mine
expect_rc 0 "own VM stop"
[ ! -e "$T/xdg-member/vmsilo/mine" ] || fail "own VM's runtime dir left after stop"
# (a zombie waits for this machine's init to reap it)
for _ in $(seq 50); do
        ps -u "$member" -o stat= | grep -qv '^Z' || break
        sleep 0.1
done
ps -u "$member" -o stat= | grep -qv '^Z' && { ps -fu "$member" >&2; fail "processes of the member left"; }

# a tap an administrator made (and set up) for the member: their own VM uses it, no privilege
net="10.213.$(($$ % 250))"
ip tuntap add "$tap" mode tap user "$member" vnet_hdr || fail "ip tuntap add"
ip addr add "$net.1/24" dev "$tap"
ip link set "$tap" up
mkdir -p "$home/.config/vmsilo/conf.d" "$home/.config/vmsilo/vms/mine.conf.d"
printf '[plugin net]\nenable = yes\npath = %s\n' "$BUILD/plugins/net.so" >"$home/.config/vmsilo/conf.d/net.conf"
printf '[net eth0]\ntap = %s\nexisting-tap = yes\naddress = %s.2/24\n' "$tap" "$net" \
        >"$home/.config/vmsilo/vms/mine.conf.d/net.conf"
chown -R "$member" "$home/.config"
# Debian's udev makes /dev/net/tun 0666; this machine's is 0600: give the member's commands a
# 0666 node of the same device, in a mount namespace of their own
mknod -m 0666 "$T/tun" c 10 200
own() {
        set +e
        # shellcheck disable=SC2086
        unshare -m --propagation private sh -c 'mount --bind "$1" /dev/net/tun && shift && exec "$@"' \
                sh "$T/tun" setpriv --reuid="$member" --regid="$(id -g "$member")" --init-groups \
                --inh-caps=-all -- env -i $own_env "$VMSILO" "$@" </dev/null >"$T/out" 2>"$T/err"
        rc=$?
        set -e
}
own check mine
expect_rc 0 "own VM with an existing tap: check"
own start mine
expect_rc 0 "own VM with an existing tap: start"
own run mine ping -c 1 -W 5 "$net.1"
expect_rc 0 "own VM pings the host over the administrator's tap"
own stop mine
expect_rc 0 "own VM with an existing tap: stop"
ip link show "$tap" >/dev/null 2>&1 || fail "the administrator's tap was removed by the user's stop"
# another user's tap: preflight says whose it is and what to run
ip tuntap del "$tap" mode tap
ip tuntap add "$tap" mode tap user "$outsider" vnet_hdr
own check mine
expect_rc 4 "own VM with someone else's tap: check"
grep -qF "is not owned by uid $(id -u "$member")" "$T/err" || { cat "$T/err" >&2; fail "tap owner message"; }
own_env=
true
