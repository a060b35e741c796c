# exec from a template: two first execs at once build it once (0700/0600, in the cache
# dir); status, stdout and stderr as with a boot; two execs in a row see neither each
# other's files nor the same random bytes, and the host's clock; concurrent execs each have
# their own RAM (none maps the template); --shared is read-write after the restore; a new
# kernel makes the template stale (rebuilt, the old one removed); a corrupt template falls
# back to a boot with a one-line notice; --cold boots; --prepare builds; nothing is left.
. "$(dirname "$0")/lib.sh"

cp "$GUEST/vmlinuz" "$T/vmlinuz"
X="$VMSILO exec --kernel $T/vmlinuz --initrd $GUEST/initrd.gz"
CACHE="$T/cache"
mkdir -p "$T/shared"
templates() { find "$CACHE" -maxdepth 1 -name 'exec-template-*' ! -name '*.*' | sort; }

# two first execs at once: one builds, the other waits for it; both restore
$X 'echo first-a; exit 3' >"$T/out-a" 2>"$T/err-a" &
a=$!
$X 'echo first-b; exit 4' >"$T/out-b" 2>"$T/err-b" &
b=$!
set +e
wait $a
ca=$?
wait $b
cb=$?
set -e
[ "$ca" -eq 3 ] && [ "$cb" -eq 4 ] || { cat "$T/err-a" "$T/err-b" >&2; fail "first execs: $ca $cb"; }
grep -q first-a "$T/out-a" && grep -q first-b "$T/out-b" || fail "first execs' output"
[ "$(cat "$T/err-a" "$T/err-b" | grep -c "building the exec template")" -eq 1 ] ||
        { cat "$T/err-a" "$T/err-b" >&2; fail "the template was not built exactly once"; }
grep -q "did not restore\|booting the VM" "$T/err-a" "$T/err-b" && fail "a first exec fell back to a boot"
[ "$(templates | wc -l)" -eq 1 ] || fail "templates: $(templates)"
tpl=$(templates)
[ "$(stat -c %a "$tpl")" = 700 ] || fail "template dir mode $(stat -c %a "$tpl")"
for f in key ram state; do
        [ "$(stat -c %a:%u "$tpl/$f")" = "600:$(id -u)" ] || fail "template file $f: $(stat -c %a:%u "$tpl/$f")"
done

# status, stdout and stderr as with a boot; quiet prints only the script's output
expect 7 $X -q 'echo to-out; echo to-err >&2; exit 7'
[ "$(cat "$T/out")" = to-out ] || fail "stdout: $(cat "$T/out")"
[ "$(cat "$T/err")" = to-err ] || fail "stderr: $(cat "$T/err")"
expect 143 $X -q 'kill -TERM $$'

# two in a row: the second does not see the first's files or random bytes; the clock is the host's
expect 0 $X -q 'echo secret > /root/left-behind; head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; date +%s'
r1=$(sed -n 1p "$T/out")
t1=$(sed -n 2p "$T/out")
expect 0 $X -q 'ls /root; head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo'
grep -q left-behind "$T/out" && fail "the second exec sees the first one's file"
r2=$(tail -n 1 "$T/out")
[ ${#r1} -eq 64 ] && [ "$r1" != "$r2" ] || fail "random bytes: '$r1' '$r2'"
now=$(date +%s)
[ $((now - t1)) -lt 120 ] && [ $((t1 - now)) -lt 5 ] || fail "guest clock $t1, host $now"

# concurrent execs: each has its own private RAM copy; no VMM maps the template's RAM
for i in 1 2 3; do
        $X -q "touch /tmp/shared-$i; sleep 8; ls /tmp; exit $i" >"$T/out-$i" 2>"$T/err-$i" &
        eval "p$i=\$!"
done
for _ in $(seq 120); do
        [ "$(pgrep -f "qemu-system-x86_64 -name exec-.*$RUN/" | wc -l)" -ge 3 ] && break
        sleep 0.25
done
sleep 1
maps=""
for pid in $(pgrep -f "qemu-system-x86_64 -name exec-.*$RUN/"); do
        grep -q "$tpl/ram" "/proc/$pid/maps" && fail "a VMM maps the template's RAM"
        maps="$maps $(grep -m1 ' /dev/shm/' "/proc/$pid/maps" | awk '{print $5}')"
done
for i in 1 2 3; do
        set +e
        eval "wait \$p$i"
        c=$?
        set -e
        [ "$c" -eq "$i" ] && [ "$(grep -c "^shared-" "$T/out-$i")" -eq 1 ] && grep -qx "shared-$i" "$T/out-$i" ||
                { cat "$T/out-$i" "$T/err-$i" >&2; fail "concurrent exec $i: status $c"; }
done
[ "$(echo $maps | wc -w)" -eq 3 ] || fail "RAM files of the concurrent VMs: '$maps'"
[ "$(echo $maps | tr ' ' '\n' | sort -u | wc -l)" -eq "$(echo $maps | wc -w)" ] ||
        fail "concurrent VMs share a RAM file (inodes: $maps)"

# --shared is read-write after the restore, and /usr is the host's (read-only)
echo from-host >"$T/shared/in.txt"
expect 0 $X -q --shared="$T/shared" 'cat in.txt > out.txt; echo more >> out.txt; pwd; touch /usr/x 2>/dev/null && echo usr-writable; true'
[ "$(cat "$T/shared/out.txt")" = "$(printf 'from-host\nmore')" ] || fail "shared file: $(cat "$T/shared/out.txt")"
out_has /tmp/shared
grep -q usr-writable "$T/out" && fail "/usr is writable"

# a new kernel makes the template stale: rebuilt, and the stale one removed
touch -d '1 minute ago' "$T/vmlinuz"
expect 0 $X 'true'
err_has "building the exec template"
[ "$(templates | wc -l)" -eq 1 ] || fail "stale template left: $(templates)"
tpl=$(templates)

# a corrupt template: a one-line notice, a boot, the right status; the next exec rebuilds
dd if=/dev/urandom of="$tpl/state" bs=1k count=4 seek=8 conv=notrunc 2>/dev/null
expect 5 $X 'echo after-fallback; exit 5'
out_has after-fallback
[ "$(grep -c "template" "$T/err")" -eq 1 ] && grep -q "did not restore, booting the VM" "$T/err" ||
        { cat "$T/err" >&2; fail "not exactly one line of notice"; }
grep -qi "error\|fail" "$T/err" && { cat "$T/err" >&2; fail "errors with the fallback"; }
expect 0 $X 'true'
err_has "building the exec template"
truncate -s 100 "$(templates)/state"
expect 6 $X -q 'exit 6'

# --cold boots (no restore); --prepare builds ahead of time and prints where
expect 9 $X --cold -q 'exit 9'
rm -rf "$CACHE"/exec-template-*
expect 0 $VMSILO exec --prepare --kernel "$T/vmlinuz" --initrd "$GUEST/initrd.gz"
[ "$(cat "$T/out")" = "$(templates)" ] || fail "--prepare printed '$(cat "$T/out")'"
expect 2 $X 'exit 2'
grep -q "building the exec template" "$T/err" && fail "--prepare did not build the template"

# a runtime dir on a tmpfs too small for the private copy of the guest's RAM (a small /run):
# the copy goes to /dev/shm, and the exec restores rather than failing half-way into a boot
# that rebuilds the template every time
mkdir -p "$T/smallrun"
mount -t tmpfs -o size=8m,mode=0755 vmsilo-test "$T/smallrun"
VMSILO_RUNTIME_DIR="$T/smallrun" expect 3 $X 'exit 3'
grep -q "did not restore\|building the exec template" "$T/err" &&
        { umount "$T/smallrun"; fail "a small tmpfs runtime dir broke the restore: $(cat "$T/err")"; }
[ -z "$(ls "$T/smallrun")" ] || { ls -la "$T/smallrun" >&2; umount "$T/smallrun"; fail "left run state"; }
umount "$T/smallrun"

assert_no_run_state
assert_no_processes
pgrep -f "virtiofsd.*$RUN/" >/dev/null && fail "virtiofsd left running"
true
