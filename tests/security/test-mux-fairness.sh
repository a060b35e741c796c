# One `run` client that stops reading (`run VM yes | sleep 60`) must only stall its own
# command: other runs in the same VM complete, with their output and exit status, within
# seconds, and the supervisor's memory stays bounded (protocol 2: per-session credit). With
# a guest agent that speaks only protocol 1 (vmsilo.agent-version=1), `run` still works
# (fairness is not promised there).
. "$(dirname "$0")/lib.sh"

MAX_GROWTH_KB=$((16 * 1024))

sup_pid() {
        cut -d' ' -f1 "$RUN/$1/supervisor.pid"
}

peak_kb() {
        awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# start_stalled VM: a `run VM yes` whose stdout nobody reads (a FIFO held open by fd 3)
start_stalled() {
        rm -f "$T/fifo"
        mkfifo "$T/fifo"
        exec 3<>"$T/fifo"
        "$VMSILO" run "$1" yes >"$T/fifo" 2>/dev/null 3<&- &
        stalled=$!
        sleep 3 # let it fill every buffer on the way
        kill -0 "$stalled" || fail "the stalled run ended early"
}

# SIGKILL: a `run` blocked writing to its stdout cannot act on a forwarded SIGTERM
stop_stalled() {
        kill -9 "$stalled" 2>/dev/null || true
        wait "$stalled" 2>/dev/null || true
        exec 3<&-
}

# others VM: four runs at once (small output with a status, 2 MB of output, 1 MB through
# stdin and back); sets $elapsed (s)
others() {
        vm=$1
        start=$(date +%s)
        for i in 1 2; do
                timeout -s KILL 60 "$VMSILO" run "$vm" sh -c "echo out-$i; exit $((40 + i))" \
                        >"$T/o$i" 2>"$T/e$i" &
                eval "p$i=\$!"
        done
        timeout -s KILL 60 "$VMSILO" run "$vm" sh -c 'yes 0123456789abcde | head -c 2000000' \
                >"$T/o3" 2>"$T/e3" &
        p3=$!
        head -c 1000000 /dev/urandom >"$T/in4"
        timeout -s KILL 60 "$VMSILO" run "$vm" cat <"$T/in4" >"$T/o4" 2>"$T/e4" &
        p4=$!
        for i in 1 2 3 4; do
                eval "wait \$p$i" && eval "s$i=0" || eval "s$i=\$?"
        done
        elapsed=$(($(date +%s) - start))
        [ "$s1" = 41 ] && [ "$s2" = 42 ] && [ "$s3" = 0 ] && [ "$s4" = 0 ] ||
                { cat "$T"/e? >&2; fail "$vm: statuses $s1 $s2 $s3 $s4, expected 41 42 0 0"; }
        [ "$(cat "$T/o1")" = out-1 ] && [ "$(cat "$T/o2")" = out-2 ] || fail "$vm: small outputs wrong"
        [ "$(yes 0123456789abcde | head -c 2000000 | sha256sum)" = "$(sha256sum <"$T/o3")" ] ||
                fail "$vm: 2 MB output wrong ($(wc -c <"$T/o3") bytes)"
        cmp -s "$T/in4" "$T/o4" || fail "$vm: 1 MB through stdin and back wrong"
}

# --- protocol 2: fairness ------------------------------------------------------------------
make_qemu_vm w
expect 0 "$VMSILO" run w true
sup=$(sup_pid w)
base=$(peak_kb "$sup")
others w
echo "w: four runs, nothing stalled: ${elapsed} s"
quiet=$elapsed
start_stalled w
others w
echo "w: four runs beside a stalled reader: ${elapsed} s"
[ "$elapsed" -le $((quiet + 10)) ] || fail "runs took ${elapsed} s beside a stalled reader (${quiet} s without)"
kill -0 "$stalled" || fail "the stalled run ended"
peak=$(peak_kb "$sup")
echo "w: supervisor peak RSS ${base} kB -> ${peak} kB"
[ $((peak - base)) -le "$MAX_GROWTH_KB" ] || fail "supervisor peak RSS grew by $((peak - base)) kB"
stop_stalled
expect 0 "$VMSILO" run w sh -c 'sleep 1; ps | grep -c "[y]es" || true'
[ "$(cat "$T/out")" = 0 ] || fail "the stalled command survived its client: $(cat "$T/out")"
grep -q 'agent client .* dropped' "$RUN/w/supervisor.log" && fail "a well-behaved client was dropped"

# --- protocol 1 guest: it works (no fairness promised) ----------------------------------------
make_qemu_vm v1
echo "kernel-params = vmsilo.agent-version=1" >>"$CONF/vms/v1.conf"
expect 0 "$VMSILO" run v1 sh -c 'ps -o args | grep "[v]msilo-agent"'
grep -q -- '--max-version 1' "$T/out" || fail "the v1 guest's agent does not run with --max-version 1: $(cat "$T/out")"
others v1
echo "v1: four runs: ${elapsed} s"
start_stalled v1
stop_stalled
others v1
echo "v1: four runs after a stalled reader went away: ${elapsed} s"
