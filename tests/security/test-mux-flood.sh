# A local user who may `run` in a VM reaches the root supervisor's agent multiplexer
# (agent.sock). Flooding it with HELLO or START frames, or with stdin beyond the credit
# window, without ever reading, must not grow the supervisor (its peak RSS stays within a
# few MiB), must get the attacker dropped with exactly one log line naming its pid, and must
# leave the VM usable for everyone else.
. "$(dirname "$0")/lib.sh"

LIMIT=$((48 * 1024 * 1024)) # what made the old multiplexer grow to 160 MB
MAX_GROWTH_KB=$((16 * 1024))

make_qemu_vm f
expect 0 "$VMSILO" run f true
sup=$(cut -d" " -f1 "$RUN/f/supervisor.pid")
[ -n "$sup" ] && [ -r "/proc/$sup/status" ] || fail "no supervisor process for VM 'f'"
log="$RUN/f/supervisor.log"
[ -f "$log" ] || fail "no supervisor log at $log"

peak_kb() {
        awk '/^VmHWM:/ { print $2 }' "/proc/$sup/status"
}

attack() {
        mode=$1
        base=$(peak_kb)
        lines=$(grep -c 'agent client (pid [0-9]*) dropped' "$log" || true)
        python3 "$TOP/tests/security/mux-attacker.py" "$RUN/f/agent.sock" "$mode" "$LIMIT" \
                >"$T/attack-$mode" 2>&1 &
        apid=$!
        wait "$apid" || fail "$mode: attacker failed: $(cat "$T/attack-$mode")"
        result=$(cat "$T/attack-$mode")
        peak=$(peak_kb)
        echo "$mode: $result, supervisor peak RSS ${base} kB -> ${peak} kB"
        [ $((peak - base)) -le "$MAX_GROWTH_KB" ] ||
                fail "$mode: supervisor peak RSS grew by $((peak - base)) kB ($result)"
        case "$result" in dropped*) ;; *) fail "$mode: attacker not dropped: $result" ;; esac
        after=$(grep -c 'agent client (pid [0-9]*) dropped' "$log" || true)
        [ $((after - lines)) -eq 1 ] || { tail -n 20 "$log" >&2; fail "$mode: $((after - lines)) log lines, expected 1"; }
        grep -q "agent client (pid $apid) dropped" "$log" || { tail -n 5 "$log" >&2; fail "$mode: log line lacks pid $apid"; }
        # the VM still serves a normal client
        expect 0 "$VMSILO" run f sh -c 'echo still-here'
        [ "$(cat "$T/out")" = still-here ] || fail "$mode: run after the attack: $(cat "$T/out")"
}

attack hello
attack start
attack samestart
attack stdin
# the STARTs that got through were hung up with their client
expect 0 "$VMSILO" run f sh -c 'sleep 1; ps | grep -c "[s]leep 600" || true'
[ "$(cat "$T/out")" = 0 ] || fail "the attacker's commands survived it: $(cat "$T/out")"
grep 'agent client' "$log" | sed 's/^/log: /'
