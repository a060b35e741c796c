# A plugin built against the frozen ABI 1.0 header (tests/fixtures/abi10) keeps working with
# this core: it loads, its configure() gets its keys (errors with file:line), its preflight,
# prepare (a file, with an undo), contribute (a kernel parameter) and undo all run.
. "$(dirname "$0")/lib.sh"

cp "$BUILD/fixtures/abi10/example.so" "$T/example.so"
printf '[plugin example]\nenable = yes\npath = %s/example.so\n' "$T" >"$CONF/conf.d/60-example.conf"

expect 0 "$VMSILO" plugins --json
[ "$(jq -r '.[] | select(.name == "example") | .version + " " + (.abi|tostring) + " " + (.loaded|tostring)' "$T/out")" = "1.0.0 1 true" ] ||
        fail "plugins: $(cat "$T/out")"

use_crosvm upstream
make_vm web
mkdir -p "$CONF/vms/web.conf.d" "$T/stamps"

# configure: the plugin's own messages, with the core's file:line
printf '[example]\nmessage = two words\n' >"$CONF/vms/web.conf.d/50-example.conf"
expect 3 "$VMSILO" check web
err_has "$CONF/vms/web.conf.d/50-example.conf:2: example: invalid value 'two words' for 'message' in [example]"
printf '[example]\ncolour = red\n' >"$CONF/vms/web.conf.d/50-example.conf"
expect 3 "$VMSILO" check web
err_has "$CONF/vms/web.conf.d/50-example.conf:2: unknown key 'colour' in section [example]"

# preflight
printf '[example]\nmessage = hi-there\nstamp-directory = %s/missing\n' "$T" >"$CONF/vms/web.conf.d/50-example.conf"
expect 4 "$VMSILO" check web
err_has "example: stamp directory '$T/missing' is not a writable directory"

# prepare (dry run) and contribute
printf '[example]\nmessage = hi-there\nstamp-directory = %s/stamps\n' "$T" >"$CONF/vms/web.conf.d/50-example.conf"
expect 0 "$VMSILO" check web
expect 0 "$VMSILO" print --json web
[ "$(jq -r '.steps[]' "$T/out")" = "example: write stamp file '$T/stamps/web.stamp'" ] ||
        fail "print steps: $(jq -c .steps "$T/out")"
jq -r '.argv[]' "$T/out" | grep -qx -- '--params=example.message=hi-there' ||
        fail "print argv lacks the parameter: $(jq -c .argv "$T/out")"

# start makes the file, crosvm gets the parameter; stop runs the plugin's undo
: >"$FAKE_CROSVM_RECORD"
expect 0 "$VMSILO" start web
[ "$(cat "$T/stamps/web.stamp")" = "vm=web id=3 message=hi-there" ] || fail "stamp: $(cat "$T/stamps/web.stamp" 2>&1)"
grep '"run"' "$FAKE_CROSVM_RECORD" | tail -n 1 | jq -r '.[]' | grep -qx -- '--params=example.message=hi-there' ||
        fail "crosvm was not given example.message=hi-there"
expect 0 "$VMSILO" stop web
[ ! -e "$T/stamps/web.stamp" ] || fail "stop left the stamp file"
assert_no_run_state
assert_no_processes
