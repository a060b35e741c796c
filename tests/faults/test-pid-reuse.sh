# Cell: PID reuse. After a crash, the pids in the journal and the pid files belong to other
# processes (here: the test's own sleepers); cleanup and stop must not kill them, and still
# undo everything else.
. "$(dirname "$0")/lib.sh"

make_fault_vm p1
expect 0 "$VMSILO" start p1
sup=$(pid_of p1 supervisor.pid)
vmm=$(pid_of p1 vmm.pid)
hp=$(helper_pid p1)
kill -KILL "$sup" "$vmm" "$hp"
wait_for 5 state_is p1 "needs cleanup" || fail "crash not noticed"
# stand-ins that now own pids the run recorded: rewrite the records to their pids, keeping
# the old start times (what a reused pid looks like)
sleep 300 &
s1=$!
sleep 300 &
s2=$!
sed -i "s/^kill\t$vmm\t/kill\t$s1\t/; s/^kill\t$hp\t/kill\t$s2\t/" "$RUN/p1/journal"
start_time=$(cut -d' ' -f2 "$RUN/p1/vmm.pid")
echo "$s1 $start_time" >"$RUN/p1/vmm.pid"
echo "$s2 $start_time" >"$RUN/p1/supervisor.pid"
expect 0 "$VMSILO" stop p1
pid_alive "$s1" || fail "cleanup killed an unrelated process that reused the VMM's pid"
pid_alive "$s2" || fail "cleanup killed an unrelated process that reused the helper's pid"
kill "$s1" "$s2"
wait "$s1" "$s2" 2>/dev/null || true
assert_clean p1
next_start_works p1
