# A malformed or hostile frame from the guest side cannot crash or hang `run`: every case
# ends within seconds with exit 125 and a message; a maximal but valid stream works.
. "$(dirname "$0")/lib.sh"

cc -O1 -g -std=gnu11 -Wall -Wextra -Werror -o "$T/hostile" "$TOP/tests/agent/hostile-guest.c" "$TOP/proto/proto.c"

attack() {
        mode=$1
        want=$2
        msg=$3
        rm -f "$T/ready-$mode"
        "$T/hostile" "$RUN" evil "$mode" >"$T/ready-$mode" &
        hp=$!
        i=0
        until grep -q ready "$T/ready-$mode" 2>/dev/null; do
                i=$((i + 1))
                [ $i -lt 50 ] || fail "hostile guest did not start"
                sleep 0.1
        done
        set +e
        timeout 20 "$VMSILO" run --no-start evil true >"$T/out" 2>"$T/err"
        rc=$?
        set -e
        kill "$hp" 2>/dev/null || true
        wait "$hp" 2>/dev/null || true
        rm -rf "$RUN/evil"
        [ "$rc" != 124 ] || fail "$mode: run hangs"
        [ "$rc" = "$want" ] || { cat "$T/err" >&2; fail "$mode: run exited $rc, expected $want"; }
        [ -z "$msg" ] || grep -qF -- "$msg" "$T/err" || { cat "$T/err" >&2; fail "$mode: no '$msg'"; }
}

attack oversize 125 "VM 'evil': the guest sent a malformed frame"
attack garbage 125 "VM 'evil'"
attack badexit 125 "VM 'evil': malformed exit frame from the guest"
attack badhello 125 "VM 'evil': the guest agent speaks another protocol version"
attack close 125 "VM 'evil' went away while running the command: no exit status"
attack bigout 3 ""
[ "$(wc -c <"$T/out")" = $((64 * (65536 - 64))) ] || fail "bigout: wrong byte count $(wc -c <"$T/out")"
