# vmsilo@.service, vmsilo-run@.socket/.service, the user unit and the polkit rule under a real
# systemd, D-Bus and polkit (tests/systemd/lib.sh). alice is in vmsilo-work, bob is not.
#  - alice starts and stops vmsilo@work with systemctl, no password (the shipped polkit rule);
#    the start returns only once the VM is up (Type=notify: READY=1 after the VMM and the
#    client socket are up), and the stop leaves no process, socket or run state behind
#  - bob is denied by polkit, and refused by vmsilo-core with the group that grants access
#  - alice's `vmsilo-core run` on the stopped VM starts it through systemd and runs (socket
#    activation as vmsilo has it), as the guest's user; three at once start it once
#  - vmsilo-run@work.socket: a connection to /run/vmsilo/work.run.sock starts the VM
#  - alice's own VM in ~/.config/vmsilo under `systemctl --user`
. "$(dirname "$0")/lib.sh"

make_root
vm_conf work
chroot "$ROOT" groupadd --system vmsilo-work
chroot "$ROOT" useradd --create-home --groups vmsilo-work alice
chroot "$ROOT" useradd --create-home bob
boot

unit=vmsilo@work.service
up_count() {
        ct journalctl --no-pager -o cat -u "$unit" | grep -c "VM 'work' is up" || true
}
assert_stopped_clean() {
        wait_for "! ct systemctl is-active --quiet $unit"
        state=$(ct systemctl show -p ActiveState --value "$unit")
        [ "$state" = inactive ] || { ct systemctl status --no-pager "$unit" >&2 || true; fail "$unit is $state after stop"; }
        ct test ! -e /run/vmsilo/work || fail "/run/vmsilo/work left after stop"
        ct test ! -e /run/vmsilo/work.sock || fail "/run/vmsilo/work.sock left after stop"
        if ct pgrep -f 'qemu-system|vmsilo-core' >/dev/null; then
                ct ps -ef >&2
                fail "processes left after stop"
        fi
}

# 1. alice: start through systemctl (polkit: the shipped rule), Type=notify readiness
[ "$(ct systemctl show -p Type --value "$unit")" = notify ] || fail "$unit is not Type=notify"
on 0 as alice systemctl start "$unit"
# systemctl returned: the VM must be up already (READY=1 comes after its control socket)
ct test -S /run/vmsilo/work/control.sock || fail "systemctl start returned before the VM was up"
ct test -S /run/vmsilo/work.sock || fail "no client socket when the unit became active"
[ "$(ct stat -c '%U:%G %a' /run/vmsilo/work.sock)" = "root:vmsilo-work 660" ] || fail "client socket mode"
[ "$(ct systemctl is-active "$unit")" = active ] || fail "$unit not active after start"
main=$(ct systemctl show -p MainPID --value "$unit")
[ "$main" = "$(ct cut -d' ' -f1 /run/vmsilo/work/supervisor.pid)" ] || fail "MainPID $main is not the supervisor"
on 0 as alice vmsilo-core run work id -un
[ "$(cat "$T/out")" = user ] || fail "alice's command ran as '$(cat "$T/out")', expected user"
on 0 as alice vmsilo-core list
grep -q '^work  *running$' "$T/out" || fail "alice's list: $(cat "$T/out")"

# 2. bob: polkit denies the unit, vmsilo-core refuses with the group
on 1 as bob systemctl start "$unit"
grep -qiE "access denied|authentication required" "$T/err" || { cat "$T/err" >&2; fail "bob's systemctl: not a denial"; }
on 1 as bob systemctl stop "$unit"
[ "$(ct systemctl is-active "$unit")" = active ] || fail "bob stopped the VM"
on 125 as bob vmsilo-core run work true
grep -qF "only members of group 'vmsilo-work' may use it" "$T/err" || { cat "$T/err" >&2; fail "bob's refusal"; }
on 8 as bob vmsilo-core stop work
on 0 as bob vmsilo-core list
grep -q '^work  *unknown$' "$T/out" || fail "bob's list: $(cat "$T/out")"

# 3. alice stops it with systemctl: nothing left behind
on 0 as alice systemctl stop "$unit"
assert_stopped_clean

# 4. socket activation as vmsilo has it: run on the stopped VM starts it through systemd
before=$(up_count)
on 0 as alice vmsilo-core run work id -u
[ "$(cat "$T/out")" = 1000 ] || fail "run after activation: '$(cat "$T/out")'"
[ "$(ct systemctl is-active "$unit")" = active ] || fail "run did not start $unit"
[ "$(up_count)" = $((before + 1)) ] || fail "the VM was not started exactly once"
on 0 as alice vmsilo-core stop work
assert_stopped_clean
# three at once: one start, and every command runs
before=$(up_count)
pids=
for i in 1 2 3; do
        as alice vmsilo-core run work echo "hello $i" >"$T/par$i.out" 2>"$T/par$i.err" &
        pids="$pids $!"
done
wait_all=0
for p in $pids; do
        wait "$p" || wait_all=1
done
for i in 1 2 3; do
        [ "$(cat "$T/par$i.out")" = "hello $i" ] || { cat "$T/par$i.err" >&2; fail "parallel run $i: '$(cat "$T/par$i.out")'"; }
done
[ "$wait_all" = 0 ] || fail "a parallel run failed"
[ "$(up_count)" = $((before + 1)) ] || fail "three runs started the VM $(( $(up_count) - before )) times"
on 0 as alice systemctl stop "$unit"
assert_stopped_clean

# 5. vmsilo-run@work.socket: alice starts it; the first connection starts the VM
on 0 as alice systemctl start vmsilo-run@work.socket
[ "$(ct stat -c '%G %a' /run/vmsilo/work.run.sock)" = "vmsilo-work 660" ] || fail "run socket mode"
(as alice socat -u /dev/null UNIX-CONNECT:/run/vmsilo/work.run.sock >/dev/null 2>&1 || true) &
wait_for "ct systemctl is-active --quiet $unit"
on 0 as alice systemctl stop vmsilo-run@work.socket "$unit"
assert_stopped_clean

# 6. alice's own VM under her user manager, from ~/.config/vmsilo
ct loginctl enable-linger alice
uid=$(ct id -u alice)
wait_for "ct test -S /run/user/$uid/systemd/private"
ct test -f /usr/lib/systemd/user/vmsilo@.service || fail "user unit not installed"
ct mkdir -p /home/alice/.config/vmsilo/vms
sed 's/^memory = .*/memory = 192/' "$ROOT/etc/vmsilo/vms/work.conf" >"$T/mine.conf"
cp "$T/mine.conf" "$ROOT/home/alice/.config/vmsilo/vms/mine.conf"
ct chown -R alice:alice /home/alice/.config
on 0 as alice systemctl --user start vmsilo@mine.service
ct test -S "/run/user/$uid/vmsilo/mine/control.sock" || fail "own VM not up in \$XDG_RUNTIME_DIR when the user unit started"
on 0 as alice vmsilo-core run mine id -u
[ "$(cat "$T/out")" = 0 ] || fail "own VM: '$(cat "$T/out")'"
on 0 as alice systemctl --user stop vmsilo@mine.service
ct test ! -e "/run/user/$uid/vmsilo/mine" || fail "own VM's run state left"
ct pgrep -f qemu-system >/dev/null && fail "own VM's qemu left"
true
