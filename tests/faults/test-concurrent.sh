# Cells: concurrent commands. Several `start` at once start the VM once and all succeed;
# several `run` on a stopped VM start it once and all run; a `start` during a `stop` waits
# for the stop and then starts. Nothing is left after the last stop.
. "$(dirname "$0")/lib.sh"

make_fault_vm c1
qemus() {
        pgrep -f "qemu-system-x86_64 -name c1,.*$RUN/c1/" | wc -l
}

# start x3
for i in 1 2 3; do
        "$VMSILO" start c1 >"$T/start$i.out" 2>"$T/start$i.err" &
        eval "p$i=\$!"
done
for i in 1 2 3; do
        eval "wait \$p$i" || { cat "$T/start$i.err" >&2; fail "concurrent start $i failed"; }
done
[ "$(qemus)" = 1 ] || fail "$(qemus) VMMs for concurrent starts"
expect 0 "$VMSILO" run c1 true # booted: it hears the power button
expect 0 "$VMSILO" stop --timeout 20 c1
assert_clean c1

# run x5 on a stopped VM
for i in 1 2 3 4 5; do
        "$VMSILO" run c1 sh -c "echo run-$i" >"$T/run$i.out" 2>"$T/run$i.err" &
        eval "r$i=\$!"
done
for i in 1 2 3 4 5; do
        eval "wait \$r$i" || { cat "$T/run$i.err" >&2; fail "concurrent run $i failed"; }
        [ "$(cat "$T/run$i.out")" = "run-$i" ] || fail "run $i printed '$(cat "$T/run$i.out")'"
done
[ "$(qemus)" = 1 ] || fail "$(qemus) VMMs for concurrent runs"

# start during a stop: waits for it, then starts
"$VMSILO" stop --timeout 20 c1 >"$T/stop.out" 2>"$T/stop.err" &
ps=$!
sleep 0.3
expect 0 "$VMSILO" start c1
wait "$ps" || { cat "$T/stop.err" >&2; fail "stop failed while a start waited"; }
expect 0 "$VMSILO" list
grep -q '^c1  *running$' "$T/out" || fail "not running after stop+start: $(cat "$T/out")"
expect 0 "$VMSILO" run c1 true
expect 0 "$VMSILO" stop --timeout 20 c1
assert_clean c1
