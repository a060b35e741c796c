# `run`: argv arrives exactly, statuses and signals come back, stdio is streamed byte-exact
# (100 MB), stdin EOF is delivered, concurrent runs do not mix, `run` starts a stopped VM,
# and a guest that disappears mid-command ends `run` with a clear error, not a hang.
. "$(dirname "$0")/lib.sh"

make_qemu_vm r

# run on a stopped VM starts it
expect 0 "$VMSILO" run r true
expect 0 "$VMSILO" list
grep -q '^r  *running$' "$T/out" || fail "run did not start the VM"

# argv: spaces, quotes, empty strings, a non-UTF-8 byte, a leading dash
bad=$(printf 'caf\351')
expect 0 "$VMSILO" run r sh -c 'for a in "$@"; do printf "[%s]" "$a"; done' sh \
        'a b' "it's" '"q"' '' "$bad" '-x' '$HOME' '*'
printf '[a b][it'"'"'s]["q"][][%s][-x][$HOME][*]' "$bad" >"$T/want"
cmp "$T/want" "$T/out" || fail "argv did not arrive intact: $(od -c "$T/out" | head -3)"

# exit statuses and death by signal
for st in 0 1 42 255; do
        expect "$st" "$VMSILO" run r sh -c "exit $st"
done
expect 137 "$VMSILO" run r sh -c 'kill -KILL $$'
expect 143 "$VMSILO" run r sh -c 'kill -TERM $$'

# a script without '#!' runs with /bin/sh, by PATH search and by path, as execvp() does
expect 0 "$VMSILO" run r sh -c 'printf "echo no-shebang \$1\n" >/tmp/ns && chmod +x /tmp/ns'
expect 0 "$VMSILO" run r /tmp/ns by-path
[ "$(cat "$T/out")" = "no-shebang by-path" ] || fail "script by path: $(cat "$T/out" "$T/err")"
expect 0 "$VMSILO" run -e PATH=/tmp:/bin r ns by-name
[ "$(cat "$T/out")" = "no-shebang by-name" ] || fail "script by name: $(cat "$T/out" "$T/err")"

# stdin and its EOF
printf 'line one\nline two\n' | "$VMSILO" run r wc -l >"$T/out"
[ "$(tr -d ' ' <"$T/out")" = 2 ] || fail "stdin/EOF: $(cat "$T/out")"
"$VMSILO" run r cat </dev/null >"$T/out" || fail "cat with empty stdin failed"

# 100 MB through stdout, byte-exact
"$VMSILO" run r sh -c 'yes vmsilo-0123456789abcdef | head -c 100000000' | sha256sum >"$T/got"
yes vmsilo-0123456789abcdef | head -c 100000000 | sha256sum >"$T/want"
cmp "$T/want" "$T/got" || fail "100 MB stdout not byte-exact"

# stderr separate from stdout
expect 0 "$VMSILO" run r sh -c 'echo to-out; echo to-err >&2'
[ "$(cat "$T/out")" = to-out ] && [ "$(cat "$T/err")" = to-err ] || fail "stdout/stderr mixed"

# two concurrent runs in one VM do not mix their streams
"$VMSILO" run r sh -c 'i=0; while [ $i -lt 2000 ]; do echo A$i; i=$((i+1)); done; exit 5' >"$T/a" &
pa=$!
"$VMSILO" run r sh -c 'i=0; while [ $i -lt 2000 ]; do echo B$i; i=$((i+1)); done; exit 6' >"$T/b" &
pb=$!
wait $pa || sa=$?
wait $pb || sb=$?
[ "${sa:-0}" = 5 ] && [ "${sb:-0}" = 6 ] || fail "concurrent statuses $sa $sb"
seq 0 1999 | sed 's/^/A/' | cmp - "$T/a" || fail "stream A mixed or incomplete"
seq 0 1999 | sed 's/^/B/' | cmp - "$T/b" || fail "stream B mixed or incomplete"

# a client that goes away: its command's later output and status never reach the next
# client, even though the multiplexer hands out session ids again
"$VMSILO" run r sh -c 'trap "" HUP; sleep 2; echo A-SECRET; exit 42' >/dev/null 2>&1 &
pa=$!
sleep 1
kill -9 $pa
expect 0 "$VMSILO" run r sh -c 'sleep 3; echo B-OWN'
[ "$(cat "$T/out")" = B-OWN ] || fail "another client's output leaked in: $(cat "$T/out")"

# -u: another user; -t: a pty in the guest, the local terminal's size (script(1) gives us a
# terminal; the terminal is restored afterwards)
expect 0 "$VMSILO" run -u 1000 r id -u
[ "$(cat "$T/out")" = 1000 ] || fail "-u 1000: $(cat "$T/out")"
script -qec "stty cols 123 rows 45; $VMSILO run -t r sh -c 'tty; stty size'" /dev/null >"$T/tty" ||
        fail "run -t failed: $(cat "$T/tty")"
# (script(1) may echo its stdin's EOF into the pty first, as '^@': match anywhere in the line)
grep -q '/dev/pts/' "$T/tty" || fail "-t gave no pty: $(cat "$T/tty")"
grep -q '45 123' "$T/tty" || fail "-t did not pass the window size: $(cat "$T/tty")"

# environment, working directory
expect 0 "$VMSILO" run -e FOO='x y' -w /tmp r sh -c 'echo "$FOO:$(pwd)"'
[ "$(cat "$T/out")" = "x y:/tmp" ] || fail "env/cwd: $(cat "$T/out")"

# the guest disappears mid-command: a clear error, exit 125, no hang
"$VMSILO" run r sleep 60 >"$T/out" 2>"$T/err" &
prun=$!
sleep 1.5
kill -9 "$(cut -d' ' -f1 "$RUN/r/vmm.pid")"
i=0
while kill -0 "$prun" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || { kill "$prun"; fail "run hangs after the VM died"; }
        sleep 0.1
done
wait "$prun" && rc=0 || rc=$?
[ "$rc" = 125 ] || fail "run exited $rc after the VM died, expected 125"
grep -q "VM 'r' went away while running the command" "$T/err" || { cat "$T/err"; fail "no clear error"; }

# the supervisor noticed and cleaned up
i=0
while [ -e "$RUN/r" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
assert_no_qemu r
assert_no_run_state
assert_no_processes

# --no-start on a stopped VM
expect 125 "$VMSILO" run --no-start r true
err_has "VM 'r' is not running"
