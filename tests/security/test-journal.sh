# Runtime dir and journal: `cleanup` (and `stop`, `start`) act on what a runtime dir's journal
# says (remove this path, kill that pid) only when the dir and the journal are root's or the
# caller's, not symlinks, and not writable by others; a pid is killed only when its start time
# matches the one recorded. A real VM whose supervisor was SIGKILLed is still cleaned up.
. "$(dirname "$0")/lib.sh"

chmod 755 "$T"
chmod 1777 "$RUN" # a runtime base that a user can write into
u=$(make_test_user journal)

: >"$T/victim-file"
sleep 300 &
victim=$!
vstart=$(sed 's/.*) //' "/proc/$victim/stat" | cut -d' ' -f20)
[ -n "$vstart" ] || fail "no start time for pid $victim"

# as the user: a runtime dir whose journal names root's file and root's process (with its
# right start time, and without one)
as_user "$u" mkdir -m 0750 "$RUN/jv"
printf 'unlink\t%s\nkill\t%s\t%s\tsleeper\nkill\t%s\t0\tany\n' "$T/victim-file" "$victim" \
        "$vstart" "$victim" | as_user "$u" tee "$RUN/jv/journal" >/dev/null
make_qemu_vm jv

expect 1 "$VMSILO" cleanup jv
err_has "refusing to use runtime dir '$RUN/jv'"
expect 1 "$VMSILO" stop jv
err_has "refusing to use runtime dir '$RUN/jv'"
expect 1 "$VMSILO" start jv
err_has "refusing to use runtime dir '$RUN/jv'"
printf 'unix:%s/fake-agent.sock\n' "$T" | as_user "$u" tee "$RUN/jv/agent.addr" >/dev/null
expect 125 "$VMSILO" run --no-start jv true
err_has "refusing to use runtime dir '$RUN/jv'"
[ -e "$T/victim-file" ] || fail "cleanup removed root's file as the user's journal said"
pid_alive "$victim" || fail "cleanup killed root's process as the user's journal said"
[ -e "$RUN/jv/journal" ] || fail "the user's runtime dir was emptied"

# a symlink to a root-owned dir with a journal (another VM's runtime dir, say)
mkdir -m 0750 "$T/rootdir"
printf 'unlink\t%s\n' "$T/victim-file" >"$T/rootdir/journal"
as_user "$u" ln -s "$T/rootdir" "$RUN/sl"
make_qemu_vm sl
expect 1 "$VMSILO" cleanup sl
err_has "refusing to use runtime dir '$RUN/sl'"
[ -e "$T/victim-file" ] || fail "cleanup followed a symlinked runtime dir"
[ -e "$T/rootdir/journal" ] || fail "cleanup emptied the symlink's target"

# root's own dir, but the journal is writable by others
mkdir -m 0750 "$RUN/ww"
printf 'unlink\t%s\n' "$T/victim-file" >"$RUN/ww/journal"
chmod 0666 "$RUN/ww/journal"
make_qemu_vm ww
expect 1 "$VMSILO" cleanup ww
err_has "not replaying the journal in '$RUN/ww'"
[ -e "$T/victim-file" ] || fail "cleanup replayed a journal that anyone could write"
rm -rf "$RUN/ww"

# pid reuse: a record of an earlier holder of the pid (other start time), and a record
# without a start time: the process that has the pid now is not killed
mkdir -m 0750 "$RUN/pr"
printf 'kill\t%s\t%s\told-helper\nkill\t%s\t0\tno-start\n' "$victim" "$((vstart + 12345))" \
        "$victim" >"$RUN/pr/journal"
make_qemu_vm pr
expect 0 "$VMSILO" cleanup pr
err_has "journal names 'no-start' (pid $victim) without a start time, not killing it"
pid_alive "$victim" || fail "cleanup killed a process that merely reused a recorded pid"
[ ! -e "$RUN/pr" ] || fail "cleanup left the runtime dir"
kill "$victim"

# the legit path: a real VM whose supervisor is SIGKILLed is cleaned up
expect 0 "$VMSILO" start pr
sup=$(cut -d' ' -f1 "$RUN/pr/supervisor.pid")
vmm=$(cut -d' ' -f1 "$RUN/pr/vmm.pid")
kill -9 "$sup"
sleep 0.3
[ -e "$RUN/pr/journal" ] || fail "no journal left by the killed supervisor"
expect 0 "$VMSILO" cleanup pr
i=0
while pid_alive "$vmm" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
pid_alive "$vmm" && fail "cleanup left the VMM (pid $vmm) running"
assert_no_qemu pr
[ ! -e "$RUN/pr" ] || fail "cleanup left the runtime dir"
rm -rf "$RUN/jv" "$RUN/sl"
true
