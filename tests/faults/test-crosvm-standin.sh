# The cells of the fault matrix that apply to the crosvm backend, against the stand-in crosvm
# (tests/fake-crosvm) and the testplug fixture's helper: the VMM failing at once, a helper
# dying while the VM runs (each policy), the supervisor SIGSTOPped, a simulated reboot,
# concurrent starts, an undo that cannot succeed, PID reuse. (A guest that ignores the power
# button: tests/cli/test-stop-escalation.sh.) Runs in a private mount namespace.
if [ -z "${VMSILO_FAULT_NS:-}" ]; then
        VMSILO_FAULT_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/../cli/lib.sh"

use_crosvm upstream
make_vm cv
cp "$BUILD/fixtures/testplug.so" "$T/testplug.so"
printf '[plugin testplug]\nenable = yes\npath = %s/testplug.so\n' "$T" >"$CONF/conf.d/60-testplug.conf"
mkdir -p "$CONF/vms/cv.conf.d" "$T/ov"
printf '[testplug]\nmarker = %s/marker\n[overlay]\ntype = raw\nsize = 1G\ndirectory = %s\n' "$T" "$T/ov" \
        >"$CONF/vms/cv.conf.d/tp.conf"
clean() {
        assert_no_run_state
        assert_no_processes
        [ ! -e "$T/marker" ] || fail "$1: the plugin's marker is left"
        [ -z "$(ls -A "$T/ov")" ] || fail "$1: overlay file left"
}
wait_for() {
        n=$(($1 * 10))
        shift
        while ! "$@" >/dev/null 2>&1; do
                n=$((n - 1))
                [ $n -gt 0 ] || return 1
                sleep 0.1
        done
}
listed() {
        "$VMSILO" list | grep -q "^cv  *$1"
}
sleeper() {
        awk -F'\t' '$1 == "kill" && $4 == "testplug/sleeper" {print $2}' "$RUN/cv/journal"
}

# the VMM fails at once
FAKE_CROSVM_EXIT=1 expect 1 "$VMSILO" start cv
err_has "crosvm exited with status 1 before it was up"
clean "VMM fails at once"

# a helper dies while the VM runs: keep, kill, poweroff
for policy in keep kill poweroff; do
        printf '[vm]\non-helper-failure = %s\n' "$policy" >"$CONF/vms/cv.conf.d/policy.conf"
        expect 0 "$VMSILO" start cv
        hp=$(sleeper)
        kill -KILL "$hp"
        if [ "$policy" = keep ]; then
                wait_for 1 listed "running, helper 'testplug/sleeper' was killed by signal 9" ||
                        fail "keep: not shown within a second: $("$VMSILO" list)"
                expect 0 "$VMSILO" stop cv
                err_has "cannot shut down cleanly (a helper failed)"
        else
                wait_for 10 test ! -e "$RUN/cv" || fail "$policy: the VM did not end"
        fi
        clean "helper dies, $policy"
        expect 0 "$VMSILO" status cv
        out_has "helper 'testplug/sleeper' (pid $hp) of VM 'cv' was killed by signal 9"
done
rm "$CONF/vms/cv.conf.d/policy.conf"

# the supervisor SIGSTOPped
expect 0 "$VMSILO" start cv
sup=$(cut -d' ' -f1 "$RUN/cv/supervisor.pid")
kill -STOP "$sup"
expect 0 "$VMSILO" stop cv
err_has "the supervisor of VM 'cv' (pid $sup) was stopped by a signal, continuing it"
clean "supervisor SIGSTOPped"

# a simulated reboot: supervisor, VMM and helper SIGKILLed
expect 0 "$VMSILO" start cv
kill -KILL "$(cut -d' ' -f1 "$RUN/cv/supervisor.pid")" "$(cut -d' ' -f1 "$RUN/cv/vmm.pid")" "$(sleeper)"
wait_for 5 listed "needs cleanup: run 'vmsilo-core cleanup cv'" || fail "reboot: $("$VMSILO" list)"
expect 0 "$VMSILO" start cv
expect 0 "$VMSILO" stop cv
clean "reboot"

# three starts at once: one VMM, all succeed
for i in 1 2 3; do
        "$VMSILO" start cv >"$T/s$i.out" 2>"$T/s$i.err" &
        eval "p$i=\$!"
done
for i in 1 2 3; do
        eval "wait \$p$i" || { cat "$T/s$i.err" >&2; fail "concurrent start $i failed"; }
done
[ "$(pgrep -f -- "--socket=$RUN/cv/control.sock" | wc -l)" = 1 ] || fail "not exactly one VMM"
expect 0 "$VMSILO" stop cv
clean "concurrent starts"

# an undo that cannot succeed: the overlay file is a mount point (EBUSY)
expect 0 "$VMSILO" start cv
: >"$T/over"
mount --bind "$T/over" "$T/ov/cv-ephemeral.raw"
expect 1 "$VMSILO" stop cv
err_has "failed to remove '$T/ov/cv-ephemeral.raw': Device or resource busy"
err_has "left: file '$T/ov/cv-ephemeral.raw'"
listed "needs cleanup" || fail "undo fails: $("$VMSILO" list)"
umount "$T/ov/cv-ephemeral.raw"
expect 0 "$VMSILO" cleanup cv
clean "undo fails"

# PID reuse: the recorded pids now belong to other processes
expect 0 "$VMSILO" start cv
vmm=$(cut -d' ' -f1 "$RUN/cv/vmm.pid")
hp=$(sleeper)
kill -KILL "$(cut -d' ' -f1 "$RUN/cv/supervisor.pid")" "$vmm" "$hp"
wait_for 5 listed "needs cleanup" || fail "pid reuse: crash not shown"
sleep 300 &
s1=$!
sed -i "s/^kill\t$vmm\t/kill\t$s1\t/; s/^kill\t$hp\t/kill\t$s1\t/" "$RUN/cv/journal"
expect 0 "$VMSILO" cleanup cv
pid_alive "$s1" || fail "cleanup killed a process that reused a recorded pid"
kill "$s1"
clean "pid reuse"

# and the next start works
expect 0 "$VMSILO" start cv
expect 0 "$VMSILO" stop cv
clean "next start"
