# Console flood: a guest that writes without end to its serial console must not fill the
# host's disk. console.log is bounded by [vm] console-log-size and rotated once (console.log
# -> console.log.1); after the VM stops, the last log stays readable in the VM's state dir,
# 0600 in a 0700 dir. Both backends go through the same relay (core/run/console.c).
. "$(dirname "$0")/lib.sh"

make_qemu_vm cf
printf 'console-log-size = 64K\n' >>"$CONF/vms/cf.conf"
expect 0 "$VMSILO" start cf
state="$VMSILO_STATE_DIR/cf"

# 1 MiB (16 times the bound) through the emulated serial line, ending with a marker
expect 0 "$VMSILO" run cf sh -c \
        'head -c 1048576 /dev/zero | tr "\0" x >/dev/console; echo; echo END-OF-FLOOD >/dev/console'
i=0
until grep -q END-OF-FLOOD "$state/console.log" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 600 ] || break
        sleep 0.1
done
for f in "$RUN/cf/console.log" "$state/console.log" "$state/console.log.1"; do
        [ -e "$f" ] || continue
        size=$(stat -c %s "$f")
        [ "$size" -le 65536 ] || fail "$f grew to $size bytes (bound 65536)"
done
grep -q END-OF-FLOOD "$state/console.log" || fail "the console log lacks the flood's end"
[ -e "$state/console.log.1" ] || fail "console.log was not rotated"
n=$(find "$state" "$RUN/cf" -name 'console.log*' | wc -l)
[ "$n" -le 2 ] || { find "$state" "$RUN/cf" -name 'console.log*' >&2; fail "more than one rotated log"; }

# after stop: the last log is still there, the VM's owner's only
expect 0 "$VMSILO" stop cf
[ -r "$state/console.log" ] || fail "no console log kept after stop"
grep -q END-OF-FLOOD "$state/console.log" || fail "the kept log is not the last one"
[ "$(stat -c '%a %U' "$state")" = "700 root" ] || fail "state dir is $(stat -c '%a %U' "$state")"
[ "$(stat -c '%a %U' "$state/console.log")" = "600 root" ] ||
        fail "console.log is $(stat -c '%a %U' "$state/console.log")"
assert_no_qemu cf
assert_no_run_state

# the next run keeps the previous one's log as console.log.1
expect 0 "$VMSILO" start cf
expect 0 "$VMSILO" stop cf
grep -q END-OF-FLOOD "$state/console.log.1" || fail "the previous run's log is gone"
[ "$(stat -c %s "$state/console.log")" -le 65536 ] || fail "console.log over the bound"

# a bad value names file:line
printf 'console-log-size = lots\n' >>"$CONF/vms/cf.conf"
expect 3 "$VMSILO" start cf
err_has "cf.conf:8: invalid value 'lots' for 'console-log-size' in [vm]"
